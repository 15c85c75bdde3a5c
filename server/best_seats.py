"""Best seats for me: which `count` available seats to offer, in the order seats.io documents —
together in one row, nearest the stage's centre, never leaving a single empty seat between taken
ones (or a row's end) when another choice exists; then together across the fewest (adjacent) rows;
then simply the nearest seats.

A function of the layout and what is taken: the hold that follows is the atomic part (and a lost race
is chosen again, server/seating.py, with a `spread`: one of the few next-best choices at random, so
that two instances picking at once for their askers stop landing on the same seats). The stage is taken to be in front of the hall's
first row, at its horizontal centre (layouts have y growing away from the stage).
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Iterable

from server.schemas.catalogue import SeatOut as Seat      # a hall's seat: id, section, row, number, x, y, grade


def stage_of(seats: Iterable[Seat]) -> tuple[float, float]:
    seats = list(seats)
    xs = [s.x for s in seats]
    return (min(xs) + max(xs)) / 2, min(s.y for s in seats) - 1


def choose(seats: list[Seat], free: set[int], count: int, *, grade: str | None = None,
           section: str | None = None, spread: int = 0) -> list[int] | None:
    """The best `count` seats among `free` (None: not that many); with a `spread`, one of the best
    `spread + 1` choices of the same kind, at random."""
    stage = stage_of(seats)
    rows: dict[tuple[str, int], list[Seat]] = defaultdict(list)
    for seat in seats:
        rows[(seat.section, seat.row)].append(seat)
    for row in rows.values():
        row.sort(key=lambda s: s.number)
    wanted = [s for s in seats if s.id in free and (grade is None or s.grade == grade)
              and (section is None or s.section == section)]
    if len(wanted) < count:
        return None
    wanted_ids = {s.id for s in wanted}

    def distance(group: list[Seat]) -> float:
        return math.dist((sum(s.x for s in group) / len(group), sum(s.y for s in group) / len(group)), stage)

    def runs(row: list[Seat], size: int) -> list[list[Seat]]:
        """Windows of `size` wanted seats side by side (consecutive numbers) in a row: the windows of
        each stretch of wanted seats, found in one pass."""
        out, stretch = [], []
        for seat in row + [None]:                        # (None closes the last stretch)
            if seat is not None and seat.id in wanted_ids and (not stretch or seat.number == stretch[-1].number + 1):
                stretch.append(seat)
                continue
            out.extend(stretch[i:i + size] for i in range(len(stretch) - size + 1))
            stretch = [seat] if seat is not None and seat.id in wanted_ids else []
        return out

    free_numbers = {key: {s.number for s in row if s.id in free} for key, row in rows.items()}

    def leaves_a_single(key: tuple[str, int], window: list[Seat]) -> bool:
        """Taking `window` leaves a free seat with no free neighbour (a row's end counts as taken)."""
        first, last = window[0].number, window[-1].number

        def is_free(number: int) -> bool:
            return number in free_numbers[key] and not first <= number <= last
        for edge in (first - 1, last + 1):
            if is_free(edge) and not is_free(edge - 1) and not is_free(edge + 1):
                return True
        return False

    def pick(choices: list[tuple]) -> list[int]:
        """The best choice (a tuple ending in its seat ids), or with a spread one of the next best that
        is as good by every rule but distance (the first of the tuple's keys before it)."""
        if not spread:
            return min(choices)[-1]
        ranked = sorted(choices)
        alike = [c for c in ranked[:spread + 1] if c[:-2] == ranked[0][:-2]]
        return random.choice(alike)[-1]

    one_row = [(leaves_a_single(key, w), distance(w), [s.id for s in w])
               for key, row in rows.items() for w in runs(row, count)]
    if one_row:
        return pick(one_row)
    def one_above_the_other(front: list[Seat], back: list[Seat], row: list[Seat]) -> bool:
        """Whether two runs of neighbouring rows sit one behind the other (their spans overlap, or miss
        by less than a seat's width), not at opposite ends of the rows."""
        pitch = abs(row[1].x - row[0].x) if len(row) > 1 else 1
        return (min(s.x for s in back) - pitch < max(s.x for s in front)
                and min(s.x for s in front) - pitch < max(s.x for s in back))

    two_rows = [(distance(front + back), [s.id for s in front + back])
                for (sec, number), row in rows.items() if (sec, number + 1) in rows
                for split in range(1, count)
                for front in runs(row, split) for back in runs(rows[(sec, number + 1)], count - split)
                if one_above_the_other(front, back, row)]
    if two_rows:
        return pick(two_rows)
    nearest = sorted(wanted, key=lambda s: distance([s]))
    start = random.randrange(min(spread, len(nearest) - count) + 1) if spread else 0
    return [s.id for s in nearest[start:start + count]]
