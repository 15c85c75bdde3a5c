"""Working through many rows a chunk at a time, each chunk in one transaction of a few set-based
statements: the rows never travel to Python and back one by one.

A chunk is a range of keys (low, high] holding up to `size` rows that match the job's condition;
each of the job's statements applies to `key > low AND key <= high AND condition` — an index range
scan, however far the run has got.

Two chunks are in flight at once on MariaDB: while one transaction waits on a statement the other
keeps the server's second core busy (expired-reservations over 1M rows: 63 s one at a time, see
benchmarks/RESULTS.md). Chunks are disjoint key ranges and every statement of a chunk is bounded by
its range, so they do not depend on each other's order; where two touch the same row (a user's
event stream, the catalogue version) one waits for the other's commit, and a deadlock the database
breaks reruns the chunk. SQLite runs one writer at a time anyway: one chunk at a time there.
"""
from __future__ import annotations

import asyncio
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
CHUNKS_IN_FLIGHT = 2            # one per core of this project's 2-core test machine; 3 measured slower


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
    `where`, each in its own transaction; then `after_commit` with what it returned (calls to other
    systems: the seat engine, the poster storage). The first error stops the run: chunks already
    committed stay done, the one in flight beside it is rolled back."""
    next_low: int | None = 0
    cutting = asyncio.Lock()

    async def next_chunk() -> tuple[int, int] | None:
        """The next range, cut from the committed rows (the handle re-checks `where` in its own
        transaction, so a row that changed since is simply not touched)."""
        nonlocal next_low
        async with cutting:
            if next_low is None:
                return None
            low = next_low
            chunk = sa.select(key.label("k")).where(key > low, where).order_by(key).limit(size).subquery()
            async with db.read_own_writes() as conn:
                high, count = (await conn.execute(sa.select(sa.func.max(chunk.c.k), sa.func.count()))).one()
            next_low = high if count == size else None
            return (low, high) if count else None

    async def work() -> None:
        while (bounds := await next_chunk()) is not None:
            result = await transaction(db, lambda conn: handle(conn, *bounds))
            if after_commit is not None:
                await after_commit(result)

    try:
        async with asyncio.TaskGroup() as workers:
            for _ in range(1 if db.dialect == "sqlite" else CHUNKS_IN_FLIGHT):
                workers.create_task(work())
    except BaseExceptionGroup as failed:     # the job's record shows the error itself, not a group of one
        raise failed.exceptions[0] from None
