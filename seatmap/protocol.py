"""The seat-map WebSocket protocol's client commands and close codes (docs/websocket.md); the server's
frames are in seatmap/frames.py."""
from __future__ import annotations

from typing import Annotated

import msgspec

SeatIds = Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]], msgspec.Meta(min_length=1, max_length=100)]
Req = int | str | None             # echoed in the answer, so a client can match answers to requests

# Close codes of the server's own (4000-4999 are the application's, RFC 6455 7.4.2).
ROUND_DELETED = 4404, b"round deleted"   # (code, reason): the round was deleted


class Hold(msgspec.Struct, tag="hold", tag_field="type", forbid_unknown_fields=True):
    seat_ids: SeatIds
    req: Req = None


class Release(msgspec.Struct, tag="release", tag_field="type", forbid_unknown_fields=True):
    seat_ids: SeatIds
    req: Req = None


class SnapshotRequest(msgspec.Struct, tag="snapshot", tag_field="type", forbid_unknown_fields=True):
    req: Req = None


class Resume(msgspec.Struct, tag="resume", tag_field="type", forbid_unknown_fields=True):
    seq: int
    req: Req = None


Command = Hold | Release | SnapshotRequest | Resume
decode_command = msgspec.json.Decoder(Command).decode
