"""Sale opening and the waiting room through the API, on every seat engine (in process, Redis, the
Redis Cluster): the gate on holds, joining, admission, leaving, paying, sold out, bots."""
from __future__ import annotations

import asyncio

import pytest

from tests.support.api import eventually
from tests.support.factories import pay
from tests.support.waiting import admitted, moment, place_of, queued, set_room, set_sale
from tests.support.ws import LiveViewer


@pytest.fixture
def settings_overrides(request, seat_engine_settings):
    return {**seat_engine_settings, "waiting_room_step_seconds": 0.05, **getattr(request, "param", {})}


async def one_admitted(client, round_id: int, tokens: list[str]) -> str:
    """Wait until one of these users is admitted; their token."""
    async def probe():
        for token in tokens:
            if (await place_of(client, round_id, token))["status"] == "admitted":
                return token
    return await eventually(probe)


def path(show, what=""):
    return f"/api/rounds/{show['round_id']}{what}"


async def test_holds_before_the_sale_opens_are_refused_and_the_map_can_be_watched(client, show):
    admin, user = show["admin"], await client.token()
    changed = await set_sale(client, admin, show["round_id"], 3600)
    assert changed["sale_opens_at"] is not None
    assert (await client.get(path(show))).json["sale_opens_at"] == changed["sale_opens_at"]
    refused = await client.post(path(show, "/holds"), token=user, json={"seat_ids": show["seat_ids"][:1]})
    assert (refused.status, refused.error_code()) == (409, "sale_not_open")
    assert refused.json["error"]["details"]["opens_at"] == changed["sale_opens_at"]
    viewer = await LiveViewer.connect(client.http, show["round_id"], user)
    result = await viewer.command("hold", show["seat_ids"][:1])
    assert result["error"]["code"] == "sale_not_open"
    assert (await client.get(path(show, "/seats"))).status == 200
    await set_sale(client, admin, show["round_id"], None)                  # on sale now, at once
    assert (await client.post(path(show, "/holds"), token=user, json={"seat_ids": show["seat_ids"][:1]})).status == 200
    await viewer.close()


async def test_a_sale_opening_must_come_before_the_show(client, show):
    late = await client.patch(path(show), token=show["admin"], json={"sale_opens_at": moment(10 * 86400)})
    assert (late.status, late.error_code()) == (400, "invalid_request")
    assert late.json["error"]["details"]["fields"] == ["sale_opens_at"]
    empty = await client.patch(path(show), token=show["admin"], json={})
    assert empty.status == 400


async def test_the_waiting_room_is_set_up_by_admins_and_shows_its_figures(client, show):
    user = await client.token()
    fresh = await client.get(path(show, "/waiting-room"), token=show["admin"])
    assert fresh.status == 200
    assert (fresh.json["enabled"], fresh.json["max_active"], fresh.json["prequeue_minutes"],
            fresh.json["session_seconds"]) == (False, None, 30, 600)
    assert (await client.get(path(show, "/waiting-room"), token=user)).status == 403
    assert (await client.put(path(show, "/waiting-room"), token=user,
                             json={"enabled": True, "max_active": 1, "admit_per_minute": 1})).status == 403
    for bad in ({"enabled": True}, {"enabled": True, "max_active": 0, "admit_per_minute": 10},
                {"enabled": "yes", "max_active": 1, "admit_per_minute": 1},
                {"enabled": True, "max_active": 1, "admit_per_minute": 1, "session_seconds": -5},
                {"enabled": True, "max_active": 1, "admit_per_minute": 1, "extra": 1}):
        reply = await client.put(path(show, "/waiting-room"), token=show["admin"], json=bad)
        assert (reply.status, reply.error_code()) == (400, "invalid_request"), bad
    missing = await client.put("/api/rounds/999999/waiting-room", token=show["admin"],
                               json={"enabled": True, "max_active": 1, "admit_per_minute": 1})
    assert missing.status == 404
    room = await set_room(client, show["admin"], show["round_id"], max_active=3, admit_per_minute=60)
    assert {k: room[k] for k in ("enabled", "max_active", "admit_per_minute", "prequeue_minutes", "session_seconds",
                                 "waiting", "active", "admitted_total", "admitted_last_minute")} == \
        {"enabled": True, "max_active": 3, "admit_per_minute": 60, "prequeue_minutes": 120, "session_seconds": 600,
         "waiting": 0, "active": 0, "admitted_total": 0, "admitted_last_minute": 0}
    assert room["effective_admit_per_minute"] == 60


