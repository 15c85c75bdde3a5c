"""The jobs as the admin API and the command line see them: list them with their last runs, run one."""
from __future__ import annotations

from typing import get_args

from server.jobs.base import Job, JobContext
from server.jobs.dormant_notice import DormantUsersNotice
from server.jobs.dormant_users import DormantUsers
from server.jobs.expired_reservations import ExpiredReservations
from server.jobs.lock import live_locks
from server.jobs.old_performances import OldPerformances
from server.jobs.review_reminders import ReviewReminders
from server.jobs.runner import Runner
from server.jobs.runs import RunRecords
from server.jobs.schedule import Scheduler, parse_intervals
from server.jobs.schemas import JobName, JobOut, JobRunOut, JobRunQuery, JobRunStarted
from server.jobs.upcoming_reminders import UpcomingReminders
from server.metrics import Metrics
from server.schemas.common import Page
from server.settings import Settings

JOB_TYPES: tuple[type[Job], ...] = (DormantUsers, DormantUsersNotice, OldPerformances, ExpiredReservations,
                                    UpcomingReminders, ReviewReminders)
NAMES: tuple[str, ...] = get_args(JobName)
assert tuple(t.name for t in JOB_TYPES) == NAMES, "the API's job names and the jobs must agree"


def check_intervals(settings: Settings) -> None:
    """Raise SettingsError (naming the variable) for a TICKETBLUE_JOB_INTERVALS that does not parse."""
    parse_intervals(settings.job_intervals, {t.name: t.every_seconds for t in JOB_TYPES})


class Jobs:
    def __init__(self, ctx: JobContext, *, jobs: dict[str, Job] | None = None, metrics: Metrics | None = None):
        """`jobs` replaces the six (tests of the runner with jobs of their own)."""
        settings = ctx.settings
        self._ctx = ctx
        self.jobs = jobs if jobs is not None else {t.name: t(ctx) for t in JOB_TYPES}
        self.intervals = parse_intervals(settings.job_intervals, {n: j.every_seconds for n, j in self.jobs.items()})
        self.runs = RunRecords(ctx.db, ctx.zone, ctx.clock)
        self.runner = Runner(ctx.db, self.jobs, self.runs, lock_seconds=settings.job_lock_seconds, clock=ctx.clock,
                             metrics=metrics)
        self.scheduler = Scheduler(self.runner, self.intervals, ctx.clock) if settings.jobs_scheduled else None

    def start(self) -> None:
        if self.scheduler is not None:
            self.scheduler.start()

    async def stop(self) -> None:
        """Stop the schedule and every run this instance has going (each is recorded as interrupted)."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.runner.stop()

    async def overview(self) -> list[JobOut]:
        latest, running = await self.runs.latest(), await live_locks(self._ctx.db, self._ctx.clock())
        out = []
        for name, job in self.jobs.items():
            last = latest.get(name)
            next_at = self.scheduler.next_run_at(name, last) if self.scheduler is not None else None
            out.append(JobOut(name=name, summary=job.summary, every_seconds=self.intervals[name],
                              scheduled=next_at is not None, running=name in running,
                              next_run_at=next_at.astimezone(self._ctx.zone) if next_at else None, last_run=last))
        return out

    async def start_run(self, name: str) -> JobRunStarted:
        """Run `name` now, in the background (the admin API). 409 job_running if a run is under way."""
        return JobRunStarted(run_id=await self.runner.start(name, "api"), job=name)

    async def run_here(self, name: str, triggered_by: str = "cli") -> JobRunOut:
        """Run `name` to its end in this process (the command line). Raises JobRunning."""
        run = await self.runner.run(name, triggered_by)
        assert run is not None             # (None only with only_if)
        return run

    async def list_runs(self, query: JobRunQuery) -> Page[JobRunOut]:
        return await self.runs.page(query)

    async def get_run(self, run_id: int) -> JobRunOut:
        return await self.runs.get(run_id)

