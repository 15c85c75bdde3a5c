"""Seats of a round over REST, on both engines and both databases."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from seatmap.model import NoSuchRound
from server.app import create_app
from server.db.tables import round_blocks, rounds
from server.db.types import utcnow
from server.wiring import BACKGROUND, DATABASE, SEAT_ENGINE, SERVICES
from tests.support.api import ROUND_CALLS, ApiClient, eventually
from tests.support.engines import round_state_left, tombstone_only
from tests.support.factories import old_show
from tests.support.jobs import run


@pytest.fixture
def settings_overrides(request, seat_engine_settings):
    """These tests run on the in-process engine and on Redis (plus what a test parametrizes). The
    background repair pass is kept out of the way (the repair test stops it, calls it itself and
    counts what it fixed)."""
    return {**seat_engine_settings, "seat_repair_seconds": 3600, **getattr(request, "param", {})}


async def statuses(client, round_id, token=None) -> dict[int, str]:
    reply = await client.get(f"/api/rounds/{round_id}/seats", token=token)
    assert reply.status == 200
    return {s["id"]: s["status"] for s in reply.json["seats"]}


async def test_seat_map_lists_every_seat_with_price(client, show):
    reply = await client.get(f"/api/rounds/{show['round_id']}/seats")
    seats = reply.json["seats"]
    assert reply.json["round_id"] == show["round_id"] and isinstance(reply.json["seq"], int)
    assert len(seats) == 15 and {s["status"] for s in seats} == {"available"}
    assert {(s["grade"], s["price"]) for s in seats} == {("R", 120000), ("S", 90000)}


async def test_holds_are_mine_to_me_and_held_to_others(client, show):
    a, b = await client.token(), await client.token()
    s1, s2, s3 = show["seat_ids"][:3]
    held = await client.post(f"/api/rounds/{show['round_id']}/holds", token=a, json={"seat_ids": [s1, s2]})
    assert held.status == 200 and held.json["seat_ids"] == [s1, s2] and "+09:00" in held.json["expires_at"]
    assert (await statuses(client, show["round_id"], a))[s1] == "mine"
    assert (await statuses(client, show["round_id"], b))[s1] == "held"
    assert (await statuses(client, show["round_id"]))[s2] == "held"

    clash = await client.post(f"/api/rounds/{show['round_id']}/holds", token=b, json={"seat_ids": [s3, s2]})
    assert clash.status == 409 and clash.error_code() == "seat_unavailable"
    assert clash.json["error"]["details"]["seat_ids"] == [s2]
    assert (await statuses(client, show["round_id"]))[s3] == "available"       # nothing was held


async def test_per_user_limit(client, show):
    token = await client.token()
    first = await client.post(f"/api/rounds/{show['round_id']}/holds", token=token,
                              json={"seat_ids": show["seat_ids"][:8]})
    assert first.status == 200
    more = await client.post(f"/api/rounds/{show['round_id']}/holds", token=token,
                             json={"seat_ids": show["seat_ids"][8:9]})
    assert more.status == 409 and more.error_code() == "hold_limit_exceeded"


async def test_release_is_idempotent(client, show):
    a, b = await client.token(), await client.token()
    s1, s2 = show["seat_ids"][:2]
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=a, json={"seat_ids": [s1]})
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=b, json={"seat_ids": [s2]})
    for _ in range(2):
        reply = await client.delete(f"/api/rounds/{show['round_id']}/holds", token=a, json={"seat_ids": [s1, s2]})
        assert reply.status == 204
    now = await statuses(client, show["round_id"])
    assert now[s1] == "available" and now[s2] == "held"          # b's hold is untouched


async def test_bad_hold_requests(client, show):
    token = await client.token()
    path = f"/api/rounds/{show['round_id']}/holds"
    assert (await client.post(path, json={"seat_ids": [show["seat_ids"][0]]})).status == 401
    unknown = await client.post(path, token=token, json={"seat_ids": [999999]})
    assert unknown.status == 400 and unknown.json["error"]["details"]["seat_ids"] == [999999]
    assert (await client.post(path, token=token, json={"seat_ids": []})).status == 400
    assert (await client.post(path, token=token, json={"seat_ids": ["1"]})).status == 400
    assert (await client.post("/api/rounds/999999/holds", token=token, json={"seat_ids": [1]})).status == 404
    assert set((await statuses(client, show["round_id"])).values()) == {"available"}


async def test_admin_blocks(client, show):
    user = await client.token()
    s1, s2 = show["seat_ids"][:2]
    path = f"/api/rounds/{show['round_id']}/blocks"
    assert (await client.post(path, token=user, json={"seat_ids": [s1]})).status == 403
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=user, json={"seat_ids": [s2]})
    blocked = await client.post(path, token=show["admin"], json={"seat_ids": [s1, s2]})
    assert blocked.status == 200 and blocked.json["seat_ids"] == [s1, s2]
    assert {(await statuses(client, show["round_id"]))[s] for s in (s1, s2)} == {"blocked"}
    hold = await client.post(f"/api/rounds/{show['round_id']}/holds", token=user, json={"seat_ids": [s1]})
    assert hold.status == 409
    assert (await client.delete(path, token=show["admin"], json={"seat_ids": [s1]})).status == 204
    assert (await statuses(client, show["round_id"]))[s1] == "available"


async def test_availability_counts(client, show):
    token = await client.token()
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": show["seat_ids"][:2]})
    await client.post(f"/api/rounds/{show['round_id']}/blocks", token=show["admin"],
                      json={"seat_ids": show["seat_ids"][-1:]})
    reply = await client.get(f"/api/rounds/{show['round_id']}/availability")
    assert reply.json == {"total": 15, "available": 12, "held": 2, "sold": 0, "blocked": 1,
                          "by_grade": {"R": {"total": 10, "available": 8}, "S": {"total": 5, "available": 4}}}


async def test_blocks_left_half_done_by_a_dead_process_are_repaired_from_the_database(client, app, show):
    await app[BACKGROUND].stop()      # its first repair pass, at start-up, may run late enough to beat ours
    round_id, (s1, s2) = show["round_id"], show["seat_ids"][:2]
    path = f"/api/rounds/{round_id}/blocks"
    assert (await client.post(path, token=show["admin"], json={"seat_ids": [s1]})).status == 200
    # What a process that died right after its commit, before telling the engine, leaves behind: an
    # unblock of s1 and a block of s2 in the database only, with the round marked as their changes mark it.
    async with app[DATABASE].begin() as conn:
        assert (await conn.execute(sa.select(rounds.c.blocks_changed_at).where(rounds.c.id == round_id))).scalar()
        await conn.execute(round_blocks.delete().where(round_blocks.c.round_id == round_id))
        await conn.execute(round_blocks.insert().values(round_id=round_id, seat_id=s2, created_at=utcnow()))
        await conn.execute(rounds.update().where(rounds.c.id == round_id).values(blocks_changed_at=utcnow()))
    assert [(await statuses(client, round_id))[s] for s in (s1, s2)] == ["blocked", "available"]

    assert await app[SERVICES].seating.repair_recent(window_seconds=60) == 1
    assert [(await statuses(client, round_id))[s] for s in (s1, s2)] == ["available", "blocked"]
    assert await app[SERVICES].seating.repair_recent(window_seconds=60) == 0       # in line now


async def test_a_deleted_round_answers_404_at_once_and_the_engine_keeps_nothing_of_it(client, app, show):
    round_id, (s1, s2, s3) = show["round_id"], show["seat_ids"][:3]
    user, admin = await client.token(), show["admin"]
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=user, json={"seat_ids": [s1]})).status == 200
    assert (await client.post(f"/api/rounds/{round_id}/blocks", token=admin, json={"seat_ids": [s2]})).status == 200
    assert (await client.get(f"/api/rounds/{round_id}/seats")).status == 200          # its layout is cached
    assert (await client.delete(f"/api/rounds/{round_id}", token=admin)).status == 204
    for method, what, who in ROUND_CALLS:
        body = {"seat_ids": [s1, s3]} if method != "GET" else None
        token = {"user": user, "admin": admin, None: None}[who]
        reply = await client.call(method, f"/api/rounds/{round_id}/{what}", token=token, json=body)
        assert (reply.status, reply.error_code()) == (404, "not_found"), (method, what, reply.json)
    await assert_engine_forgot(app, round_id)


@pytest.mark.parametrize("seat_engine_settings", ["redis", "cluster"], indirect=True)    # two instances share Redis
@pytest.mark.parametrize("method, what, who", ROUND_CALLS)
async def test_a_round_deleted_by_another_instance_is_404_here_despite_the_cached_layout(
        client, aiohttp_client, settings, show, method, what, who):
    other = ApiClient(await aiohttp_client(create_app(settings)))        # a second instance, same backends
    round_id, seats = show["round_id"], show["seat_ids"]
    token = {"user": await client.token(), "admin": show["admin"], None: None}[who]
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=await client.token(),
                              json={"seat_ids": seats[:1]})).status == 200
    assert (await client.get(f"/api/rounds/{round_id}/seats")).status == 200         # this one caches the layout
    assert (await other.delete(f"/api/rounds/{round_id}", token=show["admin"])).status == 204
    body = {"seat_ids": seats[:2]} if method != "GET" else None
    reply = await client.call(method, f"/api/rounds/{round_id}/{what}", token=token, json=body)
    assert (reply.status, reply.error_code()) == (404, "not_found"), reply.json


async def test_a_hold_on_a_deleted_round_never_becomes_a_reservation_on_another(client, show):
    user, admin = await client.token(), show["admin"]
    old, seats = show["round_id"], show["seat_ids"][:2]
    assert (await client.post(f"/api/rounds/{old}/holds", token=user, json={"seat_ids": seats})).status == 200
    assert (await client.delete(f"/api/rounds/{old}", token=admin)).status == 204
    starts_at = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
    new = await client.post(f"/api/performances/{show['performance_id']}/rounds", token=admin,
                            json={"starts_at": starts_at})
    assert new.status == 201 and new.json["id"] != old           # (on SQLite it used to be the same id)
    reserved = await client.post("/api/reservations", token=user, json={"round_id": new.json["id"], "seat_ids": seats})
    assert (reserved.status, reserved.error_code()) == (409, "seat_unavailable")
    assert set((await statuses(client, new.json["id"], user)).values()) == {"available"}
    gone = await client.post("/api/reservations", token=user, json={"round_id": old, "seat_ids": seats})
    assert gone.status == 404


@pytest.mark.parametrize("settings_overrides", [{"hold_seconds": 60, "max_hold_seconds": 1,
                                                 "hold_cooldown_seconds": 60}], indirect=True)
async def test_a_seat_held_as_long_as_one_user_may_is_refused_to_them_and_free_for_others(client, show):
    a, b = await client.token(), await client.token()
    path = f"/api/rounds/{show['round_id']}/holds"
    seat, other = show["seat_ids"][:2]
    first = await client.post(path, token=a, json={"seat_ids": [seat]})
    assert first.status == 200
    assert datetime.fromisoformat(first.json["expires_at"]) < datetime.now(timezone.utc) + timedelta(seconds=5)

    def holding(token: str, until):
        async def probe():
            reply = await client.post(path, token=token, json={"seat_ids": [seat]})
            return reply if until(reply) else None
        return probe
    # Again and again (a few times a second: more would meet the holds' rate limit), a second after the first.
    reply = await eventually(holding(a, lambda r: r.status != 200), every=0.2)
    assert (reply.status, reply.error_code()) == (409, "hold_time_exceeded")
    assert reply.json["error"]["details"]["seat_ids"] == [seat]
    assert 0 < reply.json["error"]["details"]["retry_after"] <= 60
    both = await client.post(path, token=a, json={"seat_ids": [other, seat]})
    assert both.error_code() == "hold_time_exceeded"
    assert (await statuses(client, show["round_id"]))[other] == "available"    # all or nothing
    taken = await eventually(holding(b, lambda r: r.status == 200), every=0.2)          # once the sweeper let it go
    assert taken.json["seat_ids"] == [seat]


async def test_deleting_a_performance_drops_the_seat_maps_of_its_rounds(client, app, show):
    user = await client.token()
    round_id = show["round_id"]
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=user,
                              json={"seat_ids": show["seat_ids"][:1]})).status == 200
    assert (await client.delete(f"/api/performances/{show['performance_id']}", token=show["admin"])).status == 204
    assert (await client.get(f"/api/rounds/{round_id}/seats")).status == 404
    await assert_engine_forgot(app, round_id)


@pytest.mark.parametrize("settings_overrides", [{"jobs_scheduled": False, "job_chunk_size": 1}], indirect=True)
async def test_the_archive_job_drops_the_seat_maps_of_the_rounds_it_removes(client, app, show):
    old = await old_show(client, app, show)          # with a round nobody booked, one of its seats blocked
    unbooked = old["unbooked_round"]
    assert (await app[SEAT_ENGINE].snapshot(unbooked)).seats           # the engine has the block
    await run(app, "old-performances")
    await assert_engine_forgot(app, unbooked)


async def assert_engine_forgot(app, round_id: int) -> None:
    """The engine refuses the round and keeps nothing of it (in Redis: only the tombstone)."""
    engine = app[SEAT_ENGINE]
    with pytest.raises(NoSuchRound):
        await engine.snapshot(round_id)
    assert await round_state_left(engine, round_id) == tombstone_only(engine, round_id)
