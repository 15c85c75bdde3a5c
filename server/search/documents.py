"""What search shows and indexes of each row, read from the database a batch of ids at a time.

`load(conn, kind, ids)` gives the fields a hit shows (the SQL backend turns them straight into
hits); `document(kind, fields)` adds what Elasticsearch matches on: the n-grams of the name (title)
and of the related names (a performance's hall and cast, a hall's address), see server/search/text.py.
A performance's document embeds its hall's and cast's names, so renaming a hall or a performer
re-indexes the performances that show it (server/search/elastic.py, `_with_dependents`).
"""
from __future__ import annotations

from typing import AsyncIterator, Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import grouped
from server.db.database import Database
from server.db.tables import (cast, halls, performances, performers, reservation_seats, reservations, rounds,
                              users)
from server.search.backend import HALLS, PERFORMANCES, PERFORMERS, RESERVATIONS
from server.search.text import Field, first_word

NAME, RELATED = Field("name"), Field("related")
Fields = dict[str, object]


def _fields(row: sa.Row) -> Fields:
    # str(): column names are sqlalchemy's quoted_name, a str subclass msgspec does not take as a key
    return {str(key): value for key, value in row._mapping.items()}


async def _performances(conn: AsyncConnection, ids: list[int]) -> dict[int, Fields]:
    rows = (await conn.execute(
        sa.select(performances.c.id, performances.c.title, performances.c.category, performances.c.hall_id,
                  halls.c.name.label("hall_name"), performances.c.starts_on, performances.c.ends_on)
        .join(halls, halls.c.id == performances.c.hall_id).where(performances.c.id.in_(ids)))).all()
    members = grouped(await conn.execute(
        sa.select(cast.c.performance_id, performers.c.id, performers.c.name)
        .join(performers, performers.c.id == cast.c.performer_id).where(cast.c.performance_id.in_(ids))),
        "performance_id")
    out = {}
    for row in rows:
        # Sorted here, not by the database: collations differ between SQLite and MariaDB.
        cast_of = sorted(((m.name, m.id) for m in members.get(row.id, [])))
        out[row.id] = {"id": row.id, "title": row.title, "category": row.category, "hall_id": row.hall_id,
                       "hall_name": row.hall_name, "starts_on": row.starts_on, "ends_on": row.ends_on,
                       "performers": [{"id": i, "name": n} for n, i in cast_of]}
    return out


async def _halls(conn: AsyncConnection, ids: list[int]) -> dict[int, Fields]:
    rows = await conn.execute(sa.select(halls.c.id, halls.c.name, halls.c.address).where(halls.c.id.in_(ids)))
    return {row.id: _fields(row) for row in rows}


async def _performers(conn: AsyncConnection, ids: list[int]) -> dict[int, Fields]:
    rows = await conn.execute(sa.select(performers.c.id, performers.c.name, performers.c.nationality)
                              .where(performers.c.id.in_(ids)))
    return {row.id: _fields(row) for row in rows}


def user_email() -> sa.ColumnElement:
    """The account's address; a deleted account keeps the one it had (its bookings stay findable)."""
    return sa.func.coalesce(users.c.email, users.c.deleted_email)


async def _reservations(conn: AsyncConnection, ids: list[int]) -> dict[int, Fields]:
    rows = (await conn.execute(
        sa.select(reservations.c.id, reservations.c.status, reservations.c.user_id,
                  user_email().label("user_email"), users.c.name.label("user_name"), rounds.c.performance_id,
                  reservations.c.round_id, reservations.c.amount, reservations.c.discount, reservations.c.order_id,
                  reservations.c.created_at, reservations.c.updated_at)
        .join(users, users.c.id == reservations.c.user_id).join(rounds, rounds.c.id == reservations.c.round_id)
        .where(reservations.c.id.in_(ids)))).all()
    seats = grouped(await conn.execute(
        sa.select(reservation_seats.c.reservation_id, reservation_seats.c.seat_id)
        .where(reservation_seats.c.reservation_id.in_(ids))), "reservation_id")
    return {row.id: {**_fields(row), "seat_ids": sorted(s.seat_id for s in seats.get(row.id, []))}
            for row in rows}


_LOADERS: dict[str, Callable[[AsyncConnection, list[int]], Awaitable[dict[int, Fields]]]] = {
    PERFORMANCES: _performances, HALLS: _halls, PERFORMERS: _performers, RESERVATIONS: _reservations}
TABLES = {PERFORMANCES: performances, HALLS: halls, PERFORMERS: performers, RESERVATIONS: reservations}


async def load(conn: AsyncConnection, kind: str, ids: list[int]) -> dict[int, Fields]:
    """The shown fields of the rows with these ids that exist (a missing id was deleted)."""
    return await _LOADERS[kind](conn, ids) if ids else {}


def document(kind: str, fields: Fields) -> Fields:
    """The Elasticsearch document: the shown fields plus what the queries match on."""
    if kind == PERFORMANCES:
        related = [fields["hall_name"], *(p["name"] for p in fields["performers"])]
        return {**fields, "performer_ids": [p["id"] for p in fields["performers"]],
                **_searchable(fields["title"], related)}
    if kind == HALLS:
        return {**fields, **_searchable(fields["name"], [fields["address"]])}
    if kind == PERFORMERS:
        return {**fields, **_searchable(fields["name"], [])}
    return fields


def _searchable(name: str, related: list[str]) -> Fields:
    return {**NAME.index([name]), **RELATED.index(related), "name_first": first_word(name)}


async def id_chunks(db: Database, kind: str, size: int) -> AsyncIterator[list[int]]:
    """Every id of a kind, in ascending chunks (keyset: each chunk is one index range scan)."""
    table, last = TABLES[kind], 0
    while True:
        async with db.read() as conn:
            ids = list((await conn.execute(sa.select(table.c.id).where(table.c.id > last)
                                           .order_by(table.c.id).limit(size))).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]
