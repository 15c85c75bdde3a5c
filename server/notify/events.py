"""Per-user SSE events: the outbox's SSE channel, the bus that carries it to every instance, and
the stream each `GET /api/events` connection reads.

The database is the log: an event is its outbox row, and its SSE `id:` is the row's id. The bus
carries only doorbells ("user 7 has news"); a stream that hears one reads the user's rows after
the last id it sent. That makes one stream's queue a single flag whatever arrives (the backlog
is in the database, not in memory), delivery order the id order, and replay after
`Last-Event-ID` the same query as live delivery. A stream subscribes before it first reads, so an
event committed while it replays rings the bell and is read next: no gap, and since it only ever
sends ids above the last one sent, no duplicate. (Per user, ids commit in order: see
outbox.enqueue.) Each event's `data` is its payload with a `message` for the person
(server/notify/sentences.py), in the language the user has when the event is sent: read once per
page of rows, so a change applies from the next page on.

In one process the bus is a dict of subscriptions. With Redis, every instance publishes doorbells
on one channel and holds one subscription to it, however many streams it serves. On a Redis
Cluster the channel is sharded by user (SHARDS sharded channels, each in a slot of its own), so the
doorbells spread over the nodes instead of every node relaying every one of them.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from contextlib import asynccontextmanager
from functools import partial
from typing import AsyncIterator
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from redis.exceptions import RedisError

from server.background import Background
from server.db.database import Database, fresh_reader
from server.db.tables import outbox, users
from server.notify.sentences import sentence
from server.outbox.dispatch import DeliveryFailed, Message
from server.outbox.routes import SSE
from server.redis_client import Client, is_cluster, listen, listen_sharded, namespace, open_redis, subscribe
from server.schemas.common import DEFAULT_LANGUAGE, Language
from server.settings import Settings

log = logging.getLogger(__name__)

REDIS_CHANNEL = "events:sse"          # after the database's namespace (server.redis_client.namespace)
SHARDS = 16                           # a cluster's doorbell channels: user id modulo this
READ_PAGE = 200
PING = b": ping\n\n"
_encode = msgspec.json.Encoder().encode
_decode_doorbell = msgspec.json.Decoder(tuple[int, int]).decode


class Subscription:
    """One stream's doorbell: rung any number of times, it holds one "there may be news"."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.closed = False
        self._news = asyncio.Event()

    def ring(self) -> None:
        self._news.set()

    def close(self) -> None:
        self.closed = True
        self._news.set()

    async def wait(self, timeout: float) -> bool:
        """True when rung (or closed), False after `timeout` seconds of quiet."""
        try:
            async with asyncio.timeout(timeout):     # (not wait_for: see Dispatcher._drain)
                await self._news.wait()
        except TimeoutError:
            return False
        self._news.clear()
        return True


