"""Request and response types of the search endpoints."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from server.schemas.catalogue import CastMember, Category, SearchText
from server.schemas.common import Day, Id, PageQuery
from server.schemas.reservations import ReservationStatus

MAX_WINDOW = 10_000     # deepest result (page × size) either backend serves; Elasticsearch's result window


# ---- catalogue -------------------------------------------------------------------------------------
class CatalogueQuery(PageQuery, kw_only=True):
    """`q`: one or more words; each must occur, as a whole word or part of one, in a title or name
    (or, for performances, the hall's name or a cast member's name; for halls, the address).
    `category`, `from`, `to` (performances running on some day of the range) filter performances
    only. `page` and `size` apply to each of the three lists."""
    q: SearchText
    category: Category | None = None
    from_: Day | None = msgspec.field(name="from", default=None)
    to: Day | None = None


class PerformanceHit(msgspec.Struct):
    id: int
    title: str
    category: str
    hall_id: int
    hall_name: str
    starts_on: date
    ends_on: date
    performers: list[CastMember]


class HallHit(msgspec.Struct):
    id: int
    name: str
    address: str


class PerformerHit(msgspec.Struct):
    id: int
    name: str
    nationality: str | None


class CatalogueTotals(msgspec.Struct):
    performances: int
    halls: int
    performers: int


class CatalogueResults(msgspec.Struct):
    """Best first: title/name matches before matches through related names, then titles that start
    with the first word of the query; ties: performances by first day (latest first), others by id."""
    performances: list[PerformanceHit]
    halls: list[HallHit]
    performers: list[PerformerHit]
    page: int
    size: int
    totals: CatalogueTotals


# ---- reservations (admin) --------------------------------------------------------------------------
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class ReservationQuery(PageQuery):
    """Every filter is optional and they combine (AND). `user_email`: the account's address (for a
    deleted account, the address it had), any case. `from`/`to`: booked on those days (inclusive),
    in the server's time zone."""
    performance_id: Id | None = None
    round_id: Id | None = None
    user_email: Email | None = None
    status: ReservationStatus | None = None
    from_: Day | None = msgspec.field(name="from", default=None)
    to: Day | None = None


class ReservationHit(msgspec.Struct):
    """Newest booking first."""
    id: int
    status: str
    user_id: int
    user_email: str | None
    user_name: str
    performance_id: int
    round_id: int
    seat_ids: list[int]
    amount: int
    discount: int
    order_id: str
    created_at: datetime
    updated_at: datetime
