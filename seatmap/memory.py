"""The in-process engine: a real single-node engine with the same guarantees as the Redis one,
for one server process. Each operation runs without awaiting in between, so it is atomic."""
from __future__ import annotations

import asyncio
import heapq
import time
from collections import defaultdict, deque
from typing import NamedTuple

from seatmap.engine import ExpiredHold, HISTORY, Listener, Loader
from seatmap.line import Gate, newer
from seatmap.memory_line import LineState, MemoryLine, gate_refusal
from seatmap.model import (AVAILABLE, BLOCKED, HELD, PENDING, SOLD, Change, Delta, HoldGranted,
                           HoldLimitExceeded, HoldTimeExceeded, NoSuchRound, RoundDeleted, SeatState,
                           SeatUnavailable, Snapshot, Rates, TooManyRequests)
from server.request_ids import shared_task


def clock_ms() -> int:
    return time.time_ns() // 1_000_000


def clock_us() -> int:
    return time.time_ns() // 1_000


class LastHold(NamedTuple):
    user_id: int
    since_ms: int
    ended_ms: int


class _Round:
    def __init__(self, round_id: int, seq: int):
        self.round_id = round_id
        self.seq = seq
        self.seats: dict[int, SeatState] = {}
        self.owned: dict[int, set[int]] = defaultdict(set)     # user -> held and pending seats
        self.log: deque[Delta] = deque(maxlen=HISTORY)
        self.last: dict[int, LastHold] = {}                     # seat -> its last holder, once the hold ended
        self.requests: dict[int, deque[int]] = {}               # user -> hold and release times, newest first
        self.requests_swept = 0
        self.held = 0                                           # seats held now
        self.gate = Gate()
        self.line = LineState()

    def sold_out(self) -> bool:
        """No seat is available or held (lua/prelude.lua sold_out)."""
        return self.gate.seats_total > 0 and len(self.seats) - self.held >= self.gate.seats_total

    def count_request(self, user_id: int, rates: Rates, now: int) -> None:
        """The moving window of lua/prelude.lua count_request: raises TooManyRequests (nothing
        recorded) unless every rate has room, then records the request."""
        if not rates:
            return
        longest = max(window for _, window in rates)
        if now - self.requests_swept > longest:    # (what Redis's expiry of the key does: forget idle users)
            self.requests = {user: t for user, t in self.requests.items() if t[0] > now - longest}
            self.requests_swept = now
        times = self.requests.setdefault(user_id, deque())
        for amount, window in rates:
            if len(times) >= amount and times[amount - 1] > now - window:
                raise TooManyRequests(times[amount - 1] + window - now)
        times.appendleft(now)
        while len(times) > max(amount for amount, _ in rates):
            times.pop()

    def hold_began(self, seat_id: int, user_id: int, now: int, cooldown_ms: int) -> tuple[int, int | None]:
        """When this user's continuous hold on the seat began, and when it ends or ended (None: it
        begins now). A hold that ended less than the cooldown ago carries on."""
        st = self.seats.get(seat_id)
        if st is not None:                                      # held by this user (checked before)
            return st.since_ms, st.expires_ms
        last = self.last.get(seat_id)
        if last is not None and last.user_id == user_id and last.ended_ms + cooldown_ms > now:
            return last.since_ms, last.ended_ms
        return now, None

    def end_hold(self, seat_id: int, ended_ms: int) -> Change:
        st = self.seats[seat_id]
        self.last[seat_id] = LastHold(st.user_id, st.since_ms, ended_ms)
        return self.set(seat_id, None)

    def set(self, seat_id: int, new: SeatState | None) -> Change:
        old = self.seats.get(seat_id)
        if old is not None and old.user_id is not None:
            self.owned[old.user_id].discard(seat_id)
        self.held += (new is not None and new.state == HELD) - (old is not None and old.state == HELD)
        if new is None:
            self.seats.pop(seat_id, None)
            return Change(seat_id, AVAILABLE)
        self.seats[seat_id] = new
        if new.user_id is not None:
            self.owned[new.user_id].add(seat_id)
        return Change(seat_id, new.state, new.user_id)


