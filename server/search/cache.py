"""Cached catalogue search answers: in Redis when configured (shared by every instance), else in this
process (the embedded default, one instance).

An answer's key carries the version of the catalogue it reflects (SearchBackend.version): a change
makes a new version, so the next search misses and the old answers are never read again; they
just expire (TTL). Nothing is deleted on a change, so no search that was running during the
change can put a stale answer back where it would be found: it would be under the old version.

The stores also hold the version tokens themselves where the backend has no place of its own for
them (Elasticsearch's is bumped by the index sync once a change is searchable). Tokens are random,
not counters: a Redis that lost its keys, or a database restored from a backup, can never make an
old version number come back and revive answers cached under it.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from typing import Callable

import msgspec
import redis.asyncio as redis
from redis.exceptions import RedisError

from server.metrics import Metrics
from server.search.backend import CatalogueSearch
from server.search.schemas import CatalogueResults

log = logging.getLogger(__name__)


class CacheUnavailable(Exception):
    """The cache's store did not answer; search goes to the backend instead."""


def new_token() -> str:
    return secrets.token_hex(8)


class MemoryStore:
    """A bounded LRU of answers with expiry times, and the version tokens, in this process."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._tokens: dict[str, str] = {}
        self._max = max_entries
        self._clock = clock

    async def get(self, key: str) -> bytes | None:
        item = self._entries.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return item[1]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def token(self, name: str) -> str:
        return self._tokens.setdefault(name, new_token())

    async def bump(self, name: str) -> None:
        self._tokens[name] = new_token()

    async def close(self) -> None:
        self._entries.clear()


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str):
        self._redis = client
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        try:
            return await self._redis.get(key)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            await self._redis.set(key, value, px=max(1, int(ttl * 1000)))
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def token(self, name: str) -> str:
        key = f"{self._prefix}:version:{name}"
        try:
            value = await self._redis.get(key)
            if value is None:             # first use, or Redis lost it: any new token will do
                await self._redis.set(key, new_token(), nx=True)
                value = await self._redis.get(key)
        except RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return value.decode()

    async def bump(self, name: str) -> None:
        """Raises on failure: the index sync must retry rather than leave old answers current."""
        await self._redis.set(f"{self._prefix}:version:{name}", new_token())

    async def close(self) -> None:
        await self._redis.aclose()


Store = MemoryStore | RedisStore


class AnswerCache:
    """Catalogue answers by (version, query), msgpack-encoded, kept `ttl` seconds."""

    def __init__(self, store: Store, *, prefix: str, ttl: float, metrics: Metrics | None = None):
        self.store = store
        self._prefix = prefix
        self._ttl = ttl
        self._metrics = metrics or Metrics()
        self._decoder = msgspec.msgpack.Decoder(CatalogueResults)
        self._encoder = msgspec.msgpack.Encoder()

    def key(self, version: str, search: CatalogueSearch) -> str:
        # The parsed query, not the raw one: "Phantom" and "phantom " share an answer.
        digest = hashlib.blake2b(self._encoder.encode(search.__dict__), digest_size=16).hexdigest()
        return f"{self._prefix}:answer:{version}:{digest}"

    async def get(self, version: str, search: CatalogueSearch) -> CatalogueResults | None:
        raw = await self.store.get(self.key(version, search))
        self._metrics.search_cache("miss" if raw is None else "hit")
        return None if raw is None else self._decoder.decode(raw)

    async def put(self, version: str, search: CatalogueSearch, results: CatalogueResults) -> None:
        await self.store.set(self.key(version, search), self._encoder.encode(results), self._ttl)
