"""What a round's seat map is made of: states, deltas, snapshots. Knows nothing of HTTP or storage.

A seat the engine does not mention is available. The engine tracks only the others:
  held     by one user until a deadline, since a time (the engine is the truth for holds)
  pending  sold to one user whose reservation is not paid yet (counts toward their limit)
  sold     paid (the database is the truth for pending and sold seats)
  blocked  not for sale (an admin decision, kept in the database)
Viewers see pending as `sold`, and their own holds as `mine`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AVAILABLE, HELD, PENDING, SOLD, BLOCKED = "available", "held", "pending", "sold", "blocked"
MINE = "mine"
PublicState = Literal["available", "held", "sold", "blocked", "mine"]


@dataclass(frozen=True, slots=True)
class Change:
    seat_id: int
    state: str                 # available | held | pending | sold | blocked
    user_id: int | None = None  # the holder, for held and pending

    def public_state(self, viewer_id: int | None) -> str:
        """What one viewer is told: pending looks sold; a viewer's own hold is `mine`."""
        if self.state == HELD and viewer_id is not None and self.user_id == viewer_id:
            return MINE
        return SOLD if self.state == PENDING else self.state


@dataclass(frozen=True, slots=True)
class Delta:
    round_id: int
    seq: int
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class SeatState:
    state: str
    user_id: int | None = None
    expires_ms: int | None = None
    since_ms: int | None = None      # held: when the holder's continuous hold began (the hold cap)


@dataclass(frozen=True, slots=True)
class RoundDeleted:
    """Told to a round's subscribers when the round is deleted: nothing more will come."""
    round_id: int


@dataclass
class Snapshot:
    """The non-available seats of a round at `seq`."""
    round_id: int
    seq: int
    seats: dict[int, SeatState] = field(default_factory=dict)

    def apply(self, delta: Delta) -> None:
        for c in delta.changes:
            if c.state == AVAILABLE:
                self.seats.pop(c.seat_id, None)
            else:
                self.seats[c.seat_id] = SeatState(c.state, c.user_id)
        self.seq = delta.seq

    def public(self, all_seat_ids: list[int], viewer_id: int | None) -> dict[str, list[int]]:
        """Seat ids grouped by what `viewer_id` sees (docs/websocket.md's WebSocket snapshot)."""
        groups: dict[str, list[int]] = {AVAILABLE: [], HELD: [], SOLD: [], BLOCKED: [], MINE: []}
        for seat_id in all_seat_ids:
            s = self.seats.get(seat_id)
            if s is None:
                groups[AVAILABLE].append(seat_id)
            else:
                groups[Change(seat_id, s.state, s.user_id).public_state(viewer_id)].append(seat_id)
        return groups


@dataclass(frozen=True, slots=True)
class HoldGranted:
    seat_ids: tuple[int, ...]
    expires_ms: int


class SeatUnavailable(Exception):
    def __init__(self, seat_ids: list[int]):
        super().__init__(f"seats not available: {seat_ids}")
        self.seat_ids = seat_ids


class TooManyRequests(Exception):
    """The user has held or released as often as their rates allow; `retry_after_ms` until a window has room."""

    def __init__(self, retry_after_ms: int):
        super().__init__(f"too many holds and releases, again in {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


# A user's rates for holds and releases: (requests, window in ms) pairs, all of which must have room.
Rates = tuple[tuple[int, int], ...]


class HoldTimeExceeded(Exception):
    """The user has held these seats as long as one user may; `retry_after_ms` until they may again."""

    def __init__(self, seat_ids: list[int], retry_after_ms: int):
        super().__init__(f"held too long: {seat_ids}, again in {retry_after_ms} ms")
        self.seat_ids = seat_ids
        self.retry_after_ms = retry_after_ms


class NoSuchRound(Exception):
    """The round does not exist, or was deleted: the engine keeps nothing of it and refuses it."""

    def __init__(self, round_id: int):
        super().__init__(f"no such round: {round_id}")
        self.round_id = round_id


class EngineUnavailable(Exception):
    """The engine's store did not answer (a Redis that is down, a cluster master that hung before
    its replica took over): the step may or may not have been applied. Try again shortly."""


class HoldLimitExceeded(Exception):
    def __init__(self, limit: int, current: int):
        super().__init__(f"limit {limit}, already {current}")
        self.limit = limit
        self.current = current
