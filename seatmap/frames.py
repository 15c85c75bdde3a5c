"""The WebSocket protocol's server frames (docs/websocket.md), encoded once with msgspec."""
from __future__ import annotations

import struct
from itertools import accumulate
from typing import Any, NamedTuple

import msgspec

from seatmap.model import Delta, Snapshot

_encode = msgspec.json.Encoder().encode


def delta_frame(delta: Delta, viewer_id: int | None = None) -> bytes:
    return _encode({"type": "delta", "round_id": delta.round_id, "seq": delta.seq,
                    "changes": [[c.seat_id, c.public_state(viewer_id)] for c in delta.changes]})


def snapshot_frame(snapshot: Snapshot, seat_ids: list[int], viewer_id: int | None) -> bytes:
    return _encode({"type": "snapshot", "round_id": snapshot.round_id, "seq": snapshot.seq,
                    "seats": snapshot.public(seat_ids, viewer_id)})


def hold_result_frame(req: Any, *, seat_ids: list[int] | None = None, expires_at: Any = None,
                      error: dict | None = None) -> bytes:
    if error is not None:
        return _encode({"type": "hold_result", "req": req, "ok": False, "error": error})
    return _encode({"type": "hold_result", "req": req, "ok": True, "seat_ids": seat_ids, "expires_at": expires_at})


def round_deleted_frame(round_id: int) -> bytes:
    return _encode({"type": "round_deleted", "round_id": round_id})


def error_frame(error: dict) -> bytes:
    return _encode({"type": "error", "error": error})


def text_frame(payload: bytes) -> bytes:
    """A server-to-client WebSocket text frame (RFC 6455 5.2: final, unmasked, uncompressed). Built
    here rather than by aiohttp's send_frame so that a send's frames go out in one write, and the
    same bytes serve every socket."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Encoded(NamedTuple):
    """A delta with its frame for everyone, on the wire, made once as it arrives; and the users it
    involves, who get their own frame (they see `mine`)."""
    delta: Delta
    frame: bytes
    wire: bytes
    users: frozenset


def encoded_delta(delta: Delta) -> Encoded:
    frame = delta_frame(delta)
    return Encoded(delta, frame, text_frame(frame),
                   frozenset(c.user_id for c in delta.changes if c.user_id is not None))


class Batch:
    """The delta frames of one round from one send, going to many viewers: `wire` all of them framed
    for the wire, joined once and shared by every viewer it goes to. `involved` names, for each user
    some of the deltas involve, where they are; `own(user)` is what that user gets instead."""
    __slots__ = ("wire", "involved", "_waiting", "_user", "_ends", "_own")

    def __init__(self, waiting: list[Encoded], wire: bytes, user: int | None = None):
        self.wire = wire
        self.involved: dict[int, list[int]] = {}
        self._waiting = waiting
        self._user = user
        self._ends: list[int] | None = None
        self._own: dict[int, Batch] = {}

    @classmethod
    def of(cls, waiting: list[Encoded]) -> Batch:
        """The frames everyone gets."""
        batch = cls(waiting, b"".join([e.wire for e in waiting]))
        for position, encoded in enumerate(waiting):
            for user in encoded.users:
                batch.involved.setdefault(user, []).append(position)
        return batch

    def own(self, user: int) -> Batch:
        """What `user` (one of `involved`) gets: its own frame of each delta that involves it, and
        between them the shared bytes as they are. Made once per user: a user at the map who keeps
        holding is in nearly every send, and re-framing every delta for each of them was most of
        what a send cost in a busy round."""
        own = self._own.get(user)
        if own is not None:
            return own
        if self._ends is None:
            self._ends = list(accumulate(len(e.wire) for e in self._waiting))
        shared, parts, start = memoryview(self.wire), [], 0
        for position in self.involved[user]:
            encoded = self._waiting[position]
            parts.append(shared[start:self._ends[position] - len(encoded.wire)])
            parts.append(text_frame(delta_frame(encoded.delta, user)))
            start = self._ends[position]
        parts.append(shared[start:])
        own = self._own[user] = Batch(self._waiting, b"".join(parts), user)
        return own

    @property
    def frames(self) -> list[bytes]:
        """The payloads, in order (for viewers that take them one by one; sockets send `wire`)."""
        user = self._user
        return [delta_frame(e.delta, user) if user is not None and user in e.users else e.frame
                for e in self._waiting]
