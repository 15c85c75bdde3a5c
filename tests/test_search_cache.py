"""The catalogue search cache: repeated searches are answered from it (Redis, or in-process on the
embedded default), answers expire, and an answer is never served once it is stale: on SQL not
after the update's response, on Elasticsearch not after the change reached the index."""
from __future__ import annotations

import asyncio
import re
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio

from server.db.tables import performances
from server.search.backend import CatalogueSearch
from server.search.cache import AnswerCache, CacheUnavailable, MemoryStore, RedisStore
from server.search.schemas import CatalogueQuery, CatalogueResults, CatalogueTotals
from server.search.service import Search
from server.search.sql import SqlBackend
from server.wiring import DATABASE
from tests.support.search import backend_name, search, synced


@pytest.fixture(params=["memory", "redis"])
def cache_store(request) -> dict:
    return {} if request.param == "memory" else {"redis_url": request.getfixturevalue("empty_redis_url")}


@pytest.fixture
def settings_overrides(search_backend, cache_store) -> dict:
    return {**search_backend, **cache_store}


async def cache_counts(client) -> dict[str, float]:
    text = (await client.get("/metrics")).json.decode()
    return {m[0]: float(m[1]) for m in re.findall(r'^ticketblue_search_cache_total\{result="(\w+)"\} (\S+)$', text, re.M)}


async def titles(client, q: str) -> list[str]:
    return [hit["title"] for hit in (await search(client, q))["performances"]]


async def test_repeated_searches_are_answered_from_the_cache(client, cat, settings):
    first = await search(client, "phantom")
    before = await cache_counts(client)
    assert await search(client, "PHANTOM ") == first          # the same query, folded
    after = await cache_counts(client)
    assert after.get("hit", 0) == before.get("hit", 0) + 1 and after.get("miss") == before.get("miss")
    if settings.redis_url:
        async with redis.asyncio.from_url(settings.redis_url) as store:
            keys = await store.keys(f"{settings.elasticsearch_index_prefix}:search:answer:*")
            ttls = [await store.pttl(key) for key in keys]
            assert ttls and all(0 < ttl <= 60_000 for ttl in ttls)
    if backend_name(client) == "sql":
        # Behind search's back (no outbox message, no new version): the SQL backend would see this
        # at once, so an unchanged answer can only have come from the cache.
        async with client.http.app[DATABASE].begin() as conn:
            await conn.execute(performances.update().where(performances.c.id == cat.performances["orchestra"])
                               .values(title="Renamed Quietly"))
        assert await search(client, "phantom") == first


async def test_a_stale_answer_is_never_served_after_an_update(client, cat):
    phantom = cat.performances["phantom"]
    old = "오페라의 유령 The Phantom of the Opera"
    assert old in await titles(client, "phantom")
    assert old in await titles(client, "phantom")           # now cached
    seen: list[list[str]] = []
    stop = asyncio.Event()

    async def keep_searching():
        while not stop.is_set():
            seen.append(await titles(client, "phantom"))
    watcher = asyncio.create_task(keep_searching())
    reply = await client.patch(f"/api/performances/{phantom}", token=cat.admin, json={"title": "The Phantom Returns"})
    assert reply.status == 200
    if backend_name(client) == "sql":
        # the database changed when the update returned: so did the cached answer
        assert "The Phantom Returns" in await titles(client, "phantom")
    await synced(client)
    # the index has the change: the very next search shows it, cached or not
    assert "The Phantom Returns" in await titles(client, "phantom")
    stop.set()
    await watcher
    first_new = next(i for i, t in enumerate(seen + [["The Phantom Returns"]]) if "The Phantom Returns" in t)
    assert not any(old in t for t in seen[first_new:]), "an old answer came back after the new one"


async def test_every_kind_of_catalogue_change_invalidates(client, cat):
    assert await titles(client, "square") != []
    assert (await client.patch(f"/api/halls/{cat.halls['blue']}", token=cat.admin, json={"name": "Red Circle"})).status == 200
    await synced(client)
    assert await titles(client, "square") == []
    performer = cat.performers["hugh"]
    assert (await search(client, "jackman"))["performers"] != []
    assert (await client.delete(f"/api/performers/{performer}", token=cat.admin)).status == 204
    await synced(client)
    assert (await search(client, "jackman"))["performers"] == []


@pytest.mark.parametrize("settings_overrides", [{"search_cache_seconds": 0}])
async def test_the_cache_can_be_turned_off(client, cat):
    await search(client, "phantom")
    await search(client, "phantom")
    assert await cache_counts(client) == {}
    async with client.http.app[DATABASE].begin() as conn:
        await conn.execute(performances.update().where(performances.c.id == cat.performances["orchestra"])
                           .values(title="Renamed Quietly Phantom"))
    assert "Renamed Quietly Phantom" in await titles(client, "phantom")


async def test_search_answers_when_the_cache_store_is_down(client, cat):
    dead = RedisStore(redis.asyncio.from_url("redis://127.0.0.1:1/0"), "tb")
    with pytest.raises(CacheUnavailable):
        await dead.get("anything")
    db = client.http.app[DATABASE]
    service = Search(SqlBackend(db), AnswerCache(dead, prefix="tb", ttl=60), db=db, zone=ZoneInfo("Asia/Seoul"))
    answer = await service.catalogue(CatalogueQuery(q="phantom"))
    assert answer.totals.performances == 2
    await dead.close()


async def test_answers_expire_after_their_ttl():
    now = [1000.0]
    store = MemoryStore(max_entries=2, clock=lambda: now[0])
    cache = AnswerCache(store, prefix="t", ttl=60)
    search_ = CatalogueSearch.parse(CatalogueQuery(q="phantom"))
    empty = CatalogueResults(performances=[], halls=[], performers=[], page=1, size=20,
                             totals=CatalogueTotals(0, 0, 0))
    await cache.put("v1", search_, empty)
    assert await cache.get("v1", search_) == empty
    assert await cache.get("v2", search_) is None               # another version: another key
    now[0] += 60
    assert await cache.get("v1", search_) is None
    for n in range(3):                                           # bounded: the oldest go first
        await store.set(f"k{n}", b"x", 60)
    assert await store.get("k0") is None and await store.get("k2") == b"x"

