"""Running a job: take its lock, record the run, run it while renewing the lock, record how it ended.

The same path serves the schedule, the admin API (in the background: the caller gets the run id at
once) and the command line (in the foreground). A job that raises is recorded as failed with its
error and its counts so far; a job stopped by a shutdown, or whose lock was taken over while it
ran (its lease ran out), stops at its next await — the chunk in hand rolls back, and the next run
picks up from there, since every job is idempotent.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping

from server.db.database import Database
from server.db.types import utcnow
from server.errors import Code, Conflict
from server.jobs.base import Counts, Job
from server.jobs.lock import JobLock, live_locks
from server.jobs.runs import RunRecords
from server.jobs.schemas import JobRunOut
from server.metrics import Metrics

log = logging.getLogger(__name__)


class JobRunning(Conflict):
    def __init__(self, job: str, run_id: int | None):
        super().__init__(f"{job} is running already (on this or another instance); wait for that run.",
                         code=Code.JOB_RUNNING, details={"job": job, "run_id": run_id})


@dataclass
class _Claim:
    job: Job
    lock: JobLock
    run_id: int


class Runner:
    def __init__(self, db: Database, jobs: Mapping[str, Job], runs: RunRecords, *, lock_seconds: float,
                 clock: Callable[[], datetime] = utcnow, metrics: Metrics | None = None):
        self._db = db
        self._metrics = metrics or Metrics()
        self.jobs = dict(jobs)
        self.runs = runs
        self.lock_seconds = lock_seconds
        self._clock = clock
        self._background: set[asyncio.Task] = set()

    async def run(self, name: str, triggered_by: str, *,
                  only_if: Callable[[JobRunOut | None], bool] | None = None) -> JobRunOut | None:
        """Run `name` to its end here. With `only_if` (the schedule), the job runs only if that still
        holds for its last run once the lock is ours, else None. Raises JobRunning."""
        claim = await self._claim(name, triggered_by, only_if)
        if claim is None:
            return None
        await self._execute(claim)
        return await self.runs.get(claim.run_id)

    async def start(self, name: str, triggered_by: str) -> int:
        """Start `name` in the background; returns its run id, recorded (and the lock held) by then."""
        claim = await self._claim(name, triggered_by, None)
        task = asyncio.create_task(self._execute(claim), name=f"job-{name}-{claim.run_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return claim.run_id

    async def stop(self) -> None:
        """Stop the runs started in the background (each is recorded as interrupted)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # ---- inside -----------------------------------------------------------------------------------
    async def _claim(self, name: str, triggered_by: str,
                     only_if: Callable[[JobRunOut | None], bool] | None) -> _Claim | None:
        job = self.jobs[name]
        lock = JobLock(self._db, name, seconds=self.lock_seconds, clock=self._clock)
        if not await lock.acquire():
            raise JobRunning(name, (await live_locks(self._db, self._clock())).get(name))
        try:
            if closed := await self.runs.close_abandoned(name, lock.holder):
                log.warning("job %s: %s run(s) left running by a dead instance are closed as failed", name, closed)
            if only_if is not None and not only_if(await self.runs.last(name)):
                await lock.release()       # another instance ran it meanwhile
                return None
            run_id = await self.runs.start(name, triggered_by, lock.holder)
            await lock.attach(run_id)
        except BaseException:
            await lock.release()
            raise
        log.info("job %s: run %s started (%s)", name, run_id, triggered_by)
        return _Claim(job, lock, run_id)

    async def _execute(self, claim: _Claim) -> None:
        counts = Counts.fromkeys(claim.job.counted, 0)
        me = asyncio.current_task()
        lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep(claim, counts, me, lost), name=f"job-lock-{claim.run_id}")
        status, error, interrupted = "failed", None, False
        started = time.perf_counter()
        try:
            await claim.job.run(counts)
            status = "succeeded"
        except asyncio.CancelledError:
            if lost.is_set():
                me.uncancel()           # we stopped ourselves: the caller carries on
                error = "stopped: the job's lock was taken over by another instance (its lease ran out)"
            else:
                interrupted, error = True, "interrupted: the server stopped"
        except Exception as exc:
            log.exception("job %s: run %s failed", claim.job.name, claim.run_id)
            error = f"{type(exc).__name__}: {exc}"[:4000]
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            self._metrics.job_ran(claim.job.name, status, time.perf_counter() - started)
            await self.runs.finish(claim.run_id, status, counts, error)
            if not lost.is_set():
                await claim.lock.release()
        log.info("job %s: run %s %s %s", claim.job.name, claim.run_id, status, dict(counts))
        if interrupted:
            raise asyncio.CancelledError

    async def _keep(self, claim: _Claim, counts: Counts, job_task: asyncio.Task, lost: asyncio.Event) -> None:
        """Renew the lease every third of it, and record the counts so far with it."""
        while True:
            await asyncio.sleep(self.lock_seconds / 3)       # a schedule, not a synchronisation
            try:
                renewed = await claim.lock.renew()
                await self.runs.progress(claim.run_id, counts)
            except Exception:
                log.exception("job %s: renewing the lock failed; trying again", claim.job.name)
                continue
            if not renewed:
                log.error("job %s: run %s lost its lock; stopping it", claim.job.name, claim.run_id)
                lost.set()
                job_task.cancel()
                return
