"""One search interface, two backends: Elasticsearch (server/search/elastic.py) and SQL queries on
the database (server/search/sql.py). Both answer the same parsed queries with the same results;
tests/test_search_conformance.py runs one suite against both.

A backend also says which version of the catalogue its answers reflect (`version`), so that cached
answers are keyed by it and die the moment the backend would answer differently, and it brings its
index in step with the database for a set of changed rows (`apply`; nothing to do for SQL, where
the tables are the index).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from server.accounts import normalize_email
from server.errors import InvalidRequest, require
from server.schemas.common import Page, page_offset
from server.search.schemas import (MAX_WINDOW, CatalogueQuery, CatalogueResults, ReservationHit,
                                   ReservationQuery)
from server.search.text import query_terms

PERFORMANCES, HALLS, PERFORMERS, RESERVATIONS = "performances", "halls", "performers", "reservations"
CATALOGUE_KINDS = (PERFORMANCES, HALLS, PERFORMERS)
KINDS = (*CATALOGUE_KINDS, RESERVATIONS)

Changes = dict[str, set[int]]      # kind -> ids whose rows changed (or are gone)


def _check_window(page: int, size: int) -> None:
    require(page * size <= MAX_WINDOW, f"Results are served up to the {MAX_WINDOW}th; narrow the search.",
            "page")


def _check_range(start: date | None, end: date | None) -> None:
    require(not (start and end) or start <= end, "`to` is before `from`.", "from", "to")


class Paged:
    """A search's page and size, as asked for; where its rows start."""
    page: int
    size: int

    @property
    def offset(self) -> int:
        return page_offset(self.page, self.size)


@dataclass(frozen=True)
class CatalogueSearch(Paged):
    terms: tuple[str, ...]          # folded, usable, distinct (server/search/text.py)
    category: str | None
    from_: date | None
    to: date | None
    page: int
    size: int

    @classmethod
    def parse(cls, query: CatalogueQuery) -> CatalogueSearch:
        terms = query_terms(query.q)
        if not terms:
            raise InvalidRequest("Search for at least two letters or digits, or one Korean syllable.", fields=["q"])
        _check_range(query.from_, query.to)
        _check_window(query.page, query.size)
        return cls(tuple(terms), query.category, query.from_, query.to, query.page, query.size)


@dataclass(frozen=True)
class ReservationSearch(Paged):
    performance_id: int | None
    round_id: int | None
    user_email: str | None           # normalized like sign-up does
    status: str | None
    created_from: datetime | None    # inclusive, aware
    created_before: datetime | None  # exclusive, aware
    page: int
    size: int

    @classmethod
    def parse(cls, query: ReservationQuery, zone: ZoneInfo) -> ReservationSearch:
        _check_range(query.from_, query.to)
        _check_window(query.page, query.size)

        def midnight(day: date | None) -> datetime | None:
            return None if day is None else datetime.combine(day, time.min, tzinfo=zone)
        return cls(query.performance_id, query.round_id,
                   normalize_email(query.user_email) if query.user_email else None, query.status,
                   midnight(query.from_), midnight(query.to and query.to + timedelta(days=1)),
                   query.page, query.size)


class SearchBackend(Protocol):
    name: str

    async def catalogue(self, search: CatalogueSearch) -> tuple[str, CatalogueResults]:
        """Performances, halls and performers matching every term (CatalogueResults says in what order),
        with a version the answer is at least as new as: it is cached under that version."""

    async def reservations(self, search: ReservationSearch) -> Page[ReservationHit]:
        """Reservations matching every filter, newest first (times in UTC)."""

    async def version(self) -> str:
        """An opaque token that changes whenever the catalogue answers may change."""

    async def apply(self, changes: Changes) -> None:
        """Bring the index in step with the database for these rows (idempotent: it re-reads them)."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
