"""Working through many rows a chunk at a time, each chunk in one transaction of a few set-based
statements: the rows never travel to Python and back one by one.

A chunk is a range of keys (low, high] holding up to `size` rows that match the job's condition;
each of the job's statements applies to `key > low AND key <= high AND condition` — an index range
scan, however far the run has got.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 3
# MariaDB broke a deadlock (1213) or gave up waiting for a lock (1205): it rolled the chunk's
# transaction back, and the same chunk run again usually goes through.
_RETRYABLE = {1213, 1205}


async def transaction(db: Database, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`work` in one write transaction, run again (whole) if the database rolled it back to break a deadlock."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with db.begin() as conn:
                return await work(conn)
        except sa.exc.OperationalError as exc:
            code = getattr(exc.orig, "args", (None,))[0]
            if code not in _RETRYABLE or attempt == ATTEMPTS:
                raise
            log.info("chunk rolled back by the database (%s), attempt %s of %s", code, attempt + 1, ATTEMPTS)
    raise AssertionError("unreachable")


def between(key: sa.ColumnElement, low: int, high: int) -> sa.ColumnElement:
    return sa.and_(key > low, key <= high)


async def in_ranges(db: Database, key: sa.Column, where: sa.ColumnElement, *, size: int,
                    handle: Callable[[AsyncConnection, int, int], Awaitable[T]],
                    after_commit: Callable[[T], Awaitable[None]] | None = None) -> None:
    """Call `handle(conn, low, high)` for each chunk of up to `size` rows of `key`'s table matching
    `where`, in key order, each in its own transaction; then `after_commit` with what it returned
    (calls to other systems: the seat engine, the poster storage)."""
    low = 0
    while True:
        async def step(conn: AsyncConnection) -> tuple[int, T | None]:
            chunk = sa.select(key.label("k")).where(key > low, where).order_by(key).limit(size).subquery()
            high, count = (await conn.execute(sa.select(sa.func.max(chunk.c.k), sa.func.count()))).one()
            return (high, count), (await handle(conn, low, high) if count else None)
        (high, count), result = await transaction(db, step)
        if count and after_commit is not None:
            await after_commit(result)
        if count < size:
            return
        low = high
