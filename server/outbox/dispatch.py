"""Delivering the outbox: per channel, one loop claims due rows (a lease), delivers them with a
timeout, and records the outcome; failures are retried with backoff, then dead-lettered.

Several instances may dispatch at once: a row is claimed by one of them (SELECT ... FOR UPDATE SKIP
LOCKED on MariaDB, a writer lock on SQLite) and the claim is a lease: `next_attempt_at` moves past the
longest delivery, so a row whose dispatcher died becomes due again, while a live dispatcher's finish
only counts if it still holds the claim. Delivery is therefore once per channel, or at least once if
an instance dies mid-way.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Protocol

import msgspec
import sqlalchemy as sa

from server import request_ids
from server.background import Background
from server.db.database import Database, fresh_reader
from server.db.tables import outbox
from server.db.types import utcnow
from server.outbox.write import WAKE_KEY
from server.settings import Settings

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 600
PURGE_BATCH = 1000
STOP_GRACE_SECONDS = 5          # on stop, beyond a delivery's own timeout, for the batch's record


class Message(msgspec.Struct, frozen=True):
    """A claimed outbox row, as a channel sees it. `attempts` counts this one."""
    id: int
    channel: str
    event: str
    user_id: int | None
    payload: dict
    attempts: int
    claim: str                        # the claim's token: only its holder may record the outcome
    request_id: str | None = None     # of the request that enqueued it (server/request_ids.py)


class DeliveryFailed(Exception):
    """A channel could not deliver. `permanent`: retrying cannot help (dead at once);
    `retry_after`: the other side said when to come back (seconds)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    async def deliver(self, message: Message) -> None:
        """Return when delivered; raise DeliveryFailed (anything else counts as a retryable failure)."""

    # A channel may also define `async def prepare(self, messages)`: called with each batch before
    # its deliveries start, to read what they all need at once.


@dataclass(frozen=True)
class Policy:
    batch_size: int = 50
    max_attempts: int = 10
    backoff_seconds: float = 10
    backoff_max_seconds: float = 3600
    timeout_seconds: float = 15
    poll_seconds: float = 1
    keep_hours: float = 48

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        return cls(batch_size=s.outbox_batch_size, max_attempts=s.outbox_max_attempts,
                   backoff_seconds=s.outbox_backoff_seconds, backoff_max_seconds=s.outbox_backoff_max_seconds,
                   timeout_seconds=s.delivery_timeout_seconds, poll_seconds=s.outbox_poll_seconds,
                   keep_hours=s.outbox_keep_hours)

    def backoff(self, attempts: int) -> float:
        """Wait after the `attempts`-th failure: base, 2 x base, 4 x base ... up to the cap."""
        return min(self.backoff_seconds * 2 ** (attempts - 1), self.backoff_max_seconds)

    @property
    def lease_seconds(self) -> float:
        """How long a claim lasts: well past a batch's deliveries (each cut at the timeout)."""
        return 2 * self.timeout_seconds + 30


