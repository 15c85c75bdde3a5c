"""The WebSocket protocol's server frames (docs/websocket.md), encoded once with msgspec."""
from __future__ import annotations

from typing import Any, Callable

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


class Batch:
    """The delta frames of one round from one tick, going to many viewers. Their wire form (the
    WebSocket framing) is built once, by the first viewer that asks, and shared by the rest."""
    __slots__ = ("frames", "_wire")

    def __init__(self, frames: list[bytes]):
        self.frames = frames
        self._wire: bytes | None = None

    def wire(self, frame_on_wire: Callable[[bytes], bytes]) -> bytes:
        if self._wire is None:
            self._wire = b"".join(map(frame_on_wire, self.frames))
        return self._wire