async def test_joining_opens_prequeue_minutes_before_the_sale(client, show):
    admin, user = show["admin"], await client.token()
    await set_room(client, admin, show["round_id"], prequeue_minutes=30)
    await set_sale(client, admin, show["round_id"], 3600)
    early = await client.post(path(show, "/queue"), token=user)
    assert (early.status, early.error_code()) == (409, "queue_not_open")
    assert early.json["error"]["details"]["opens_at"]
    await set_sale(client, admin, show["round_id"], 600)
    joined = await client.post(path(show, "/queue"), token=user)
    assert joined.status == 200
    assert {k: joined.json[k] for k in ("status", "position", "ahead", "eta_seconds", "admitted_until", "reason")} == \
        {"status": "waiting", "position": None, "ahead": None, "eta_seconds": None, "admitted_until": None,
         "reason": None}
    assert joined.json["opens_at"] and joined.json["server_time"]
    assert (await place_of(client, show["round_id"], await client.token()))["status"] == "none"
    assert (await client.post(path(show, "/queue"))).status == 401
    assert (await client.post("/api/rounds/999999/queue", token=user)).status == 404


async def test_without_a_waiting_room_everyone_goes_ahead(client, show):
    user = await client.token()
    joined = await client.post(path(show, "/queue"), token=user)
    assert (joined.status, joined.json["status"], joined.json["admitted_until"]) == (200, "admitted", None)


async def test_admission_lets_people_in_by_their_place_and_paying_frees_the_slot(client, show):
    admin, round_id = show["admin"], show["round_id"]
    tokens = await queued(client, admin, round_id, 5, opens_in=3600, max_active=2)
    assert {(await place_of(client, round_id, t))["position"] for t in tokens} == {None}
    await set_sale(client, admin, round_id, 0.5)
    # (the order is drawn: find who is in)
    async def two_in():
        places = [await place_of(client, round_id, t) for t in tokens]
        return places if sum(p["status"] == "admitted" for p in places) == 2 else None
    await eventually(two_in)
    places = [await place_of(client, round_id, t) for t in tokens]     # (the probe's reads may span a step)
    inside = [t for t, p in zip(tokens, places) if p["status"] == "admitted"]
    outside = sorted(((p["position"], t) for t, p in zip(tokens, places) if p["status"] == "waiting"))
    assert [pos for pos, _ in outside] == [1, 2, 3]
    assert all(p["admitted_until"] for p in places if p["status"] == "admitted")
    assert all(p["eta_seconds"] is not None and p["ahead"] == p["position"] - 1 for p in places
               if p["status"] == "waiting")

    refused = await client.post(path(show, "/holds"), token=outside[0][1], json={"seat_ids": show["seat_ids"][:1]})
    assert (refused.status, refused.error_code()) == (403, "not_admitted")
    assert refused.json["error"]["details"]["position"] == 1
    viewer = await LiveViewer.connect(client.http, round_id, outside[0][1])
    assert (await viewer.command("hold", show["seat_ids"][:1]))["error"]["code"] == "not_admitted"
    await viewer.close()

    buyer = inside[0]
    held = await client.post(path(show, "/holds"), token=buyer, json={"seat_ids": show["seat_ids"][:2]})
    assert held.status == 200
    reservation = await client.post("/api/reservations", token=buyer,
                                    json={"round_id": round_id, "seat_ids": show["seat_ids"][:2]})
    assert reservation.status == 201
    _, paid = await pay(client, buyer, reservation.json)
    assert paid.status == 200
    done = await place_of(client, round_id, buyer)
    assert (done["status"], done["reason"]) == ("closed", "finished")
    nxt = await admitted(client, round_id, outside[0][1])                   # the first in line takes the slot
    assert nxt["status"] == "admitted"
    assert (await client.post(path(show, "/holds"), token=outside[0][1],
                              json={"seat_ids": show["seat_ids"][2:3]})).status == 200
    assert (await client.delete(path(show, "/queue"), token=inside[1])).status == 204     # leaving frees one too
    await admitted(client, round_id, outside[1][1])
    assert (await place_of(client, round_id, outside[2][1]))["position"] == 1
    room = (await client.get(path(show, "/waiting-room"), token=admin)).json
    assert (room["active"], room["waiting"], room["admitted_total"]) == (2, 1, 4)


