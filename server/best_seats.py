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

import heapq
import math
import random
from collections import defaultdict
from typing import Callable, Iterable

from server.schemas.catalogue import SeatOut as Seat      # a hall's seat: id, section, row, number, x, y, grade


class Hall:
    """A hall's seats as `choose` looks at them, arranged once per layout: each row in seat-number order,
    the stage, and the rows nearest the stage first (by their seat nearest it: no group of a row's
    seats can be nearer than that, which lets a look stop before the far rows)."""

    def __init__(self, seats: Iterable[Seat]):
        self.seats = list(seats)
        xs = [s.x for s in self.seats]
        self.stage = ((min(xs) + max(xs)) / 2, min(s.y for s in self.seats) - 1)
        rows: dict[tuple[str, int], list[Seat]] = defaultdict(list)
        for seat in self.seats:
            rows[(seat.section, seat.row)].append(seat)
        for row in rows.values():
            row.sort(key=lambda s: s.number)
        self.rows = dict(rows)
        # The stage is in front of every seat: a group is at least as far from it as its nearest seat's y.
        self.nearest_first = sorted((min(s.y for s in row) - self.stage[1], key) for key, row in self.rows.items())


def choose(hall: Hall, free: set[int], count: int, *, grade: str | None = None,
           section: str | None = None, spread: int = 0) -> list[int] | None:
    """The best `count` seats among `free` (None: not that many); with a `spread`, one of the best
    `spread + 1` choices of the same kind, at random."""
    seats, stage, rows = hall.seats, hall.stage, hall.rows
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

    free_numbers: dict[tuple[str, int], set[int]] = {}      # of the rows looked at


    def leaves_a_single(key: tuple[str, int], window: list[Seat]) -> bool:
        """Taking `window` leaves a free seat with no free neighbour (a row's end counts as taken)."""
        first, last = window[0].number, window[-1].number
        numbers = free_numbers.get(key)
        if numbers is None:
            numbers = free_numbers[key] = {s.number for s in rows[key] if s.id in free}

        def is_free(number: int) -> bool:
            return number in numbers and not first <= number <= last
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

    one_row = one_row_choices(hall, spread + 1, lambda key: [
        (leaves_a_single(key, w), distance(w), [s.id for s in w]) for w in runs(rows[key], count)])
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


def one_row_choices(hall: Hall, needed: int, choices_in: Callable[[tuple[str, int]], list[tuple]]) -> list[tuple]:
    """The choices of one row each (tuples of: leaves a single, distance, seat ids), from the rows nearest
    the stage back, until the rows left cannot hold one among the best `needed`: once `needed` choices
    leave no single seat, a row whose nearest seat is further than the last of them has only worse ones."""
    found, clean = [], []                               # clean: the distances of choices leaving no single
    for nearest, key in hall.nearest_first:
        if len(clean) >= needed and nearest > heapq.nsmallest(needed, clean)[-1]:
            break
        row_choices = choices_in(key)
        found.extend(row_choices)
        clean.extend(distance for single, distance, _ in row_choices if not single)
    return found
