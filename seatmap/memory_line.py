"""The waiting line in process: the rules of lua/line_*.lua (seatmap/line.py), on one round's state
that the in-process engine keeps beside its seats. Each step runs without awaiting, so it is atomic."""
from __future__ import annotations

from collections import Counter, deque
from typing import Awaitable, Callable, Protocol

from seatmap.line import (ADMITTED, CLOSED, EXPIRED, MINUTE_MS, NONE, OWNER_RECHECK_MS, SOLD_OUT, WAITING, AddressFull,
                          Gate, LineFigures, NotAdmitted, Place, QueueNotOpen, SaleNotOpen)

Place_ = tuple[int, int]          # (user, serial): one place in line


class LineRound(Protocol):
    """What the line needs of the in-process engine's round (seatmap/memory.py)."""
    gate: Gate
    line: "LineState"
    owned: dict[int, set[int]]

    def sold_out(self) -> bool: ...


class LineState:
    """One round's line. Before the opening, places wait unordered with their draws; at the first
    step after it they are put in the order of their draws, and later joiners are appended."""

    def __init__(self):
        self.drawn: dict[Place_, float] = {}      # places taken before the opening: their draw
        self.order: list[Place_] = []             # once the sale opened: the line
        self.rank: dict[Place_, int] = {}
        self.place: dict[int, Place_] = {}        # user -> their place now
        self.address_of: dict[Place_, str] = {}
        self.addresses: Counter[str] = Counter()
        self.head = 0
        self.admitted: dict[int, int] = {}        # user -> the ms their admission runs until
        self.recent: deque[int] = deque()         # the ms of each admission of the last minute
        self.seen: dict[int, int] = {}
        self.done: dict[int, str] = {}
        self.serial = 0
        self.admitted_total = 0
        self.stepped_at: int | None = None      # the pace (lua/line_admit.lua)
        self.credit = 0.0

    def _settle(self, gate: Gate, now: int) -> None:
        """At the opening, the pre-queue takes its order."""
        if self.drawn and gate.is_open(now):
            for place in sorted(self.drawn, key=self.drawn.__getitem__):
                self.rank[place] = len(self.order)
                self.order.append(place)
            self.drawn.clear()

    def running(self, user: int, owned: int, now: int) -> bool:
        until = self.admitted.get(user)
        return until is not None and (until > now or owned > 0)

    def position(self, gate: Gate, user: int, now: int) -> int | None:
        self._settle(gate, now)
        place = self.place.get(user)
        if not gate.is_open(now) or place is None or self.rank[place] < self.head:
            return None
        return self.rank[place] - self.head + 1

    def last_minute(self, now: int) -> int:
        return sum(1 for t in self.recent if t > now - MINUTE_MS)

    def end(self, user: int, reason: str | None) -> None:
        place = self.place.pop(user, None)
        if place is not None and (address := self.address_of.pop(place, "")):
            self.addresses[address] -= 1
        self.admitted.pop(user, None)
        if reason:
            self.done[user] = reason
        else:
            self.done.pop(user, None)

    def answer(self, gate: Gate, user: int, owned: int, sold_out: bool, now: int) -> Place:
        self._settle(gate, now)

        def told(status: str, rank: int | None = None, until: int | None = None, reason: str | None = None) -> Place:
            return Place(status, rank, self.head, until, reason, gate.opens_ms, self.last_minute(now))
        if gate.line is None:
            return told(ADMITTED)
        if self.running(user, owned, now):
            return told(ADMITTED, until=self.admitted[user])
        place = self.place.get(user)
        if place is None:
            return told(CLOSED, reason=self.done[user]) if user in self.done else told(NONE)
        if not gate.is_open(now):
            return told(WAITING)
        rank = self.rank[place]
        if rank < self.head:
            return told(CLOSED, reason=EXPIRED)              # ran out, not yet swept
        return told(CLOSED, rank, reason=SOLD_OUT) if sold_out else told(WAITING, rank)

    def over(self, gate: Gate, user: int, owned: int, now: int) -> bool:
        """The user's place is over, though not yet swept (lua/line_prelude.lua over)."""
        if user in self.admitted:
            return not self.running(user, owned, now)
        self._settle(gate, now)
        return gate.is_open(now) and self.rank[self.place[user]] < self.head

    def join(self, gate: Gate, user: int, draw: float, address: str, address_cap: int, owned: int,
             now: int) -> None:
        if gate.line is not None and user in self.place and self.over(gate, user, owned, now):
            self.end(user, EXPIRED)
        if gate.line is None or user in self.place:
            return
        joins_from = gate.joins_from_ms()
        if joins_from is not None and now < joins_from:
            raise QueueNotOpen(joins_from)
        if address and address_cap and self.addresses[address] >= address_cap:
            raise AddressFull(address_cap)
        self._settle(gate, now)
        self.serial += 1
        place = (user, self.serial)
        if gate.is_open(now):
            self.rank[place] = len(self.order)
            self.order.append(place)
        else:
            self.drawn[place] = draw
        self.place[user] = place
        self.done.pop(user, None)
        if address:
            self.address_of[place] = address
            self.addresses[address] += 1

    def admit(self, gate: Gate, owned: Callable[[int], int], sold_out: bool, grace_ms: int, factor: float,
              budget: int, step_ms: int, now: int) -> int:
        rules = gate.line
        if rules is None or not gate.is_open(now):
            return 0
        self._settle(gate, now)
        for user, until in sorted(self.admitted.items(), key=lambda item: item[1])[:budget]:
            if until > now:
                break
            if owned(user) > 0:
                self.admitted[user] = now + OWNER_RECHECK_MS      # runs on while they own seats
            else:
                self.end(user, EXPIRED)
        while self.recent and self.recent[0] <= now - MINUTE_MS:
            self.recent.popleft()
        if sold_out:
            return 0
        rate = max(1, int(rules.admit_per_minute * factor))
        room = min(rules.max_active - len(self.admitted), rate - len(self.recent))
        if step_ms:
            since = step_ms if self.stepped_at is None else max(0, now - self.stepped_at)
            most = max(1.0, rate * step_ms / MINUTE_MS) * 2             # a pause does not save up a burst
            self.credit = min(self.credit + rate * since / MINUTE_MS, most)
            room = min(room, int(self.credit))
        admitted = looked = 0
        while room > 0 and self.head < len(self.order) and looked < budget:
            place = self.order[self.head]
            self.head += 1
            looked += 1
            user = place[0]
            if self.place.get(user) != place:             # they left, or have a newer place
                continue
            if self.seen.get(user, 0) + grace_ms < now:
                self.end(user, EXPIRED)
                continue
            self.admitted[user] = now + rules.session_ms
            self.recent.append(now)
            self.admitted_total += 1
            admitted += 1
            room -= 1
        if step_ms:
            self.stepped_at, self.credit = now, self.credit - admitted
        return admitted

    def figures(self, gate: Gate, now: int, sold_out: bool) -> LineFigures:
        return LineFigures(len(self.place) - len(self.admitted), len(self.admitted), self.admitted_total,
                           self.last_minute(now), self.head, sold_out, gate.opens_ms)


