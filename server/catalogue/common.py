"""Helpers every catalogue service shares: one page of a list, one row or 404, and writing the fields
a PATCH gave."""
from __future__ import annotations

from typing import TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import NotFound
from server.schemas.common import Page, PageQuery, given_fields
from server.search.sync import changed as search_changed

T = TypeVar("T")


async def fetch_page(conn: AsyncConnection, query: sa.Select, page: PageQuery) -> tuple[list[Row], int]:
    """The rows of the requested page of an ordered query, and how many rows the whole query has."""
    counted = query.order_by(None).subquery()
    total = (await conn.execute(sa.select(sa.func.count()).select_from(counted))).scalar_one()
    rows = (await conn.execute(query.limit(page.size).offset(page.offset))).all() if total else []
    return list(rows), total


def make_page(items: list[T], page: PageQuery, total: int) -> Page[T]:
    return Page(items=items, page=page.page, size=page.size, total=total)


async def one_or_404(conn: AsyncConnection, query: sa.Select, what: str, **details) -> Row:
    """The single row of ``query``; ``what`` names the missing thing in the 404 ("hall", "round")."""
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"No such {what}.", details=details or None)
    return row


async def lock_or_404(conn: AsyncConnection, table: sa.Table, row_id: int, what: str, **details) -> Row:
    """Check that a row exists and lock it until the transaction ends (MariaDB; SQLite writers are
    serialized anyway), so that what we check about it stays true until we commit."""
    return await one_or_404(conn, sa.select(table.c.id).where(table.c.id == row_id).with_for_update(),
                            what, **details)


def grouped(rows, key: str) -> dict[int, list[Row]]:
    """Rows of a child table by parent id, for loading one query per child table instead of N."""
    out: dict[int, list[Row]] = {}
    for row in rows:
        out.setdefault(getattr(row, key), []).append(row)
    return out


async def patch_row(conn: AsyncConnection, table: sa.Table, row_id: int, what: str, update: msgspec.Struct,
                    search_kind: str) -> None:
    """A PATCH of plain columns: lock the row (404 if missing), write the fields the body gave, and tell
    search about the change if there was one."""
    await lock_or_404(conn, table, row_id, what)
    if changes := given_fields(update):
        await conn.execute(table.update().where(table.c.id == row_id).values(**changes))
        await search_changed(conn, search_kind, [row_id])
