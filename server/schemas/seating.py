from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from seatmap.protocol import SeatIds
from server.schemas.catalogue import SeatOut
from server.schemas.common import Request


class SeatIdsRequest(Request):
    seat_ids: SeatIds


class RoundSeatOut(SeatOut, kw_only=True):
    price: int
    status: str


class RoundSeatsOut(msgspec.Struct):
    round_id: int
    seq: int
    seats: list[RoundSeatOut]


class GradeAvailability(msgspec.Struct):
    total: int
    available: int


class AvailabilityOut(msgspec.Struct):
    total: int
    available: int
    held: int
    sold: int
    blocked: int
    by_grade: dict[str, GradeAvailability]


class HoldOut(msgspec.Struct):
    seat_ids: list[int]
    expires_at: datetime


class BlocksOut(msgspec.Struct):
    seat_ids: list[int]


class WatchCreate(Request):
    seat_ids: SeatIds | None = None
    grade: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] | None = None


class WatchOut(msgspec.Struct):
    id: int
    round_id: int
    seat_id: int | None
    grade: str | None


class BestSeatsRequest(Request):
    count: Annotated[int, msgspec.Meta(ge=1, le=100)]
    grade: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] | None = None
    section: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] | None = None