class Dispatcher:
    """Per channel, one loop: claim a batch of due rows, deliver them concurrently (each within the
    timeout), record the outcomes. Woken by this instance's commits; polls for the rest (retries
    falling due, messages from instances that died)."""

    def __init__(self, db: Database, channels: Mapping[str, Channel], policy: Policy = Policy(), *,
                 clock: Callable[[], datetime] = utcnow):
        self._db = db
        self._channels = dict(channels)
        self.policy = policy
        self._clock = clock
        self._wakes = {name: asyncio.Event() for name in self._channels}
        self._tasks: list[asyncio.Task] = []
        self._purges = Background()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool = db.primary.sync_engine.pool

    # -- one round --------------------------------------------------------------------------------
    async def claim(self, channel: str) -> list[Message]:
        """Take up to a batch of this channel's due rows for this dispatcher alone."""
        now = self._clock()
        due = sa.and_(outbox.c.channel == channel, outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        async with fresh_reader(self._db) as conn:        # most polls find nothing: no writer lock for that
            if (await conn.execute(sa.select(outbox.c.id).where(due).limit(1))).first() is None:
                return []
        token = uuid.uuid4().hex
        async with self._db.begin() as conn:
            ids = (await conn.execute(
                sa.select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(self.policy.batch_size).with_for_update(skip_locked=True))).scalars().all()
            if not ids:
                return []
            await conn.execute(outbox.update().where(outbox.c.id.in_(ids), due).values(
                claimed_by=token, attempts=outbox.c.attempts + 1,
                next_attempt_at=now + timedelta(seconds=self.policy.lease_seconds)))
            rows = (await conn.execute(
                sa.select(outbox.c.id, outbox.c.channel, outbox.c.event, outbox.c.user_id, outbox.c.payload,
                          outbox.c.attempts, outbox.c.claimed_by, outbox.c.request_id)
                .where(outbox.c.claimed_by == token).order_by(outbox.c.id))).all()
        return [Message(*row) for row in rows]

    async def run_once(self, channel: str) -> int:
        """Claim, deliver and record one batch; returns how many messages it handled."""
        messages = await self.claim(channel)
        if messages:
            target = self._channels[channel]
            if hasattr(target, "prepare"):
                try:
                    await target.prepare(messages)
                except Exception:         # each delivery can still fetch what it needs by itself
                    log.exception("outbox %s: preparing a batch failed", channel)
            outcomes = await asyncio.gather(*(self._deliver(target, m) for m in messages))
            await self._record(outcomes)
        return len(messages)

    async def _deliver(self, channel: Channel, message: Message) -> tuple[Message, DeliveryFailed | None]:
        # Each delivery is a task of its own (gather): its log lines, and those of the channel, carry the
        # id of the request that caused the message, and no other delivery's.
        request_ids.REQUEST_ID.set(message.request_id)
        try:
            async with asyncio.timeout(self.policy.timeout_seconds):
                await channel.deliver(message)
            return message, None
        except DeliveryFailed as exc:
            return message, exc
        except TimeoutError:
            return message, DeliveryFailed(f"no answer within {self.policy.timeout_seconds:g}s")
        except Exception as exc:          # a bug or an unforeseen error: keep it, retry like any failure
            log.exception("outbox %s #%s: delivery raised", message.channel, message.id)
            return message, DeliveryFailed(f"{type(exc).__name__}: {exc}")

    async def _record(self, outcomes: list[tuple[Message, DeliveryFailed | None]]) -> None:
        """Write the outcomes, each only if its claim still holds (else the lease ran out and another
        dispatcher has the row now)."""
        now = self._clock()
        claim = outcomes[0][0].claim
        held = sa.and_(outbox.c.claimed_by == claim, outbox.c.status == "pending")
        delivered = [m.id for m, error in outcomes if error is None]
        async with self._db.begin() as conn:
            if delivered:
                await conn.execute(outbox.update().where(outbox.c.id.in_(delivered), held).values(
                    status="delivered", delivered_at=now, last_error=None, claimed_by=None))
            for message, error in outcomes:
                if error is not None:
                    await conn.execute(outbox.update().where(outbox.c.id == message.id, held)
                                       .values(**self._failure(message, error, now)))

    def _failure(self, message: Message, error: DeliveryFailed, now: datetime) -> dict[str, Any]:
        dead = error.permanent or message.attempts >= self.policy.max_attempts
        wait = self.policy.backoff(message.attempts)
        if error.retry_after is not None:     # the other side knows best, within our cap
            wait = min(max(error.retry_after, 0), self.policy.backoff_max_seconds)
        reason = str(error)[:2000]
        if dead:
            log.warning("outbox %s #%s (%s) is dead after %s attempt(s): %s", message.channel, message.id,
                        message.event, message.attempts, reason, extra={"request_id": message.request_id})
        else:
            log.info("outbox %s #%s failed (attempt %s), retry in %ss: %s", message.channel, message.id,
                     message.attempts, wait, reason, extra={"request_id": message.request_id})
        return {"status": "dead" if dead else "pending", "last_error": reason, "claimed_by": None,
                "next_attempt_at": now + timedelta(seconds=0 if dead else wait)}

    async def purge(self) -> int:
        """Forget delivered messages older than the keep period (SSE replay reaches that far back).
        Dead ones stay for someone to look at."""
        cutoff = self._clock() - timedelta(hours=self.policy.keep_hours)
        old = sa.and_(outbox.c.status == "delivered", outbox.c.created_at < cutoff)
        purged = 0
        while True:
            async with self._db.begin() as conn:
                ids = (await conn.execute(sa.select(outbox.c.id).where(old).limit(PURGE_BATCH))).scalars().all()
                if ids:
                    await conn.execute(outbox.delete().where(outbox.c.id.in_(ids)))
            purged += len(ids)
            if len(ids) < PURGE_BATCH:
                return purged

    # -- running ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        sa.event.listen(self._pool, "checkin", self._after_commit)
        for name in self._channels:
            self._tasks.append(asyncio.create_task(self._drain(name), name=f"outbox-{name}"))
        self._purges.start(PURGE_EVERY_SECONDS, "outbox-purge", self.purge)

    async def stop(self) -> None:
        """Let each loop finish the batch it has under way (a delivery is bounded by its timeout), then
        cancel what is still running; a batch cut short is claimed again once its lease runs out.
        (Cancelled inside a transaction, a loop left SQLite's write lock to the busy timeout: 30 s.)"""
        if sa.event.contains(self._pool, "checkin", self._after_commit):
            sa.event.remove(self._pool, "checkin", self._after_commit)
        self._stopping = True
        self.wake()
        await self._purges.stop()
        _, late = await asyncio.wait(self._tasks, timeout=self.policy.timeout_seconds + STOP_GRACE_SECONDS) \
            if self._tasks else (set(), set())
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def wake(self, channels: Iterable[str] | None = None) -> None:
        for name in self._channels if channels is None else channels:
            if name in self._wakes:
                self._wakes[name].set()

    def _after_commit(self, _dbapi_connection, record) -> None:
        """A connection went back to the pool: if it enqueued, its transaction is over by now."""
        channels = record.info.pop(WAKE_KEY, None)
        if channels and self._loop is not None:
            self._loop.call_soon_threadsafe(self.wake, channels)

    async def _drain(self, channel: str) -> None:
        wake = self._wakes[channel]
        while not self._stopping:
            wake.clear()                  # before the round: a wake-up during it means "go again"
            try:
                handled = await self.run_once(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox %s: dispatch round failed; trying again shortly", channel)
                handled = 0
            if handled < self.policy.batch_size:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
                # races its wake-up, and stop() would then wait for this loop forever.
                with suppress(TimeoutError):
                    async with asyncio.timeout(self.policy.poll_seconds):
                        await wake.wait()
