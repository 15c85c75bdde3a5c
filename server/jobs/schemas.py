"""What the admin API says about jobs and their runs."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from server.schemas.common import PageQuery

JobName = Literal["dormant-users", "dormant-users-notice", "old-performances", "expired-reservations",
                  "upcoming-reminders", "review-reminders"]
RunStatus = Literal["running", "succeeded", "failed"]


class JobRunOut(msgspec.Struct):
    id: int
    job: str
    triggered_by: Literal["schedule", "api", "cli"]
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]                 # what it did, by kind (e.g. {"dormant": 120, "anonymised": 3})
    error: str | None


class JobOut(msgspec.Struct):
    name: str
    summary: str
    every_seconds: float                   # its interval; 0 when it is off the schedule
    scheduled: bool                        # whether this server runs it on that schedule
    running: bool                          # some instance runs it right now
    next_run_at: datetime | None           # when the schedule runs it next (None: not scheduled)
    last_run: JobRunOut | None


class JobRunStarted(msgspec.Struct):
    run_id: int
    job: str
    status: RunStatus = "running"


class JobRunQuery(PageQuery):
    job: JobName | None = None
