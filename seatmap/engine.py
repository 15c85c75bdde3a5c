"""The seat engine contract. Two engines implement it: in-process (one server) and Redis (many).

Every change to a round is one atomic step that updates seat states, bumps the round's `seq`
by one, keeps the delta for `resume`, and hands it to subscribers, so every subscriber sees
a round's deltas in the same order. A round is loaded from the database (its truth for
pending, sold and blocked seats) the first time the engine meets it, and again if the
engine lost it (a flushed Redis); a load is announced to subscribers as a delta with no changes
at the new seq, so they know to take a fresh snapshot.

A round the database does not have (the loader answers None) is refused with NoSuchRound. A deleted
round is dropped: the engine forgets it at once, its subscribers are told (RoundDeleted), and a load
that read the database before the deletion cannot bring it back. An engine whose store is away (a
Redis that does not answer) raises EngineUnavailable; whether that step was applied is not known.

Holds are capped: re-holding a seat extends it by the TTL, but never past `max_hold_ms` after the
user's continuous hold on it began. When a hold ends (released or expired) the seat remembers its
last holder; the same user holding it again within `cooldown_ms` carries on from the old start (so
release-and-hold does not restart the clock), and once the cap is reached is refused
(HoldTimeExceeded) until the cooldown after the hold ended has passed. Others may take it meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, NamedTuple, Protocol

from seatmap.line import Gate, WaitingLine
from seatmap.model import BLOCKED, PENDING, SOLD, Delta, HoldGranted, Rates, RoundDeleted, SeatState, Snapshot

HISTORY = 1000     # deltas kept per round for `resume`


@dataclass
class RoundTruth:
    """What the database knows about a round."""
    pending: dict[int, int] = field(default_factory=dict)   # seat -> user
    sold: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    gate: Gate = Gate()

    def states(self) -> dict[int, SeatState]:
        """The seats the database owns the state of, as the engine keeps them."""
        states = {seat: SeatState(PENDING, user) for seat, user in self.pending.items()}
        states.update((seat, SeatState(SOLD)) for seat in self.sold)
        states.update((seat, SeatState(BLOCKED)) for seat in self.blocked)
        return states


class ExpiredHold(NamedTuple):
    round_id: int
    seat_id: int
    user_id: int


Loader = Callable[[int], Awaitable[RoundTruth | None]]      # None: no such round
Listener = Callable[[Delta | RoundDeleted | None], None]    # None: deltas may have been lost


class SeatEngine(Protocol):
    line: WaitingLine        # the round's waiting line, kept beside its seats (seatmap/line.py)

    async def hold(self, round_id: int, user_id: int, seat_ids: list[int], *, ttl_ms: int, limit: int,
                   max_hold_ms: int = 0, cooldown_ms: int = 0, rates: Rates = (),
                   now_ms: int | None = None) -> HoldGranted:
        """All or nothing; re-holding your own seat extends it, up to `max_hold_ms` (0: no cap) after
        the hold began. `expires_ms` is the earliest deadline of the seats. Raises TooManyRequests
        (the user's holds and releases in this round over one of `rates`, counted in the same atomic
        step), SeatUnavailable, HoldTimeExceeded, HoldLimitExceeded (checked in that order), after the
        gate: SaleNotOpen, NotAdmitted (seatmap/line.py)."""

    async def release(self, round_id: int, user_id: int, seat_ids: list[int], *, rates: Rates = (),
                      now_ms: int | None = None) -> list[int]:
        """Release what this user holds of `seat_ids` (the rest is ignored); returns what was released.
        Counted against `rates` like a hold (TooManyRequests)."""

    async def sell(self, round_id: int, user_id: int, seat_ids: list[int]) -> None:
        """Seats became a pending reservation in the database: they are the user's, whatever the engine had."""

    async def settle(self, round_id: int, seat_ids: list[int]) -> None:
        """The reservation was paid: pending becomes sold (viewers see no change)."""

    async def free(self, round_id: int, seat_ids: list[int]) -> None:
        """The reservation ended (canceled, expired): its seats are available again."""

    async def set_gate(self, round_id: int, gate: Gate) -> None:
        """The round's sale opening or waiting room changed: holds check it at once, unless the engine
        has a newer version. Never loads the round (the caller is inside the database transaction
        that made the change); a round loaded later keeps the newer of this and what it read."""

    async def block(self, round_id: int, seat_ids: list[int]) -> int:
        """Not for sale from now on; SeatUnavailable for sold ones. Returns how many were held (their
        holds end)."""
    async def unblock(self, round_id: int, seat_ids: list[int]) -> None: ...

    async def snapshot(self, round_id: int) -> Snapshot: ...

    async def repair(self, round_id: int, truth: RoundTruth, seen_seq: int) -> bool:
        """Make pending, sold and blocked seats match `truth` (read from the database after the
        caller saw `seen_seq`), for when a process died between its database commit and its engine
        call. Holds the database does not contradict are kept. Only if the round is still at
        `seen_seq`: a change meanwhile may be the missing call arriving, so False means "look again"."""

    async def deltas_after(self, round_id: int, seq: int) -> list[Delta] | None:
        """The deltas after `seq`, or None when they are no longer all kept (send a snapshot)."""

    async def expire_due(self, now_ms: int | None = None) -> list[ExpiredHold]:
        """Release every hold whose deadline has passed; safe to run anywhere at once (each hold is
        expired by one sweeper). Returns what this call expired, so its holders can be told."""

    async def subscribe(self, round_id: int, listener: Listener) -> None: ...
    async def unsubscribe(self, round_id: int, listener: Listener) -> None: ...

    async def forget(self, round_id: int) -> None:
        """Lose the engine's copy of a round, as a flushed Redis does (tests): the next call reloads it."""

    async def drop(self, round_id: int) -> None:
        """The round was deleted from the database: forget everything about it, tell its subscribers
        (RoundDeleted), and refuse it from now on (NoSuchRound), on every instance."""

    async def close(self) -> None: ...
