"""The on-sale figures of a round for the box office (docs/API.md "Sales of a round")."""
from __future__ import annotations

from datetime import datetime

import msgspec


class GradeSales(msgspec.Struct):
    grade: str
    price: int
    seats: int              # sold + held + available + blocked
    sold: int
    held: int
    available: int
    blocked: int


class MinuteSales(msgspec.Struct):
    minute: datetime        # the minute's start, in the server's time zone
    seats: int
    revenue: int


class SalesOut(msgspec.Struct):
    round_id: int
    by_grade: list[GradeSales]
    sold_seats: int
    revenue: int
    refunds: int
    per_minute: list[MinuteSales]   # the last 60 minutes, oldest first, the current one last
    updated_at: datetime
