"""Running the jobs on a schedule inside the server: each job every so many seconds.

Every instance runs the same loops; the job's lock makes one of them run it, and the winner checks,
once the lock is its own, that the job is still due (another instance may have just run it). A job is
due an interval after its last run started; after a failed run, sooner (RETRY_FAILED_SECONDS); never
run, an interval after this instance started. Manual runs (API, command line) count as runs.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Callable

from server.background import Background, nap
from server.db.types import utcnow
from server.jobs.runner import JobRunning, Runner
from server.jobs.schemas import JobRunOut
from server.settings import SettingsError, env_name

log = logging.getLogger(__name__)

RETRY_FAILED_SECONDS = 300
LONGEST_NAP_SECONDS = 30          # a run by another instance or by hand is noticed within this


def parse_intervals(text: str, defaults: dict[str, float]) -> dict[str, float]:
    """TICKETBLUE_JOB_INTERVALS: `name=seconds,...` over the jobs' defaults; 0 takes a job off the schedule."""
    intervals = dict(defaults)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, seconds = item.partition("=")
        name = name.strip()
        try:
            value = float(seconds)
        except ValueError:
            value = -1
        if name not in defaults or value < 0:
            raise SettingsError(f"{env_name('job_intervals')}: {item!r} is not <job>=<seconds ≥ 0>; "
                                f"jobs: {', '.join(defaults)}")
        intervals[name] = value
    return intervals


def next_run_at(last: JobRunOut | None, every: float, since: datetime) -> datetime:
    if last is None:
        return since + timedelta(seconds=every)
    wait = min(every, RETRY_FAILED_SECONDS) if last.status == "failed" else every
    return last.started_at + timedelta(seconds=wait)


class Scheduler:
    def __init__(self, runner: Runner, intervals: dict[str, float], clock: Callable[[], datetime] = utcnow):
        self._runner = runner
        self.intervals = {name: every for name, every in intervals.items() if every > 0}
        self._clock = clock
        self.started_at = clock()
        self._loops = Background()

    def start(self) -> None:
        self.started_at = self._clock()
        for name, every in self.intervals.items():
            self._loops.spawn(f"schedule-{name}", partial(self._loop, name, every))

    async def stop(self) -> None:
        """Stops the loops, and with them a scheduled run in progress (recorded as interrupted)."""
        await self._loops.stop()

    def next_run_at(self, name: str, last: JobRunOut | None) -> datetime | None:
        every = self.intervals.get(name)
        return next_run_at(last, every, self.started_at) if every else None

    async def _loop(self, name: str, every: float, stopping: asyncio.Event) -> None:
        def still_due(last: JobRunOut | None) -> bool:
            return next_run_at(last, every, self.started_at) <= self._clock()

        while not stopping.is_set():
            try:
                last = await self._runner.runs.last(name)
                wait = (next_run_at(last, every, self.started_at) - self._clock()).total_seconds()
                if wait <= 0:
                    await self._runner.run(name, "schedule", only_if=still_due)
                    continue                           # its record says when the next run is due
            except JobRunning:
                wait = min(every, LONGEST_NAP_SECONDS)  # another instance has it: look again later
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("schedule of %s: could not run it; trying again shortly", name)
                wait = min(every, 60)
            await nap(stopping, min(max(wait, 0.01), LONGEST_NAP_SECONDS))
