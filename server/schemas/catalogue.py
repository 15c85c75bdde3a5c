"""Request and response types of the catalogue: halls and seats, performers, performances, rounds, posters.

PATCH bodies use ``UNSET`` for "not given", so ``null`` can mean "clear" where a field is optional.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.schemas.common import TRIMMED_PATTERN, Day, Id, Instant, Name, PageQuery, Request, line, text

MAX_SEATS_PER_HALL = 20_000

Category = Literal["concert", "musical", "play", "classical", "dance", "etc"]
Grade = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=TRIMMED_PATTERN, examples=["VIP"])]
SectionName = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=TRIMMED_PATTERN, examples=["A"])]
Address = line(500)
Description = text(20_000)
SeatIndex = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Coordinate = Annotated[float, msgspec.Meta(ge=-100_000, le=100_000)]
Price = Annotated[int, msgspec.Meta(ge=0, le=100_000_000, description="KRW")]
Prices = Annotated[dict[Grade, Price], msgspec.Meta(min_length=1, max_length=50,
                                                   examples=[{"VIP": 150000, "R": 120000}])]
DurationMinutes = Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]
Nationality = line(60)
SearchText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


# ---- halls ---------------------------------------------------------------------------------
class SectionSpec(Request):
    """A block of ``rows`` × ``seats_per_row`` seats of one grade; the server lays out the seats."""
    name: SectionName
    rows: Annotated[int, msgspec.Meta(ge=1, le=200)]
    seats_per_row: Annotated[int, msgspec.Meta(ge=1, le=500)]
    grade: Grade


class SeatSpec(Request):
    section: SectionName
    row: SeatIndex
    number: SeatIndex
    x: Coordinate
    y: Coordinate
    grade: Grade


class HallCreate(Request):
    """Give exactly one of ``sections`` (generated seats) or ``seats`` (an explicit seat map)."""
    name: Name
    address: Address
    sections: Annotated[list[SectionSpec], msgspec.Meta(min_length=1, max_length=100)] | None = None
    seats: Annotated[list[SeatSpec], msgspec.Meta(min_length=1, max_length=MAX_SEATS_PER_HALL)] | None = None


class HallUpdate(Request):
    name: Name | UnsetType = UNSET
    address: Address | UnsetType = UNSET


class SeatOut(msgspec.Struct):
    id: int
    section: str
    row: int
    number: int
    x: float
    y: float
    grade: str


class HallOut(msgspec.Struct):
    id: int
    name: str
    address: str
    capacity: int


class HallDetail(HallOut):
    seats: list[SeatOut]


# ---- performers ----------------------------------------------------------------------------
class PerformerCreate(Request):
    name: Name
    birth_date: Day | None = None
    nationality: Nationality | None = None


class PerformerUpdate(Request):
    name: Name | UnsetType = UNSET
    birth_date: Day | None | UnsetType = UNSET
    nationality: Nationality | None | UnsetType = UNSET


class PerformerOut(msgspec.Struct):
    id: int
    name: str
    birth_date: date | None
    nationality: str | None


class PerformerQuery(PageQuery):
    q: SearchText | None = None


# ---- performances --------------------------------------------------------------------------
class PerformanceCreate(Request):
    title: Name
    description: Description
    category: Category
    hall_id: Id
    starts_on: Day
    ends_on: Day
    duration_minutes: DurationMinutes
    prices: Prices


class PerformanceUpdate(Request):
    """Only the given fields change. ``prices`` replaces the whole price list."""
    title: Name | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    hall_id: Id | UnsetType = UNSET
    starts_on: Day | UnsetType = UNSET
    ends_on: Day | UnsetType = UNSET
    duration_minutes: DurationMinutes | UnsetType = UNSET
    prices: Prices | UnsetType = UNSET


class CastMember(msgspec.Struct):
    id: int
    name: str


class PerformanceOut(msgspec.Struct):
    id: int
    title: str
    description: str
    category: str
    hall_id: int
    starts_on: date
    ends_on: date
    duration_minutes: int
    prices: dict[str, int]
    poster_url: str | None
    performers: list[CastMember]


class PerformanceQuery(PageQuery):
    """``from``/``to``: performances running on at least one day of that range."""
    category: Category | None = None
    hall_id: Id | None = None
    from_: Day | None = msgspec.field(name="from", default=None)
    to: Day | None = None
    q: SearchText | None = None


class CastAdd(Request):
    performer_id: Id


# ---- rounds --------------------------------------------------------------------------------
class RoundCreate(Request):
    starts_at: Instant
    sale_opens_at: Instant | None = None      # None: on sale at once


class RoundUpdate(Request):
    starts_at: Instant | UnsetType = UNSET
    sale_opens_at: Instant | None | UnsetType = UNSET


class RoundOut(msgspec.Struct):
    id: int
    performance_id: int
    starts_at: datetime
    ends_at: datetime
    sale_opens_at: datetime | None


# ---- posters -------------------------------------------------------------------------------
class PosterOut(msgspec.Struct):
    poster_url: str
