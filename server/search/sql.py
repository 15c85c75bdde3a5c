"""The SQL backend: search with queries on the database itself (the embedded default, and the
fallback when no Elasticsearch is configured). Substring matching is `LIKE '%term%'`, so every
search scans the titles and names: correct everywhere, fast only for small catalogues.

Terms are folded in Python like the Elasticsearch backend's (server/search/text.py). The database
folds the stored text: MariaDB's utf8mb4_unicode_ci ignores case and accents like we do; SQLite's
LIKE ignores the case of ASCII letters only (so "é" does not find "É" there).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import fetch_page
from server.db.database import Database
from server.db.tables import cast, halls, performances, performers, reservations, rounds, users
from server.schemas.common import Page, PageQuery
from server.search.backend import (CATALOGUE_KINDS, HALLS, PERFORMANCES, PERFORMERS, RESERVATIONS,
                                   CatalogueSearch, Changes, ReservationSearch)
from server.search.documents import load
from server.search.schemas import (CatalogueResults, CatalogueTotals, HallHit, PerformanceHit, PerformerHit,
                                   ReservationHit)
from server.search.sync import read_version


def _in_hall_named(term: str) -> sa.ColumnElement:
    return performances.c.hall_id.in_(sa.select(halls.c.id).where(halls.c.name.icontains(term, autoescape=True)))


def _with_performer_named(term: str) -> sa.ColumnElement:
    return performances.c.id.in_(sa.select(cast.c.performance_id).join(performers, performers.c.id == cast.c.performer_id)
                                 .where(performers.c.name.icontains(term, autoescape=True)))


@dataclass(frozen=True)
class _Kind:
    table: sa.Table
    name: sa.Column                                         # the title or name
    related: Callable[[str], sa.ColumnElement] | None     # a match elsewhere (hall, cast, address)
    ties: tuple
    hit: type


_KINDS = {
    PERFORMANCES: _Kind(performances, performances.c.title,
                        lambda term: sa.or_(_in_hall_named(term), _with_performer_named(term)),
                        (performances.c.starts_on.desc(), performances.c.id.desc()), PerformanceHit),
    HALLS: _Kind(halls, halls.c.name, lambda term: halls.c.address.icontains(term, autoescape=True),
                 (halls.c.id.asc(),), HallHit),
    PERFORMERS: _Kind(performers, performers.c.name, None, (performers.c.id.asc(),), PerformerHit),
}


def _catalogue_query(kind: str, search: CatalogueSearch) -> sa.Select:
    spec = _KINDS[kind]
    in_name = [spec.name.icontains(term, autoescape=True) for term in search.terms]
    where = [sa.or_(match, spec.related(term)) if spec.related else match
             for term, match in zip(search.terms, in_name)]
    if kind == PERFORMANCES:
        if search.category:
            where.append(performances.c.category == search.category)
        if search.from_:
            where.append(performances.c.ends_on >= search.from_)
        if search.to:
            where.append(performances.c.starts_on <= search.to)
    rank = (sa.case((sa.and_(*in_name), 2), else_=0)
            + sa.case((spec.name.istartswith(search.terms[0], autoescape=True), 1), else_=0))
    return sa.select(spec.table.c.id).where(*where).order_by(rank.desc(), *spec.ties)


async def _hits(conn: AsyncConnection, kind: str, ids: list[int], hit: type) -> list:
    """The hits of these ids, in this order, shown like the Elasticsearch documents show them."""
    fields = await load(conn, kind, ids)
    return [msgspec.convert(fields[i], hit) for i in ids if i in fields]


class SqlBackend:
    name = "sql"

    def __init__(self, db: Database):
        self._db = db

    async def version(self) -> str:
        async with self._db.read() as conn:
            return await read_version(conn)

    async def catalogue(self, search: CatalogueSearch) -> tuple[str, CatalogueResults]:
        page = PageQuery(page=search.page, size=search.size)
        lists, totals = {}, {}
        async with self._db.read() as conn:
            # Same connection, version first: the answer is at least as new as the version (on a
            # replica, both come from that replica).
            version = await read_version(conn)
            for kind in CATALOGUE_KINDS:
                rows, totals[kind] = await fetch_page(conn, _catalogue_query(kind, search), page)
                lists[kind] = await _hits(conn, kind, [row.id for row in rows], _KINDS[kind].hit)
        return version, CatalogueResults(**lists, page=search.page, size=search.size,
                                         totals=CatalogueTotals(**totals))

    async def reservations(self, search: ReservationSearch) -> Page[ReservationHit]:
        query = sa.select(reservations.c.id).order_by(reservations.c.created_at.desc(), reservations.c.id.desc())
        page = PageQuery(page=search.page, size=search.size)
        async with self._db.read() as conn:
            if search.user_email:
                # Accounts first (an indexed lookup, then the deleted ones), then their bookings.
                user_ids = list((await conn.execute(sa.select(users.c.id).where(sa.or_(
                    users.c.email == search.user_email,
                    sa.and_(users.c.email.is_(None), users.c.deleted_email == search.user_email))))).scalars())
                if not user_ids:
                    return Page(items=[], page=search.page, size=search.size, total=0)
                query = query.where(reservations.c.user_id.in_(user_ids))
            if search.performance_id is not None:     # through its rounds (indexed), no join to count over
                query = query.where(reservations.c.round_id.in_(
                    sa.select(rounds.c.id).where(rounds.c.performance_id == search.performance_id)))
            for column, value in ((reservations.c.round_id, search.round_id), (reservations.c.status, search.status)):
                if value is not None:
                    query = query.where(column == value)
            if search.created_from:
                query = query.where(reservations.c.created_at >= search.created_from)
            if search.created_before:
                query = query.where(reservations.c.created_at < search.created_before)
            rows, total = await fetch_page(conn, query, page)
            items = await _hits(conn, RESERVATIONS, [row.id for row in rows], ReservationHit)
        return Page(items=items, page=search.page, size=search.size, total=total)

    async def apply(self, changes: Changes) -> None:
        """Nothing to do: the tables are the index, and catalogue writes renew the version themselves."""

    async def ping(self) -> None:
        """The database has its own readiness check."""

    async def close(self) -> None:
        pass
