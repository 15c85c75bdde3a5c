"""The WebSocket protocol's server frames (docs/websocket.md), encoded once with msgspec."""
from __future__ import annotations

import struct
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
    """The delta frames of one round from one send, going to many viewers: `frames` the payloads,
    `wire` all of them framed for the wire, joined once and shared by every viewer it goes to."""
    __slots__ = ("frames", "wire")

    def __init__(self, frames: list[bytes], wire: bytes):
        self.frames = frames
        self.wire = wire

    @classmethod
    def of(cls, waiting: list[Encoded], user: int | None = None) -> Batch:
        """The frames everyone gets, or (given `user`) what that user gets: its own frame of each
        delta that involves it."""
        if user is None:
            return cls([e.frame for e in waiting], b"".join([e.wire for e in waiting]))
        frames = [delta_frame(e.delta, user) if user in e.users else e.frame for e in waiting]
        return cls(frames, b"".join(map(text_frame, frames)))
