"""The index follows the catalogue: creates, updates and deletes of performances, halls, performers
and cast reach search through the outbox's `search` channel, on both backends and both databases."""
from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import outbox
from server.outbox.dispatch import DeliveryFailed, Message
from server.outbox.routes import SEARCH_SYNC as SEARCH_CHANNEL
from server.search.sync import SyncLock, changed, read_version
from server.wiring import DATABASE, SEARCH
from tests.support.api import eventually
from tests.support.search import ids, search, synced


@pytest.fixture
def settings_overrides(search_backend) -> dict:
    return search_backend


async def renamed(client, cat, kind: str, key: str, name: str, *, then_search: str) -> dict:
    """Rename one of the catalogue's halls or performers, wait for the index, and search."""
    reply = await client.patch(f"/api/{kind}/{getattr(cat, kind)[key]}", token=cat.admin, json={"name": name})
    assert reply.status == 200
    await synced(client)
    return await search(client, then_search)


async def test_a_performance_update_and_delete(client, cat):
    phantom = cat.performances["phantom"]
    reply = await client.patch(f"/api/performances/{phantom}", token=cat.admin,
                               json={"title": "Ghost Story 유령이야기", "category": "play"})
    assert reply.status == 200
    await synced(client)
    assert ids(await search(client, "phantom"), "performances") == [cat.performances["orchestra"]]
    assert ids(await search(client, "ghost"), "performances") == [phantom]
    assert ids(await search(client, "유령이야", category="play"), "performances") == [phantom]
    assert (await client.delete(f"/api/performances/{cat.performances['orchestra']}", token=cat.admin)).status == 204
    await synced(client)
    assert (await search(client, "orchestra"))["totals"] == {"performances": 0, "halls": 0, "performers": 0}


async def test_a_new_performance_is_found(client, cat):
    new = await cat.performance("new", "Wicked 위키드", "blue")
    await synced(client)
    assert ids(await search(client, "위키"), "performances") == [new]


async def test_renaming_a_hall_renames_it_in_its_performances(client, cat):
    found = await renamed(client, cat, "halls", "sejong", "예술의전당", then_search="예술의전")
    assert ids(found, "halls") == [cat.halls["sejong"]]
    assert set(ids(found, "performances")) == {cat.performances["phantom"], cat.performances["hamlet"]}
    assert {hit["hall_name"] for hit in found["performances"]} == {"예술의전당"}
    assert (await search(client, "세종문화"))["totals"]["performances"] == 0


async def test_a_deleted_hall_is_gone(client, cat):
    spare = await cat.hall("spare", "Spare Room 연습실")
    await synced(client)
    assert ids(await search(client, "연습실"), "halls") == [spare]
    assert (await client.delete(f"/api/halls/{spare}", token=cat.admin)).status == 204
    await synced(client)
    assert (await search(client, "연습실"))["halls"] == []


async def test_renaming_a_performer_renames_them_in_their_performances(client, cat):
    found = await renamed(client, cat, "performers", "cho", "홍광호", then_search="광호")
    assert ids(found, "performers") == [cat.performers["cho"]]
    assert ids(found, "performances") == [cat.performances["phantom"]]
    assert {"id": cat.performers["cho"], "name": "홍광호"} in found["performances"][0]["performers"]
    # the concert's title still says 조승우; nobody of that name is in any cast any more
    assert ids(await search(client, "조승우"), "performances") == [cat.performances["cho_concert"]]


async def test_cast_changes(client, cat):
    phantom, ok = cat.performances["phantom"], cat.performers["ok"]
    assert (await client.delete(f"/api/performances/{phantom}/performers/{ok}", token=cat.admin)).status == 204
    await synced(client)
    found = await search(client, "옥주현")
    assert found["performances"] == [] and ids(found, "performers") == [ok]
    added = await client.post(f"/api/performances/{cat.performances['hamlet']}/performers", token=cat.admin,
                              json={"performer_id": ok})
    assert added.status == 201
    await synced(client)
    assert ids(await search(client, "옥주현"), "performances") == [cat.performances["hamlet"]]


async def test_a_deleted_performer_leaves_every_cast(client, cat):
    assert (await client.delete(f"/api/performers/{cat.performers['hugh']}", token=cat.admin)).status == 204
    await synced(client)
    found = await search(client, "jackman")
    assert found["performers"] == [] and found["performances"] == []
    [les] = (await search(client, "레미제라블"))["performances"]
    assert les["performers"] == []


async def test_a_rolled_back_change_sends_nothing(client, cat):
    db = client.http.app[DATABASE]

    async def state():
        async with db.read_own_writes() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                        .where(outbox.c.channel == SEARCH_CHANNEL))).scalar_one()
            return count, await read_version(conn)
    before = await state()
    with pytest.raises(RuntimeError):
        async with db.begin() as conn:
            await changed(conn, "halls", [cat.halls["blue"]])
            raise RuntimeError("the change failed")
    assert await state() == before
    async with db.begin() as conn:
        await changed(conn, "halls", [cat.halls["blue"]])
    after = await state()
    assert after[0] == before[0] + 1 and after[1] != before[1]


async def test_a_burst_of_changes_ends_in_the_last_state(client, cat):
    """Twenty renames of one performance as fast as they come, interleaved with searches: whatever
    batches the dispatcher makes of them, the index ends with the last title."""
    phantom = cat.performances["phantom"]

    async def rename(n: int) -> None:
        reply = await client.patch(f"/api/performances/{phantom}", token=cat.admin, json={"title": f"Burst {n:02d}"})
        assert reply.status == 200
    for n in range(20):
        await asyncio.gather(rename(n), search(client, "burst"))
    await synced(client)
    [hit] = (await search(client, "burst"))["performances"]
    assert hit["title"] == "Burst 19"


async def test_unknown_kinds_are_refused_at_the_source(client):
    async with client.http.app[DATABASE].begin() as conn:
        with pytest.raises(ValueError):
            await changed(conn, "coupons", [1])


async def test_a_malformed_message_is_dead_at_once(client):
    channel = client.http.app[SEARCH].channel
    with pytest.raises(DeliveryFailed) as failed:
        await channel.deliver(Message(id=1, channel="search", event="search.index", user_id=None,
                                      payload={"kind": "halls", "ids": ["x"]}, attempts=1, claim="c"))
    assert failed.value.permanent


async def test_index_writers_on_two_instances_take_turns(mysql_url):
    """Two instances' syncs never write the index at once (an older read could land last)."""
    first, second = Database(mysql_url), Database(mysql_url)
    name = f"tbtest-lock-{uuid.uuid4().hex[:8]}"
    entered = asyncio.Event()

    async def take(lock: SyncLock) -> None:
        async with lock.held():
            entered.set()

    async def waiting_for_lock() -> bool:
        async with first.read_own_writes() as conn:
            return (await conn.execute(sa.text(
                "SELECT COUNT(*) FROM information_schema.processlist WHERE state = 'User lock'"))).scalar() > 0
    try:
        async with SyncLock(first, name).held():
            other = asyncio.create_task(take(SyncLock(second, name)))
            await eventually(waiting_for_lock, timeout=10)
            assert not entered.is_set()
        await asyncio.wait_for(other, 10)
        assert entered.is_set()
    finally:
        await first.close()
        await second.close()
