"""How batch jobs walk a table (server/jobs/chunks.py): every matching row in exactly one chunk,
two chunks side by side on MariaDB (one at a time on SQLite), the first error stops the run."""
from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import users
from server.db.types import utcnow
from server.jobs.chunks import CHUNKS_IN_FLIGHT, between, in_ranges

ROWS = 25


@pytest.fixture(autouse=True)
async def rows(db):
    """ROWS users; the even ids are 'active' (what the tests' chunks look for), the odd ones dormant."""
    async with db.begin() as conn:
        await conn.execute(users.insert(), [
            {"id": i, "email": f"chunk{i}@test.example", "name": f"user {i}", "role": "user",
             "status": "active" if i % 2 == 0 else "dormant", "created_at": utcnow()} for i in range(1, ROWS + 1)])


ACTIVE = users.c.status == "active"


async def statuses(db: Database) -> dict[int, str]:
    async with db.read_own_writes() as conn:
        return dict((await conn.execute(sa.select(users.c.id, users.c.status))).all())


async def test_every_matching_row_is_in_exactly_one_chunk_of_at_most_the_size(db):
    chunks: list[list[int]] = []

    async def handle(conn, low: int, high: int) -> None:
        chunks.append((await conn.execute(sa.select(users.c.id).where(between(users.c.id, low, high), ACTIVE)
                                          .order_by(users.c.id))).scalars().all())

    await in_ranges(db, users.c.id, ACTIVE, size=3, handle=handle)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(2, ROWS + 1, 2))
    assert all(1 <= len(chunk) <= 3 for chunk in chunks)
    assert len(chunks) == 4          # 12 rows in chunks of 3: no empty chunk at the end


async def test_chunks_run_side_by_side_on_mariadb_and_one_at_a_time_on_sqlite(db):
    in_flight, most = 0, 0
    side_by_side = asyncio.Event()
    expected = 1 if db.dialect == "sqlite" else CHUNKS_IN_FLIGHT

    async def handle(conn, low: int, high: int) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight == expected:
            side_by_side.set()
        # The first chunk waits, in its open transaction, for the others to start beside it: the run
        # only gets past it if they really do run at the same time.
        async with asyncio.timeout(10):
            await side_by_side.wait()
        await conn.execute(users.update().where(between(users.c.id, low, high), ACTIVE).values(status="dormant"))
        in_flight -= 1

    await in_ranges(db, users.c.id, ACTIVE, size=2, handle=handle)
    assert most == expected
    assert set((await statuses(db)).values()) == {"dormant"}


async def test_the_first_error_stops_the_run_and_is_raised_as_itself(db):
    async def handle(conn, low: int, high: int) -> None:
        await conn.execute(users.update().where(between(users.c.id, low, high), ACTIVE).values(status="deleted"))
        if high == 8:
            raise ValueError("chunk of user 8 failed")

    with pytest.raises(ValueError, match="user 8"):
        await in_ranges(db, users.c.id, ACTIVE, size=1, handle=handle)
    after = await statuses(db)
    assert after[8] == "active"                          # its transaction was rolled back
    done = [i for i, status in after.items() if status == "deleted"]
    # The chunks that had committed stay done (the fourth chunk is only cut once two were finished).
    assert len(done) >= 2 and all(i % 2 == 0 for i in done)
    assert after[ROWS - 1] == "active"                   # the run stopped long before its last chunk
