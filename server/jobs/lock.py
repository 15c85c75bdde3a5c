"""One running copy of each job across every instance: a lease in the `job_locks` table.

The lock is taken by inserting the job's row, or by taking over a row whose lease ran out (its
instance died or hung); either is one conditional statement, so of two instances trying at once
exactly one wins, on MariaDB (row locks, READ COMMITTED re-reads the row it waited for) as on
SQLite (one writer at a time). The holder renews the lease while the job runs and deletes the
row when it is done; every statement names the holder's token, so an instance whose lease was
taken over can neither renew nor release the new holder's lock.

The lease is on the instances' clocks: keep them in step (NTP) to well within the lease.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.db.database import Database
from server.db.tables import job_locks
from server.db.types import utcnow


class JobLock:
    def __init__(self, db: Database, job: str, *, seconds: float, clock: Callable[[], datetime] = utcnow):
        self._db = db
        self.job = job
        self.holder = uuid.uuid4().hex
        self._lease = timedelta(seconds=seconds)
        self._clock = clock

    async def acquire(self) -> bool:
        now = self._clock()
        mine = {"holder": self.holder, "run_id": None, "expires_at": now + self._lease}
        async with self._db.begin() as conn:
            taken_over = await conn.execute(job_locks.update().where(
                job_locks.c.job == self.job, job_locks.c.expires_at <= now).values(**mine))
            if taken_over.rowcount == 1:
                return True
            insert = (mysql_insert(job_locks).prefix_with("IGNORE") if conn.dialect.name == "mysql"
                      else sqlite_insert(job_locks).on_conflict_do_nothing())
            inserted = await conn.execute(insert.values(job=self.job, **mine))
            return inserted.rowcount == 1

    async def renew(self) -> bool:
        """Extend the lease; False if it is no longer ours (it ran out and another instance took it)."""
        async with self._db.begin() as conn:
            renewed = await conn.execute(job_locks.update().where(
                job_locks.c.job == self.job, job_locks.c.holder == self.holder)
                .values(expires_at=self._clock() + self._lease))
        return renewed.rowcount == 1

    async def attach(self, run_id: int) -> None:
        """Say which run holds the lock (what a refused caller is told)."""
        async with self._db.begin() as conn:
            await conn.execute(job_locks.update().where(job_locks.c.job == self.job, job_locks.c.holder == self.holder)
                               .values(run_id=run_id))

    async def release(self) -> None:
        async with self._db.begin() as conn:
            await conn.execute(job_locks.delete().where(job_locks.c.job == self.job,
                                                        job_locks.c.holder == self.holder))


async def live_locks(db: Database, now: datetime) -> dict[str, int | None]:
    """Jobs whose lock is held now, with the run holding each."""
    async with db.read_own_writes() as conn:
        rows = (await conn.execute(sa.select(job_locks.c.job, job_locks.c.run_id)
                                   .where(job_locks.c.expires_at > now))).all()
    return dict(rows)
