"""What a batch job is: a name, a default interval, what it counts, a summary, and `run(counts)` over
the context it was built with."""
from __future__ import annotations

import abc
import inspect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, ClassVar
from zoneinfo import ZoneInfo

from server.checkout import Checkout
from server.db.database import Database
from server.db.types import utcnow
from server.reservations import Reservations
from server.seating import Seating
from server.settings import Settings
from server.storage import Storage

DAY = 24 * 3600


@dataclass(frozen=True)
class JobContext:
    """The server's own services, which the jobs call rather than repeat (checkout settles payments,
    the seat engine frees seats), and the settings they read."""
    db: Database
    settings: Settings
    storage: Storage
    seating: Seating
    reservations: Reservations
    checkout: Checkout
    zone: ZoneInfo
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def chunk_size(self) -> int:
        return self.settings.job_chunk_size


class Counts(dict[str, int]):
    """What a run did so far, by kind (`dormant`, `reminded`...). Recorded with the run as it goes,
    so a run that fails or is stopped still says how far it got."""

    def add(self, **counts: int) -> None:
        for name, count in counts.items():
            self[name] = self.get(name, 0) + count


class Job(abc.ABC):
    """A job declares itself in its class line,
    `class DormantUsers(Job, name="dormant-users", every_seconds=DAY, counted=("dormant", "anonymised"))`,
    and its docstring is the summary the API shows."""
    name: ClassVar[str]
    summary: ClassVar[str]
    every_seconds: ClassVar[float]          # the default schedule (TICKETBLUE_JOB_INTERVALS overrides it)
    counted: ClassVar[tuple[str, ...]]      # what its runs count (each starts at 0, so every run says all)

    def __init_subclass__(cls, *, name: str, every_seconds: float, counted: tuple[str, ...], **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name, cls.every_seconds, cls.counted = name, every_seconds, counted
        cls.summary = " ".join(inspect.getdoc(cls).split())

    def __init__(self, ctx: JobContext):
        self.ctx = ctx

    @abc.abstractmethod
    async def run(self, counts: Counts) -> None:
        """Do the job in chunks, each in its own transaction. Must be idempotent: a second run right
        after finds nothing left to do and sends nothing again."""
