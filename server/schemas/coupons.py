from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from msgspec import UNSET, UnsetType

from server.schemas.common import Instant, Name, Request

Discount = Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]


class CouponCreate(Request):
    name: Name
    discount_type: Literal["amount", "percent"]
    discount: Discount                     # KRW, or percent (1..100)
    quantity: Quantity
    starts_at: Instant
    ends_at: Instant


class CouponUpdate(Request):
    """Only the given fields change; the discount stays what people took."""
    name: Name | UnsetType = UNSET
    quantity: Quantity | UnsetType = UNSET
    starts_at: Instant | UnsetType = UNSET
    ends_at: Instant | UnsetType = UNSET


class CouponOut(msgspec.Struct):
    id: int
    name: str
    discount_type: str
    discount: int
    quantity: int
    issued: int
    remaining: int
    starts_at: datetime
    ends_at: datetime
    state: Literal["scheduled", "live", "sold_out", "ended"]


class IssuedCouponOut(msgspec.Struct):
    id: int                                # this user's copy
    coupon_id: int                         # the run: what a reservation's coupon_id names
    name: str
    discount_type: str
    discount: int
    issued_at: datetime
    used_at: datetime | None
    starts_at: datetime
    ends_at: datetime