class LocalBus:
    """Doorbells within one process: enough for a single instance."""

    def __init__(self) -> None:
        self._subscriptions: dict[int, set[Subscription]] = defaultdict(set)

    def subscribe(self, user_id: int) -> Subscription:
        subscription = Subscription(user_id)
        self._subscriptions[user_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        mine = self._subscriptions.get(subscription.user_id)
        if mine is not None:
            mine.discard(subscription)
            if not mine:
                del self._subscriptions[subscription.user_id]

    async def publish(self, user_id: int, event_id: int) -> None:
        self.ring(user_id)

    def ring(self, user_id: int) -> None:
        for subscription in self._subscriptions.get(user_id, ()):
            subscription.ring()

    def ring_all(self) -> None:
        for mine in self._subscriptions.values():
            for subscription in mine:
                subscription.ring()

    def hang_up(self) -> None:
        """End every stream (shutdown): each sees its subscription closed and finishes."""
        for mine in list(self._subscriptions.values()):
            for subscription in list(mine):
                subscription.close()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        self.hang_up()


class RedisBus(LocalBus):
    """Doorbells through Redis pub/sub, so a stream hears of events whichever instance dispatched them."""

    def __init__(self, client: Client, prefix: str = "tb"):
        super().__init__()
        self._redis = client
        self._sharded = is_cluster(client)
        self._channel = namespace(client, prefix) + REDIS_CHANNEL
        self._shards = [f"{prefix}:{REDIS_CHANNEL}:{{{n}}}" for n in range(SHARDS)]
        self._pubsub = client.pubsub()
        self._reader = Background()

    async def start(self) -> None:
        await subscribe(self._pubsub, *(self._shards if self._sharded else [self._channel]))
        # After a lost connection doorbells may have gone unheard: every stream looks again.
        self._reader.spawn("events-redis-pubsub", partial(listen_sharded if self._sharded else listen, self._pubsub,
                                                          "event bus", self._doorbell, self.ring_all))

    async def publish(self, user_id: int, event_id: int) -> None:
        if self._sharded:
            await self._redis.spublish(self._shards[user_id % SHARDS], _encode((user_id, event_id)))
        else:
            await self._redis.publish(self._channel, _encode((user_id, event_id)))

    def _doorbell(self, data: str) -> None:
        user_id, _event_id = _decode_doorbell(data)
        self.ring(user_id)

    async def close(self) -> None:
        await super().close()
        await self._reader.stop()
        await self._pubsub.aclose()
        await self._redis.aclose()


async def open_bus(settings: Settings) -> LocalBus:
    bus = LocalBus()
    if settings.redis_url:
        bus = RedisBus(await open_redis(settings.redis_url), settings.redis_key_prefix)
    await bus.start()
    return bus


class SseChannel:
    """The outbox's SSE channel: the row is the event; delivering it is ringing the user's bell."""

    def __init__(self, bus: LocalBus):
        self._bus = bus

    async def deliver(self, message: Message) -> None:
        try:
            await self._bus.publish(message.user_id, message.id)
        except (RedisError, OSError) as exc:
            raise DeliveryFailed(f"event bus: {type(exc).__name__}: {exc}") from None


class EventStreams:
    """What one `GET /api/events` connection receives, as SSE-encoded chunks."""

    def __init__(self, db: Database, bus: LocalBus, *, heartbeat_seconds: float, zone: ZoneInfo):
        self._db = db
        self._bus = bus
        self._heartbeat = heartbeat_seconds
        self._zone = zone

    @asynccontextmanager
    async def open(self, user_id: int, last_event_id: int | None) -> AsyncIterator[AsyncIterator[bytes]]:
        """Subscribe and fix the starting point, then give the stream: the events after
        `last_event_id` (None: after the latest one now), then live ones as they commit, with a
        `: ping` comment after each quiet heartbeat interval. Open it before answering the request,
        so that whatever commits once the client has the response headers reaches the client."""
        subscription = self._bus.subscribe(user_id)       # first, so nothing committed from here is missed
        try:
            after = await self._latest(user_id) if last_event_id is None else last_event_id
            yield self._stream(subscription, after)
        finally:
            self._bus.unsubscribe(subscription)

    async def _stream(self, subscription: Subscription, after: int) -> AsyncIterator[bytes]:
        """Ends when the bus hangs up (shutdown)."""
        while not subscription.closed:
            language, rows = await self._after(subscription.user_id, after)
            for event_id, event, payload in rows:
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, event.encode(),
                                                          _encode(self._data(event, payload, language)))
                after = event_id
            if len(rows) == READ_PAGE:
                continue                      # more to replay before waiting
            if not await subscription.wait(self._heartbeat):
                yield PING

    def _data(self, event: str, payload: object, language: Language) -> object:
        if not isinstance(payload, dict):         # (every event's payload is an object; nothing to add to another)
            return payload
        return {**payload, "message": sentence(event, payload, language, self._zone)}

    async def _after(self, user_id: int, after: int) -> tuple[Language, list]:
        """The next page of the user's events, and the language to word them in (read only when there
        are events: a doorbell with nothing new costs one query)."""
        async with fresh_reader(self._db) as conn:
            rows = (await conn.execute(
                sa.select(outbox.c.id, outbox.c.event, outbox.c.payload)
                .where(outbox.c.user_id == user_id, outbox.c.channel == SSE, outbox.c.id > after)
                .order_by(outbox.c.id).limit(READ_PAGE))).all()
            if not rows:
                return DEFAULT_LANGUAGE, rows
            language = (await conn.execute(sa.select(users.c.language).where(users.c.id == user_id))).scalar()
        return language or DEFAULT_LANGUAGE, rows

    async def _latest(self, user_id: int) -> int:
        async with fresh_reader(self._db) as conn:
            latest = (await conn.execute(sa.select(sa.func.max(outbox.c.id)).where(
                outbox.c.user_id == user_id, outbox.c.channel == SSE))).scalar()
        return latest or 0

    def close(self) -> None:
        """Shutdown: every open stream ends (its client reconnects elsewhere with Last-Event-ID)."""
        self._bus.hang_up()
