"""The one way the server talks to Redis: the client factory every Redis user goes through (seat
engine, SSE bus, search cache, rate limits), how pub/sub channels are named, and the loop that
listens to a subscription and survives a lost connection. (No HTTP and nothing else of the server
here: the seat engine uses it too.)"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError

from server.background import nap

log = logging.getLogger(__name__)
RECONNECT_PAUSE_SECONDS = 0.5


def connect(url: str, *, decode_responses: bool = True, max_connections: int = 64) -> redis.Redis:
    """A client whose callers wait for a free connection under load instead of failing. Closing the
    client closes its pool. `decode_responses=False` for users that store bytes (the search cache)."""
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10,
                                                 decode_responses=decode_responses, health_check_interval=30)
    return redis.Redis.from_pool(pool)


def namespace(client: redis.Redis) -> str:
    """A prefix for pub/sub channels: unlike keys, channels are shared by all of a server's databases,
    so two deployments on one Redis (db 0 and db 1) would otherwise hear each other."""
    return f"tb:{client.connection_pool.connection_kwargs.get('db', 0)}:"


async def listen(pubsub: redis.client.PubSub, what: str, on_message: Callable[[str], None],
                 on_lost: Callable[[], None], stopping: asyncio.Event) -> None:
    """Hand each message's data to `on_message` until `stopping` is set (see server/background.py). When the connection drops, redis-py
    reconnects and resubscribes on the next read; messages sent meanwhile are gone, so `on_lost` is
    called once it is back. A message `on_message` fails on is logged and skipped: one bad message
    must not stop everything else this process listens to."""
    lost = False
    while not stopping.is_set():
        try:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        except asyncio.CancelledError:
            raise
        except (RedisConnectionError, OSError) as exc:
            if not lost:
                log.warning("%s: Redis subscription lost (%s); resubscribing", what, exc)
            lost = True
            await nap(stopping, RECONNECT_PAUSE_SECONDS)     # back off before reconnecting
            continue
        if lost:
            lost = False
            on_lost()
        if message is None or message.get("type") != "message":
            continue
        try:
            on_message(message["data"])
        except Exception:
            log.exception("%s: message %r could not be handled", what, message["data"][:200])
