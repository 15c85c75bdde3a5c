"""The search service the handlers call: parse and check the query, answer catalogue searches from
the cache when it has the current version's answer, else from the backend; admin booking search
always from the backend (bookings change all the time, and admins need them as they are).

`open_search` picks the pieces from the settings: Elasticsearch or SQL, Redis or in-process cache.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from elasticsearch import AsyncElasticsearch

from server.db.database import Database
from server.metrics import Metrics
from server.redis_client import open_redis
from server.schemas.common import Page
from server.search.backend import KINDS, CatalogueSearch, ReservationSearch, SearchBackend
from server.search.cache import AnswerCache, CacheUnavailable, MemoryStore, RedisStore
from server.search.documents import TABLES
from server.search.elastic import ElasticBackend
from server.search.indices import Progress
from server.search.reindex import reindex
from server.search.schemas import CatalogueQuery, CatalogueResults, ReservationHit, ReservationQuery
from server.search.sql import SqlBackend
from server.search.sync import SearchChannel
from server.settings import Settings

log = logging.getLogger(__name__)


class Search:
    def __init__(self, backend: SearchBackend, cache: AnswerCache | None, *, db: Database, zone: ZoneInfo):
        self.backend = backend
        self.cache = cache
        self.channel = SearchChannel(backend)         # the outbox's `search` channel
        self._db = db
        self._zone = zone

    async def catalogue(self, query: CatalogueQuery) -> CatalogueResults:
        search = CatalogueSearch.parse(query)
        if self.cache is None:
            return (await self.backend.catalogue(search))[1]
        try:
            cached = await self.cache.get(await self.backend.version(), search)
        except CacheUnavailable as exc:
            log.warning("search cache unavailable, asking the backend: %s", exc)
            return (await self.backend.catalogue(search))[1]
        if cached is not None:
            return cached
        version, results = await self.backend.catalogue(search)
        try:
            await self.cache.put(version, search, results)
        except CacheUnavailable as exc:
            log.warning("search cache unavailable, answer not kept: %s", exc)
        return results

    async def reservations(self, query: ReservationQuery) -> Page[ReservationHit]:
        page = await self.backend.reservations(ReservationSearch.parse(query, self._zone))
        page.items = [msgspec.structs.replace(hit, created_at=hit.created_at.astimezone(self._zone),
                                              updated_at=hit.updated_at.astimezone(self._zone))
                      for hit in page.items]
        return page

    async def reindex(self, kinds: tuple[str, ...] = KINDS, *, chunk: int = 2000,
                      progress: Progress | None = None) -> dict[str, int]:
        if not isinstance(self.backend, ElasticBackend):
            raise RuntimeError("SQL search reads the tables themselves: there is no index to rebuild "
                               "(set TICKETBLUE_ELASTICSEARCH_URL)")
        return await reindex(self.backend, self._db, kinds, chunk=chunk, progress=progress)

    async def ping(self) -> None:
        await self.backend.ping()


async def _warn_if_unindexed(db: Database, created: list[str]) -> None:
    """New, empty indices for tables that have rows: this deployment just turned Elasticsearch on."""
    async with db.read() as conn:
        for kind in created:
            if (await conn.execute(sa.select(TABLES[kind].c.id).limit(1))).first():
                log.warning("search: the %s index is new but the database has %s; run `python -m server reindex`",
                            kind, kind)


@asynccontextmanager
async def open_search(settings: Settings, db: Database, *,
                      metrics: Metrics | None = None) -> AsyncIterator[Search]:
    prefix = settings.elasticsearch_index_prefix
    if settings.redis_url:
        store = RedisStore(await open_redis(settings.redis_url, decode_responses=False), f"{prefix}:search")
    else:
        store = MemoryStore(settings.search_cache_entries)
    backend: SearchBackend
    if settings.elasticsearch_url:
        client = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=10, max_retries=2,
                                    retry_on_timeout=True)
        backend = ElasticBackend(client, db, prefix=prefix, versions=store)
        try:
            await _warn_if_unindexed(db, await backend.indices.ensure(KINDS))
        except BaseException:
            await client.close()
            await store.close()
            raise
    else:
        backend = SqlBackend(db)
    cache = None
    if settings.search_cache_seconds > 0:
        cache = AnswerCache(store, prefix=f"{prefix}:search", ttl=settings.search_cache_seconds,
                            metrics=metrics)
    try:
        yield Search(backend, cache, db=db, zone=ZoneInfo(settings.timezone))
    finally:
        await backend.close()
        await store.close()
