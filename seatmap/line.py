"""A round's gate and waiting line, as the seat engine keeps them beside the round's seats.

The gate is what a hold checks before anything else: not before the sale opens, and, when the
round has a waiting room, only while the user's admission runs. Keeping it (and the admissions)
in the same atomic step as the hold is what makes the check exact: on Redis it is read inside the
hold script, in the round's hash slot; in process, in the same uninterrupted step.

The line: one place per user. Joining before the opening draws an order key in [0, 1) (the
pre-queue: at the opening they stand in the order of their keys, a random order); later joiners
follow in the order they came. `head` counts the places the admission has passed; a waiting
user's position is their rank minus the head, plus one. Each admission step (any instance, at
any time) ends the admissions that ran out, then admits from the head while the admissions
running stay within `max_active` and those of the last minute within `admit_per_minute`
(scaled by the caller's rate factor), paced over the minute, skipping places whose user left or
was not seen for the grace period. Nobody is admitted while no seat is available or held.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

WAITING, ADMITTED, CLOSED, NONE = "waiting", "admitted", "closed", "none"
SOLD_OUT, EXPIRED, FINISHED = "sold_out", "expired", "finished"       # why a place is closed
MINUTE_MS = 60_000
# An admission whose time is up while its user still owns seats runs on; it is looked at again
# after this long.
OWNER_RECHECK_MS = 5_000


@dataclass(frozen=True, slots=True)
class LineRules:
    """A waiting room's rules, in the engine's units."""
    prequeue_ms: int
    max_active: int
    admit_per_minute: int
    session_ms: int


@dataclass(frozen=True, slots=True)
class Gate:
    opens_ms: int | None = None        # None: on sale
    line: LineRules | None = None      # None: no waiting room
    seats_total: int = 0               # the round's seats, for "sold out"
    # Goes up with every change (rounds.gate_version): an engine keeps the newest gate it was given,
    # whether by a change or by a load that read the database before the change committed.
    version: int = 0

    def is_open(self, now_ms: int) -> bool:
        return self.opens_ms is None or now_ms >= self.opens_ms

    def joins_from_ms(self) -> int | None:
        """When joining the line opens (None: it is open)."""
        if self.opens_ms is None or self.line is None:
            return None
        return self.opens_ms - self.line.prequeue_ms


def newer(gate: Gate, other: Gate | None) -> Gate:
    return gate if other is None or gate.version >= other.version else other


@dataclass(frozen=True, slots=True)
class Place:
    """A user's place, as they are told it."""
    status: str                    # none | waiting | admitted | closed
    rank: int | None               # in line order from 0; None before the opening (the draw is not told)
    head: int
    admitted_until_ms: int | None
    reason: str | None             # closed: sold_out | expired | finished
    opens_ms: int | None
    admitted_last_minute: int

    @property
    def position(self) -> int | None:
        """1 for the next to be admitted."""
        if self.status not in (WAITING, CLOSED) or self.rank is None or self.rank < self.head:
            return None
        return self.rank - self.head + 1


@dataclass(frozen=True, slots=True)
class LineFigures:
    waiting: int
    active: int
    admitted_total: int
    admitted_last_minute: int
    head: int
    sold_out: bool
    opens_ms: int | None          # the gate's, now


class SaleNotOpen(Exception):
    def __init__(self, opens_ms: int):
        super().__init__(f"the sale opens at {opens_ms}")
        self.opens_ms = opens_ms


class NotAdmitted(Exception):
    def __init__(self, position: int | None):
        super().__init__(f"not admitted (position {position})")
        self.position = position


class QueueNotOpen(Exception):
    def __init__(self, opens_ms: int):
        super().__init__(f"the queue opens at {opens_ms}")
        self.opens_ms = opens_ms


class AddressFull(Exception):
    """The client address has as many places in this round's line as one address may."""

    def __init__(self, cap: int):
        super().__init__(f"{cap} places from this address")
        self.cap = cap


class WaitingLine(Protocol):
    async def join(self, round_id: int, user_id: int, *, draw: float, address: str, address_cap: int,
                   now_ms: int | None = None) -> Place:
        """Take a place, or keep the one the user has. `draw` in [0, 1) orders the pre-queue (the same
        user must get the same draw: a rejoin then keeps its order even where the line was lost).
        Raises QueueNotOpen before joining opens, AddressFull over `address_cap` (0: no cap). Without
        a waiting room the user is told `admitted` (with no end)."""

    async def place(self, round_id: int, user_id: int, now_ms: int | None = None) -> Place:
        """The user's place; a sign of life, like `touch`."""

    async def places(self, round_id: int, user_ids: list[int], now_ms: int | None = None) -> list[Place]:
        """Many users' places at once (the queue sockets'); not a sign of life."""

    async def end(self, round_id: int, user_id: int, reason: str | None = None) -> None:
        """The user's place or admission ends: they left (None) or paid (FINISHED)."""

    async def touch(self, round_id: int, user_ids: list[int], now_ms: int | None = None) -> None:
        """These users are still there (their queue sockets are open)."""

    async def admit(self, round_id: int, *, grace_ms: int, rate_factor: float = 1.0, budget: int = 1000,
                    step_ms: int = 0, now_ms: int | None = None) -> int:
        """One admission step (see the module); how many it admitted. With `step_ms` (how often steps
        come) admissions are paced: a step admits what the rate allows for the time since the last
        step, so a minute's allowance comes in a steady stream rather than all at once."""

    async def figures(self, round_id: int, now_ms: int | None = None) -> LineFigures: ...
