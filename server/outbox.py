"""The outbox: the messages a change causes are written in the same transaction as the change, and a
dispatcher delivers them afterwards, outside any booking, with retries, backoff and a dead letter.

    async with db.begin() as conn:
        ...                                    # the reservation change
        await enqueue(conn, event="reservation.confirmed", user_id=user_id, payload=booking)

Each channel (SSE, mail, Slack) gets its own row and its own dispatcher loop, so a slow or broken
SMTP server delays neither a booking nor the SSE events. Several instances may dispatch at once:
a row is claimed by one of them (SELECT ... FOR UPDATE SKIP LOCKED on MariaDB, a writer lock on
SQLite) and the claim is a lease: `next_attempt_at` moves past the longest delivery, so a row whose
dispatcher died becomes due again, while a live dispatcher's finish only counts if it still holds
the claim. Delivery is therefore once per channel, or at least once if an instance dies mid-way.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Callable, Iterable, Mapping, Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from server.background import every
from server.db.database import Database
from server.db.tables import event_streams, outbox
from server.db.types import utcnow
from server.settings import Settings

log = logging.getLogger(__name__)

SSE, MAIL, SLACK, SEARCH = "sse", "mail", "slack", "search"
CHANNELS = (SSE, MAIL, SLACK, SEARCH)
TO_A_USER = frozenset({SSE, MAIL})        # channels that need a user_id to address

# Which event goes where. SSE gets everything (it is the user's live feed); mail only what a person
# wants in their inbox (one mail per booking change: payment.* travel with their reservation.*
# event); Slack is the box office's feed of bookings that became real or stopped being real.
ROUTES: dict[str, tuple[str, ...]] = {
    "reservation.created":   (SSE,),
    "reservation.confirmed": (SSE, MAIL, SLACK),
    "reservation.canceled":  (SSE, MAIL, SLACK),
    "reservation.expired":   (SSE, MAIL),
    "payment.confirmed":     (SSE,),
    "payment.canceled":      (SSE,),
    "hold.expired":          (SSE,),
    "coupon.issued":         (SSE,),
    "reminder.upcoming":     (SSE, MAIL),
    "reminder.review":       (SSE, MAIL),
}

# Messages outside the users' live feed, from the batch jobs (server/jobs/): an account about to
# become dormant is told by mail (its owner is not around to see SSE); the box office hears once per
# run how many were told.
NOTICE_ROUTES: dict[str, tuple[str, ...]] = {
    "account.dormant_notice":       (MAIL,),
    "account.dormant_notices_sent": (SLACK,),
}

# Events no person is told about: a part of the server keeps itself in step with a change.
INTERNAL_ROUTES: dict[str, tuple[str, ...]] = {
    "search.index": (SEARCH,),        # rows to re-index (server/search/sync.py)
}

PURGE_EVERY_SECONDS = 600
PURGE_BATCH = 1000
STOP_GRACE_SECONDS = 5          # on stop, beyond a delivery's own timeout, for the batch's record
_WAKE_KEY = "outbox.wake"                 # in a pooled connection's info: channels to wake after commit


# ---- writing -----------------------------------------------------------------------------------------
def routes_of(event: str) -> tuple[str, ...]:
    """The channels `event` goes to."""
    routes = ROUTES.get(event) or NOTICE_ROUTES.get(event) or INTERNAL_ROUTES.get(event)
    if routes is None:
        raise ValueError(f"unknown outbox event {event!r}")
    return routes


async def enqueue(conn: AsyncConnection, *, event: str, user_id: int | None, payload: Any,
                  channels: Iterable[str] | None = None) -> dict[str, int]:
    """Write one outbox row per channel of `event` (ROUTES, or `channels`) in the caller's open
    transaction; returns {channel: row id} (the SSE row's id is the event's SSE `id:`).

    `payload` is a dict or a msgspec Struct (see server/notify/messages.py for what mail and Slack
    read). Call it last in the transaction: with an SSE row it locks the user's event stream until
    the commit, so two transactions for one user cannot commit their events out of id order."""
    routes = routes_of(event)
    targets = routes if channels is None else tuple(channels)
    if unknown := set(targets) - set(CHANNELS):
        raise ValueError(f"unknown outbox channels {sorted(unknown)}")
    if user_id is None and TO_A_USER & set(targets):
        raise ValueError(f"{event}: channels {sorted(TO_A_USER & set(targets))} need a user_id")
    if SSE in targets:
        await _lock_stream(conn, user_id)
    now, body = utcnow(), msgspec.to_builtins(payload)
    ids = {}
    for channel in targets:
        result = await conn.execute(outbox.insert().values(
            channel=channel, event=event, user_id=user_id, payload=body, status="pending",
            attempts=0, next_attempt_at=now, created_at=now))
        ids[channel] = result.inserted_primary_key[0]
    # Read by the pool's check-in hook (Dispatcher._after_commit): wake this instance's dispatcher as
    # soon as the transaction is over instead of at its next poll.
    conn.info.setdefault(_WAKE_KEY, set()).update(targets)
    return ids


async def enqueue_select(conn: AsyncConnection, *, event: str, source: sa.Select) -> int:
    """`enqueue` for batch jobs: `event` to every user of `source` — a SELECT of (user_id, payload),
    the payload JSON built by the database — in the caller's open transaction, with one INSERT ...
    SELECT per channel however many users. Returns the rows written. Call it last in the
    transaction, like `enqueue`; the users' event streams are locked in user_id order, so two batch
    transactions cannot deadlock over them."""
    targets = routes_of(event)
    user_id, payload = source.selected_columns
    # The source's own FROM, WHERE and hints, other columns: no derived table for the planner to
    # merge (and lose a join-order hint with).
    if SSE in targets:
        user_ids = source.with_only_columns(user_id).group_by(user_id).order_by(user_id)
        if conn.dialect.name == "mysql":
            statement = mysql_insert(event_streams).from_select(["user_id"], user_ids)
            statement = statement.on_duplicate_key_update(user_id=statement.inserted.user_id)
        else:                          # (WHERE: SQLite would read "SELECT ... ON CONFLICT" as a join's ON)
            statement = sqlite_insert(event_streams).from_select(["user_id"], user_ids.where(sa.true()))
            statement = statement.on_conflict_do_nothing()
        await conn.execute(statement)
    now = sa.literal(utcnow(), outbox.c.created_at.type)
    written = 0
    for channel in targets:
        result = await conn.execute(outbox.insert().from_select(
            ["channel", "event", "user_id", "payload", "status", "attempts", "next_attempt_at", "created_at"],
            source.with_only_columns(sa.literal(channel), sa.literal(event), user_id, payload, sa.literal("pending"),
                                     sa.literal(0), now, now)))
        written += result.rowcount
    if written:
        conn.info.setdefault(_WAKE_KEY, set()).update(targets)
    return written


async def _lock_stream(conn: AsyncConnection, user_id: int) -> None:
    """Lock the user's event_streams row (creating it if needed) until the caller commits.
    Not the users row: the caller's inserts that reference the user hold shared locks on it, and
    two such transactions upgrading to exclusive would deadlock each other."""
    if conn.dialect.name == "mysql":
        statement = mysql_insert(event_streams).values(user_id=user_id).on_duplicate_key_update(user_id=user_id)
    else:                                  # SQLite transactions are serialised anyway
        statement = sqlite_insert(event_streams).values(user_id=user_id).on_conflict_do_nothing()
    await conn.execute(statement)


@asynccontextmanager
async def fresh_reader(db: Database) -> AsyncIterator[AsyncConnection]:
    """Reads that must see every committed row (a replica may lag behind a doorbell) without taking
    the writer lock: SQLite's reader engine reads the same file; MariaDB's primary."""
    source = db.read() if db.dialect == "sqlite" else db.read_own_writes()
    async with source as conn:
        yield conn


# ---- delivering --------------------------------------------------------------------------------------
class Message(msgspec.Struct, frozen=True):
    """A claimed outbox row, as a channel sees it. `attempts` counts this one."""
    id: int
    channel: str
    event: str
    user_id: int | None
    payload: dict
    attempts: int
    claim: str                        # the claim's token: only its holder may record the outcome


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
                          outbox.c.attempts, outbox.c.claimed_by)
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
                        message.event, message.attempts, reason)
        else:
            log.info("outbox %s #%s failed (attempt %s), retry in %ss: %s", message.channel, message.id,
                     message.attempts, wait, reason)
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
        self._tasks.append(asyncio.create_task(every(PURGE_EVERY_SECONDS, "outbox-purge", self.purge)))

    async def stop(self) -> None:
        """Let each loop finish the batch it has under way (a delivery is bounded by its timeout), then
        cancel what is still running; a batch cut short is claimed again once its lease runs out.
        (Cancelled inside a transaction, a loop left SQLite's write lock to the busy timeout: 30 s.)"""
        if sa.event.contains(self._pool, "checkin", self._after_commit):
            sa.event.remove(self._pool, "checkin", self._after_commit)
        self._stopping = True
        self.wake()
        drains, others = self._tasks[:-1], self._tasks[-1:]
        for task in others:
            task.cancel()
        _, late = await asyncio.wait(drains, timeout=self.policy.timeout_seconds + STOP_GRACE_SECONDS) \
            if drains else (set(), set())
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
        channels = record.info.pop(_WAKE_KEY, None)
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
