from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from server.schemas.common import Request

PaymentKey = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
OrderId = Annotated[str, msgspec.Meta(min_length=6, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class PaymentConfirm(Request):
    payment_key: PaymentKey
    order_id: OrderId
    amount: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]


class PaymentOut(msgspec.Struct):
    reservation_id: int
    status: str                       # the reservation's: confirmed
    order_id: str
    amount: int
    payment_key: str
    method: str | None
    approved_at: datetime | None
