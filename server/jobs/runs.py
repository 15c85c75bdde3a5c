"""The record of every run of a job: started when the run has the lock, updated with its counts as it
goes, finished with its outcome. Runs whose instance died are closed by the next holder of the lock."""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import job_runs
from server.db.types import utcnow
from server.errors import NotFound
from server.jobs.schemas import JobRunOut, JobRunQuery
from server.schemas.common import Page

ABANDONED = "abandoned: its instance stopped renewing the job's lock (it died or hung)"


class RunRecords:
    def __init__(self, db: Database, zone: ZoneInfo, clock: Callable[[], datetime] = utcnow):
        self._db = db
        self._zone = zone
        self._clock = clock

    async def start(self, job: str, triggered_by: str, holder: str) -> int:
        async with self._db.begin() as conn:
            result = await conn.execute(job_runs.insert().values(
                job=job, triggered_by=triggered_by, status="running", holder=holder, started_at=self._clock(),
                counts={}))
        return result.inserted_primary_key[0]

    async def progress(self, run_id: int, counts: dict[str, int]) -> None:
        async with self._db.begin() as conn:
            await conn.execute(job_runs.update().where(job_runs.c.id == run_id, job_runs.c.status == "running")
                               .values(counts=dict(counts)))

    async def finish(self, run_id: int, status: str, counts: dict[str, int], error: str | None) -> None:
        async with self._db.begin() as conn:
            await conn.execute(job_runs.update().where(job_runs.c.id == run_id).values(
                status=status, counts=dict(counts), error=error, finished_at=self._clock()))

    async def close_abandoned(self, job: str, holder: str) -> int:
        """Runs of `job` still 'running' under another holder: the lock is ours now, so theirs ran out."""
        async with self._db.begin() as conn:
            result = await conn.execute(job_runs.update().where(
                job_runs.c.job == job, job_runs.c.status == "running", job_runs.c.holder != holder)
                .values(status="failed", error=ABANDONED, finished_at=self._clock()))
        return result.rowcount

    # ---- reading ---------------------------------------------------------------------------------
    async def last(self, job: str) -> JobRunOut | None:
        page = await self._select(job_runs.c.job == job, limit=1)
        return page[0] if page else None

    async def latest(self) -> dict[str, JobRunOut]:
        """The newest run of every job that ever ran."""
        newest = sa.select(sa.func.max(job_runs.c.id)).group_by(job_runs.c.job).scalar_subquery()
        return {run.job: run for run in await self._select(job_runs.c.id.in_(newest), limit=1000)}

    async def get(self, run_id: int) -> JobRunOut:
        page = await self._select(job_runs.c.id == run_id, limit=1)
        if not page:
            raise NotFound("No such job run.")
        return page[0]

    async def page(self, query: JobRunQuery) -> Page[JobRunOut]:
        where = job_runs.c.job == query.job if query.job else sa.true()
        async with self._db.read_own_writes() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(job_runs).where(where))).scalar_one()
        items = await self._select(where, limit=query.size, offset=query.offset)
        return Page(items=items, page=query.page, size=query.size, total=total)

    async def _select(self, where, *, limit: int, offset: int = 0) -> list[JobRunOut]:
        async with self._db.read_own_writes() as conn:      # runs change by the second: the primary's copy
            rows = (await conn.execute(sa.select(job_runs).where(where).order_by(job_runs.c.id.desc())
                                       .limit(limit).offset(offset))).all()
        return [JobRunOut(id=r.id, job=r.job, triggered_by=r.triggered_by, status=r.status,
                          started_at=r.started_at.astimezone(self._zone),
                          finished_at=r.finished_at.astimezone(self._zone) if r.finished_at else None,
                          counts=r.counts or {}, error=r.error) for r in rows]