async def test_a_rejoin_keeps_the_place(client, show):
    admin, round_id = show["admin"], show["round_id"]
    tokens = await queued(client, admin, round_id, 4, max_active=1)
    await one_admitted(client, round_id, tokens)
    before = [(await place_of(client, round_id, t))["position"] for t in tokens]
    again = [(await client.post(path(show, "/queue"), token=t)).json["position"] for t in tokens]
    assert again == before and sorted(p for p in before if p) == [1, 2, 3]


async def test_nobody_waits_for_a_sold_out_show(client, show):
    admin, round_id = show["admin"], show["round_id"]
    tokens = await queued(client, admin, round_id, 2, max_active=1)
    inside = await one_admitted(client, round_id, tokens)
    outside = next(t for t in tokens if t != inside)
    assert (await client.post(path(show, "/blocks"), token=admin, json={"seat_ids": show["seat_ids"]})).status == 200
    place = await place_of(client, round_id, outside)
    assert (place["status"], place["reason"], place["position"]) == ("closed", "sold_out", 1)
    await client.call("DELETE", path(show, "/blocks"), token=admin, json={"seat_ids": show["seat_ids"][:1]})
    assert (await place_of(client, round_id, outside))["status"] == "waiting"


@pytest.mark.parametrize("settings_overrides", [{"waiting_room_accounts_per_address": 2,
                                                 "rate_limit_queue_joins_per_account": "2/minute"}], indirect=True)
async def test_one_address_has_a_few_places_and_joins_are_rate_limited(client, show):
    await set_room(client, show["admin"], show["round_id"])
    tokens = [await client.token() for _ in range(3)]
    for token in tokens[:2]:
        assert (await client.post(path(show, "/queue"), token=token)).status == 200
    third = await client.post(path(show, "/queue"), token=tokens[2])
    assert (third.status, third.error_code(), third.json["error"]["details"]) == (403, "address_limit", {"limit": 2})
    assert (await client.post(path(show, "/queue"), token=tokens[0])).status == 200      # a rejoin is no new place
    limited = await client.post(path(show, "/queue"), token=tokens[0])
    assert (limited.status, limited.error_code()) == (429, "rate_limited")
    assert (await client.delete(path(show, "/queue"), token=tokens[1])).status == 204
    assert (await client.post(path(show, "/queue"), token=tokens[2])).status == 200


async def test_the_server_clock(client):
    reply = await client.get("/api/time")
    assert reply.status == 200 and reply.json["epoch_ms"] > 1_700_000_000_000 and "+09:00" in reply.json["server_time"]


@pytest.mark.parametrize("settings_overrides", [{"waiting_room_slow_hold_ms": 0.001,
                                                 "rate_limit_holds_per_account": ""}], indirect=True)
async def test_admission_slows_down_while_holds_are_slow_and_recovers(client, show):
    """With "slow" set below any real hold, holds on this instance halve the admission rate at each
    step; once they stop, it grows back to the room's own."""
    admin = show["admin"]
    other = await client.post(f"/api/performances/{show['performance_id']}/rounds", token=admin,
                              json={"starts_at": moment(3 * 86400)})
    assert other.status == 201
    await set_room(client, admin, other.json["id"], admit_per_minute=1000)
    user = await client.token()
    holding = True

    async def hold_and_release():
        while holding:
            for method in ("POST", "DELETE"):
                await client.call(method, path(show, "/holds"), token=user, json={"seat_ids": show["seat_ids"][:1]})

    async def effective():
        return (await client.get(f"/api/rounds/{other.json['id']}/waiting-room", token=admin)).json[
            "effective_admit_per_minute"]
    holder = asyncio.create_task(hold_and_release())
    try:
        assert await eventually(lambda: _below(effective(), 1000))
    finally:
        holding = False
        await holder
    assert await eventually(lambda: _below(effective(), 1001, at_least=1000))


async def _below(value, limit, at_least=0):
    return at_least <= await value < limit
