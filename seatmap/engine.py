"""The seat engine contract. Two engines implement it: in-process (one server) and Redis (many).

Every change to a round is one atomic step that updates seat states, bumps the round's `seq`
by one, keeps the delta for `resume`, and hands it to subscribers, so every subscriber sees
a round's deltas in the same order. A round is loaded from the database (its truth for
pending, sold and blocked seats) the first time the engine meets it, and again if the
engine lost it (a flushed Redis).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

from seatmap.model import Delta, HoldGranted, Snapshot

HISTORY = 1000     # deltas kept per round for `resume`


@dataclass
class RoundTruth:
    """What the database knows about a round."""
    pending: dict[int, int] = field(default_factory=dict)   # seat -> user
    sold: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)


Loader = Callable[[int], Awaitable[RoundTruth]]
Listener = Callable[[Delta], None]


class SeatEngine(Protocol):
    async def hold(self, round_id: int, user_id: int, seat_ids: list[int], *, ttl_ms: int, limit: int,
                   now_ms: int | None = None) -> HoldGranted:
        """All or nothing; re-holding your own seat extends it. Raises SeatUnavailable, HoldLimitExceeded."""

    async def release(self, round_id: int, user_id: int, seat_ids: list[int]) -> list[int]:
        """Release what this user holds of `seat_ids` (the rest is ignored); returns what was released."""

    async def sell(self, round_id: int, user_id: int, seat_ids: list[int]) -> None:
        """Seats became a pending reservation in the database: they are the user's, whatever the engine had."""

    async def settle(self, round_id: int, seat_ids: list[int]) -> None:
        """The reservation was paid: pending becomes sold (viewers see no change)."""

    async def free(self, round_id: int, seat_ids: list[int]) -> None:
        """The reservation ended (canceled, expired): its seats are available again."""

    async def block(self, round_id: int, seat_ids: list[int]) -> None: ...
    async def unblock(self, round_id: int, seat_ids: list[int]) -> None: ...

    async def snapshot(self, round_id: int) -> Snapshot: ...

    async def deltas_after(self, round_id: int, seq: int) -> list[Delta] | None:
        """The deltas after `seq`, or None when they are no longer all kept (send a snapshot)."""

    async def expire_due(self, now_ms: int | None = None) -> int:
        """Release every hold whose deadline has passed; safe to run anywhere at once. Returns how many."""

    async def subscribe(self, round_id: int, listener: Listener) -> None: ...
    async def unsubscribe(self, round_id: int, listener: Listener) -> None: ...

    async def forget(self, round_id: int) -> None:
        """Drop the engine's copy of a round (tests, and a round that was deleted)."""

    async def close(self) -> None: ...