def gate_refusal(r: LineRound, user: int, now: int) -> Exception | None:
    """Why this user may not hold now, as lua/prelude.lua gate_refusal (None: they may)."""
    gate = r.gate
    if not gate.is_open(now):
        return SaleNotOpen(gate.opens_ms)
    if gate.line is not None and not r.line.running(user, len(r.owned.get(user, ())), now):
        return NotAdmitted(r.line.position(gate, user, now))
    return None


class MemoryLine:
    def __init__(self, round_of: Callable[[int], Awaitable[LineRound]], clock: Callable[[], int]):
        self._round = round_of
        self._clock = clock

    def _now(self, now_ms: int | None) -> int:
        return self._clock() if now_ms is None else now_ms

    @staticmethod
    def _answer(r: LineRound, user_id: int, now: int) -> Place:
        return r.line.answer(r.gate, user_id, len(r.owned.get(user_id, ())), r.sold_out(), now)

    async def join(self, round_id, user_id, *, draw, address, address_cap, now_ms=None) -> Place:
        r, now = await self._round(round_id), self._now(now_ms)
        r.line.join(r.gate, user_id, draw, address, address_cap, len(r.owned.get(user_id, ())), now)
        r.line.seen[user_id] = now
        return self._answer(r, user_id, now)

    async def place(self, round_id, user_id, now_ms=None) -> Place:
        r, now = await self._round(round_id), self._now(now_ms)
        if user_id in r.line.place:
            r.line.seen[user_id] = now
        return self._answer(r, user_id, now)

    async def places(self, round_id, user_ids, now_ms=None) -> list[Place]:
        r, now = await self._round(round_id), self._now(now_ms)
        return [self._answer(r, user_id, now) for user_id in user_ids]

    async def end(self, round_id, user_id, reason=None) -> None:
        (await self._round(round_id)).line.end(user_id, reason)

    async def touch(self, round_id, user_ids, now_ms=None) -> None:
        r, now = await self._round(round_id), self._now(now_ms)
        for user_id in user_ids:
            if user_id in r.line.place:
                r.line.seen[user_id] = now

    async def admit(self, round_id, *, grace_ms, rate_factor=1.0, budget=1000, step_ms=0, now_ms=None) -> int:
        r, now = await self._round(round_id), self._now(now_ms)
        return r.line.admit(r.gate, lambda user: len(r.owned.get(user, ())), r.sold_out(), grace_ms, rate_factor,
                            budget, step_ms, now)

    async def figures(self, round_id, now_ms=None) -> LineFigures:
        r = await self._round(round_id)
        return r.line.figures(r.gate, self._now(now_ms), r.sold_out())
