from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from server.schemas.common import Id, Request
from server.schemas.seating import SeatIds

ReservationStatus = Literal["pending", "confirmed", "canceled", "expired", "attended"]


class ReservationCreate(Request):
    round_id: Id
    seat_ids: SeatIds
    coupon_id: Id | None = None


class ReservationOut(msgspec.Struct):
    id: int
    status: ReservationStatus
    round_id: int
    seat_ids: list[int]
    amount: int
    discount: int
    order_id: str
    expires_at: datetime
    created_at: datetime
