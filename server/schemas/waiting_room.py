"""The waiting room's requests and answers (docs/API.md "Waiting room")."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.schemas.common import Request

Minutes = Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)]
Count = Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]
Seconds = Annotated[int, msgspec.Meta(ge=1, le=24 * 3600)]
PREQUEUE_MINUTES, SESSION_SECONDS = 30, 600


class WaitingRoomIn(Request):
    enabled: bool
    max_active: Count
    admit_per_minute: Count
    prequeue_minutes: Minutes = PREQUEUE_MINUTES
    session_seconds: Seconds = SESSION_SECONDS


class WaitingRoomOut(msgspec.Struct):
    round_id: int
    enabled: bool
    prequeue_minutes: int
    max_active: int | None          # None until an admin set the room up
    admit_per_minute: int | None
    session_seconds: int
    waiting: int
    active: int
    admitted_total: int
    admitted_last_minute: int
    effective_admit_per_minute: int  # admit_per_minute as this instance slows it while holds struggle
    sale_opens_at: datetime | None


class QueueOut(msgspec.Struct):
    status: Literal["none", "waiting", "admitted", "closed"]
    position: int | None
    ahead: int | None
    eta_seconds: int | None
    opens_at: datetime | None
    admitted_until: datetime | None
    reason: Literal["sold_out", "expired", "finished"] | None
    server_time: datetime


class QueueFrame(QueueOut, tag="queue", tag_field="type"):
    """`/ws/rounds/{id}/queue`'s frame (docs/websocket.md): a place, and the admission's head."""
    serving: int = 0
