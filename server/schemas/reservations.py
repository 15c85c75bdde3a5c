from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.schemas.common import Id, Request
from server.schemas.seating import SeatIds

ReservationStatus = Literal["pending", "confirmed", "canceled", "expired", "attended"]


class ReservationCreate(Request):
    round_id: Id
    seat_ids: SeatIds
    coupon_id: Id | None = None


class TicketOut(msgspec.Struct):
    id: int
    seat_id: int
    code: str                      # what the door scans; the QR code carries it
    qr_url: str                    # the QR code as SVG (the ticket's holder only)
    checked_in_at: datetime | None


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
    booking_number: str            # short, for people: "TB-000123"
    tickets: list[TicketOut]       # one per seat once paid; empty before


class CheckInRequest(Request):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CheckInOut(msgspec.Struct):
    ticket_id: int
    booking_number: str
    performance_title: str
    starts_at: datetime
    section: str
    row: int
    number: int
    grade: str
    holder_name: str
    checked_in_at: datetime
