"""Performers: the people and groups a performance's cast is made of."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import fetch_page, lock_or_404, make_page, one_or_404, patch_row
from server.db.database import Database
from server.db.tables import cast, performers
from server.db.types import utcnow
from server.schemas.catalogue import PerformerCreate, PerformerOut, PerformerQuery, PerformerUpdate
from server.schemas.common import Page
from server.search.backend import PERFORMERS
from server.search.sync import changed as search_changed

_COLUMNS = (performers.c.id, performers.c.name, performers.c.birth_date, performers.c.nationality)


async def _performer(conn: AsyncConnection, performer_id: int) -> PerformerOut:
    return PerformerOut(*await one_or_404(conn, sa.select(*_COLUMNS).where(performers.c.id == performer_id),
                                          "performer"))


class Performers:
    def __init__(self, db: Database):
        self._db = db

    async def create(self, request: PerformerCreate) -> PerformerOut:
        async with self._db.begin() as conn:
            result = await conn.execute(performers.insert().values(
                name=request.name, birth_date=request.birth_date, nationality=request.nationality,
                created_at=utcnow()))
            await search_changed(conn, PERFORMERS, [result.inserted_primary_key[0]])
        return PerformerOut(id=result.inserted_primary_key[0], name=request.name, birth_date=request.birth_date,
                            nationality=request.nationality)

    async def list(self, query: PerformerQuery) -> Page[PerformerOut]:
        """By name; ``q`` keeps the names containing it (any case)."""
        select = sa.select(*_COLUMNS).order_by(performers.c.name, performers.c.id)
        if query.q:
            select = select.where(performers.c.name.icontains(query.q, autoescape=True))
        async with self._db.read() as conn:
            rows, total = await fetch_page(conn, select, query)
        return make_page([PerformerOut(*row) for row in rows], query, total)

    async def get(self, performer_id: int) -> PerformerOut:
        async with self._db.read() as conn:
            return await _performer(conn, performer_id)

    async def update(self, performer_id: int, request: PerformerUpdate) -> PerformerOut:
        """``null`` clears birth_date or nationality; a missing field is left as it is."""
        async with self._db.begin() as conn:
            await patch_row(conn, performers, performer_id, "performer", request, PERFORMERS)
            return await _performer(conn, performer_id)

    async def delete(self, performer_id: int) -> None:
        """Also takes the performer out of every cast they were in."""
        async with self._db.begin() as conn:
            await lock_or_404(conn, performers, performer_id, "performer")
            await conn.execute(cast.delete().where(cast.c.performer_id == performer_id))
            await conn.execute(performers.delete().where(performers.c.id == performer_id))
            await search_changed(conn, PERFORMERS, [performer_id])