class MemoryEngine:
    def __init__(self, loader: Loader):
        self._loader = loader
        self._rounds: dict[int, _Round] = {}
        self._loading: dict[int, asyncio.Task] = {}
        self._deadlines: list[tuple[int, int, int]] = []      # (expires_ms, round, seat), a heap
        self._listeners: dict[int, list[Listener]] = defaultdict(list)
        self._forgotten_seq: dict[int, int] = {}
        self.line = MemoryLine(self._round, clock_ms)
        self._gates: dict[int, Gate] = {}          # set for rounds not loaded yet

    async def _round(self, round_id: int) -> _Round:
        r = self._rounds.get(round_id)
        if r is None:
            loading = self._loading.get(round_id)
            if loading is None:                   # one load per round, whoever else is waiting for it
                loading = self._loading[round_id] = shared_task(self._load(round_id))
            r = await asyncio.shield(loading)
        return r

    async def _load(self, round_id: int) -> _Round:
        try:
            truth = await self._loader(round_id)
        finally:
            # drop() takes the load away: what it read may be from before the round was deleted.
            current = self._loading.get(round_id) is asyncio.current_task()
            if current:
                del self._loading[round_id]
        if truth is None or not current:
            raise NoSuchRound(round_id)
        # seq starts at the clock in microseconds, like in Redis, and never goes back.
        r = _Round(round_id, max(clock_us(), self._forgotten_seq.pop(round_id, 0)))
        r.gate = newer(truth.gate, self._gates.pop(round_id, None))
        for seat_id, state in truth.states().items():
            r.set(seat_id, state)
        self._rounds[round_id] = r
        # As in Redis: an empty delta says "rebuilt"; subscribers' seq jumps and they resync.
        for listener in list(self._listeners.get(round_id, ())):
            listener(Delta(round_id, r.seq, ()))
        return r

    def _emit(self, r: _Round, changes: list[Change]) -> None:
        if not changes:
            return
        r.seq += 1
        delta = Delta(r.round_id, r.seq, tuple(changes))
        r.log.append(delta)
        for listener in list(self._listeners.get(r.round_id, ())):
            listener(delta)

    async def hold(self, round_id, user_id, seat_ids, *, ttl_ms, limit, max_hold_ms=0, cooldown_ms=0, rates=(),
                   now_ms=None) -> HoldGranted:
        r = await self._round(round_id)
        now = clock_ms() if now_ms is None else now_ms
        if refusal := gate_refusal(r, user_id, now):
            raise refusal
        r.count_request(user_id, rates, now)
        seat_ids = list(dict.fromkeys(seat_ids))
        taken = [s for s in seat_ids if (st := r.seats.get(s)) is not None
                 and not (st.state == HELD and st.user_id == user_id)]
        if taken:
            raise SeatUnavailable(taken)
        began = {s: r.hold_began(s, user_id, now, cooldown_ms) for s in seat_ids}
        if max_hold_ms:
            over = [s for s in seat_ids if began[s][0] + max_hold_ms <= now]
            if over:
                raise HoldTimeExceeded(over, max(0, max(began[s][1] for s in over) + cooldown_ms - now))
        owned = r.owned.get(user_id, set())
        new = [s for s in seat_ids if s not in owned]
        if len(owned) + len(new) > limit:
            raise HoldLimitExceeded(limit, len(owned))
        changes = []
        for s in seat_ids:
            since = began[s][0]
            expires = min(now + ttl_ms, since + max_hold_ms) if max_hold_ms else now + ttl_ms
            changes.append(r.set(s, SeatState(HELD, user_id, expires, since)))
            r.last.pop(s, None)                   # the seat has a holder again: the old one is history
            heapq.heappush(self._deadlines, (expires, round_id, s))
        self._emit(r, changes)
        return HoldGranted(tuple(seat_ids), min(r.seats[s].expires_ms for s in seat_ids))

    async def release(self, round_id, user_id, seat_ids, *, rates=(), now_ms=None) -> list[int]:
        r = await self._round(round_id)
        now = clock_ms() if now_ms is None else now_ms
        r.count_request(user_id, rates, now)
        mine = [s for s in dict.fromkeys(seat_ids)
                if (st := r.seats.get(s)) is not None and st.state == HELD and st.user_id == user_id]
        self._emit(r, [r.end_hold(s, now) for s in mine])
        return mine

    async def sell(self, round_id, user_id, seat_ids) -> None:
        r = await self._round(round_id)
        self._emit(r, [r.set(s, SeatState(PENDING, user_id)) for s in seat_ids
                       if r.seats.get(s) != SeatState(PENDING, user_id)])

    async def settle(self, round_id, seat_ids) -> None:
        r = await self._round(round_id)
        # Pending and sold look the same to viewers: the state changes, no delta is due.
        for s in seat_ids:
            if (st := r.seats.get(s)) is not None and st.state == PENDING:
                r.set(s, SeatState(SOLD))

    async def free(self, round_id, seat_ids) -> None:
        r = await self._round(round_id)
        self._emit(r, [r.set(s, None) for s in seat_ids
                       if (st := r.seats.get(s)) is not None and st.state in (PENDING, SOLD)])

    async def set_gate(self, round_id, gate) -> None:
        r = self._rounds.get(round_id)
        if r is not None:
            r.gate = newer(gate, r.gate)
        else:
            self._gates[round_id] = newer(gate, self._gates.get(round_id))

    async def block(self, round_id, seat_ids) -> int:
        r = await self._round(round_id)
        sold = [s for s in seat_ids if (st := r.seats.get(s)) is not None and st.state in (PENDING, SOLD)]
        if sold:
            raise SeatUnavailable(sold)        # a sold seat cannot be blocked; a held one can
        seats = dict.fromkeys(seat_ids)
        held = sum(1 for s in seats if (st := r.seats.get(s)) is not None and st.state == HELD)
        self._emit(r, [r.set(s, SeatState(BLOCKED)) for s in seats
                       if (st := r.seats.get(s)) is None or st.state == HELD])
        return held

    async def unblock(self, round_id, seat_ids) -> None:
        r = await self._round(round_id)
        self._emit(r, [r.set(s, None) for s in seat_ids
                       if (st := r.seats.get(s)) is not None and st.state == BLOCKED])

    async def repair(self, round_id, truth, seen_seq) -> bool:
        r = await self._round(round_id)
        if r.seq != seen_seq:
            return False
        target = truth.states()
        changes = [r.set(s, None) for s, st in list(r.seats.items()) if st.state != HELD and s not in target]
        changes += [r.set(s, st) for s, st in target.items() if r.seats.get(s) != st]
        self._emit(r, changes)
        return True

    async def snapshot(self, round_id) -> Snapshot:
        r = await self._round(round_id)
        return Snapshot(round_id, r.seq, dict(r.seats))

    async def deltas_after(self, round_id, seq) -> list[Delta] | None:
        r = await self._round(round_id)
        if seq == r.seq:
            return []
        if seq > r.seq or not r.log or r.log[0].seq > seq + 1:
            return None
        return [d for d in r.log if d.seq > seq]

    async def expire_due(self, now_ms=None) -> list[ExpiredHold]:
        now = clock_ms() if now_ms is None else now_ms
        due: dict[int, list[int]] = defaultdict(list)
        expired: list[ExpiredHold] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            expires, round_id, seat_id = heapq.heappop(self._deadlines)
            r = self._rounds.get(round_id)
            st = r.seats.get(seat_id) if r else None
            # A hold that was extended has a later deadline of its own in the heap.
            if st is not None and st.state == HELD and st.expires_ms == expires:
                due[round_id].append(seat_id)
                expired.append(ExpiredHold(round_id, seat_id, st.user_id))
        for round_id, seat_ids in due.items():
            r = self._rounds[round_id]
            self._emit(r, [r.end_hold(s, r.seats[s].expires_ms) for s in seat_ids])
        return expired

    async def subscribe(self, round_id, listener) -> None:
        self._listeners[round_id].append(listener)

    async def unsubscribe(self, round_id, listener) -> None:
        listeners = self._listeners.get(round_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(round_id, None)

    async def forget(self, round_id) -> None:
        r = self._rounds.pop(round_id, None)
        if r is not None:
            self._forgotten_seq[round_id] = r.seq

    async def drop(self, round_id) -> None:
        # Nothing of the round stays: its deadlines in the heap find no round and are skipped.
        self._rounds.pop(round_id, None)
        self._forgotten_seq.pop(round_id, None)
        self._loading.pop(round_id, None)
        self._gates.pop(round_id, None)
        for listener in list(self._listeners.get(round_id, ())):
            listener(RoundDeleted(round_id))

    async def close(self) -> None:
        self._listeners.clear()
