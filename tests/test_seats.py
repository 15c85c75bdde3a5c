"""Seats of a round over REST, on both engines and both databases."""
import pytest
import sqlalchemy as sa

from server.app_keys import DATABASE, SERVICES
from server.db.tables import round_blocks, rounds
from server.db.types import utcnow


@pytest.fixture
def settings_overrides(seat_engine_settings):
    """These tests run on the in-process engine and on Redis. The background repair pass is kept
    out of the way: the repair test calls it itself and counts what it fixed."""
    return {**seat_engine_settings, "seat_repair_seconds": 3600}


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
