"""Performances: prices per seat grade, list filters, partial updates, cast, and deletion rules."""
from __future__ import annotations

import pytest

from tests.support.factories import add_reservation, make_hall, make_performance, make_performer, performance_body


async def performance_count(client) -> int:
    return (await client.get("/api/performances")).json["total"]


async def test_create_and_get(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    created = await make_performance(client, admin, hall_id=hall["id"])
    assert created == {"id": created["id"], "title": "Ticket Blue Live", "description": "A concert.",
                       "category": "concert", "hall_id": hall["id"], "starts_on": "2026-12-01",
                       "ends_on": "2026-12-31", "duration_minutes": 120,
                       "prices": {"VIP": 150000, "R": 120000}, "poster_url": None, "performers": []}
    assert (await client.get(f"/api/performances/{created['id']}")).json == created


async def test_a_price_for_every_grade_of_the_hall(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    missing = await client.post("/api/performances", token=admin,
                                json=performance_body(hall["id"], prices={"VIP": 1}))
    assert missing.status == 400 and missing.error_code() == "invalid_request"
    details = missing.json["error"]["details"]
    assert details["fields"] == ["prices"] and details["missing_grades"] == ["R"] and details["unknown_grades"] == []
    unknown = await client.post("/api/performances", token=admin,
                                json=performance_body(hall["id"], prices={"VIP": 1, "R": 1, "S": 1}))
    assert unknown.status == 400 and unknown.json["error"]["details"]["unknown_grades"] == ["S"]
    assert await performance_count(client) == 0


async def test_unknown_hall_is_404_naming_the_field(client):
    admin = await client.token(admin=True)
    reply = await client.post("/api/performances", token=admin, json=performance_body(999999))
    assert reply.status == 404 and reply.error_code() == "not_found"
    assert reply.json["error"]["details"]["fields"] == ["hall_id"]


@pytest.mark.parametrize("changes, field", [
    ({"title": None}, "title"),
    ({"category": "opera"}, "category"),
    ({"starts_on": "2026-02-30"}, "starts_on"),
    ({"starts_on": "2027-01-01"}, "starts_on"),            # after ends_on
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": "90"}, "duration_minutes"),
    ({"prices": {}}, "prices"),
    ({"prices": {"VIP": -1, "R": 1}}, "prices[...]"),       # msgspec's name for "a value of the map"
    ({"hall_id": 0}, "hall_id"),
    ({"rating": 5}, "rating"),
])
async def test_bad_bodies_are_rejected_and_nothing_is_written(client, changes, field):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    body = {k: v for k, v in {**performance_body(hall["id"]), **changes}.items() if v is not None}
    reply = await client.post("/api/performances", token=admin, json=body)
    assert reply.status == 400, reply.json
    assert field in reply.json["error"]["details"]["fields"]
    assert await performance_count(client) == 0


async def test_list_filters_and_pages(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    other_hall = await make_hall(client, admin)
    december = await make_performance(client, admin, hall_id=hall["id"], title="Winter Concert")
    january = await make_performance(client, admin, hall_id=other_hall["id"], title="New Year Musical",
                                     category="musical", starts_on="2027-01-05", ends_on="2027-01-20")
    november = await make_performance(client, admin, hall_id=hall["id"], title="윤동주, 달을 쏘다",
                                      category="play", starts_on="2026-11-01", ends_on="2026-11-30")

    async def titles(query: str) -> list[str]:
        reply = await client.get(f"/api/performances{query}")
        assert reply.status == 200, reply.json
        return [p["title"] for p in reply.json["items"]]

    assert await titles("") == [november["title"], december["title"], january["title"]]
    assert await titles("?category=musical") == [january["title"]]
    assert await titles(f"?hall_id={hall['id']}") == [november["title"], december["title"]]
    assert await titles("?from=2026-12-31&to=2027-01-05") == [december["title"], january["title"]]
    assert await titles("?from=2027-01-21") == []
    assert await titles("?to=2026-11-30") == [november["title"]]
    assert await titles("?q=concert") == [december["title"]]
    assert await titles("?q=달을") == [november["title"]]
    page = await client.get("/api/performances?size=1&page=3")
    assert page.json["total"] == 3 and [p["id"] for p in page.json["items"]] == [january["id"]]
    assert page.json["items"][0]["prices"] == {"VIP": 150000, "R": 120000}
    for bad in ("?category=opera", "?from=yesterday", "?hall_id=x", "?size=0", "?from=2026-12-02&to=2026-12-01"):
        assert (await client.get(f"/api/performances{bad}")).status == 400


async def test_patch_changes_only_the_given_fields(client):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    path = f"/api/performances/{created['id']}"
    retitled = await client.patch(path, token=admin, json={"title": "Encore", "duration_minutes": 90})
    assert retitled.status == 200
    assert retitled.json == {**created, "title": "Encore", "duration_minutes": 90}
    repriced = await client.patch(path, token=admin, json={"prices": {"VIP": 99, "R": 9}})
    assert repriced.json["prices"] == {"VIP": 99, "R": 9}
    incomplete = await client.patch(path, token=admin, json={"prices": {"VIP": 1}})
    assert incomplete.status == 400 and incomplete.json["error"]["details"]["missing_grades"] == ["R"]
    backwards = await client.patch(path, token=admin, json={"ends_on": "2026-11-30"})
    assert backwards.status == 400 and backwards.json["error"]["details"]["fields"] == ["ends_on"]
    nulled = await client.patch(path, token=admin, json={"title": None})
    assert nulled.status == 400
    assert (await client.get(path)).json == {**created, "title": "Encore", "duration_minutes": 90,
                                             "prices": {"VIP": 99, "R": 9}}
    assert (await client.patch("/api/performances/999999", token=admin, json={"title": "x"})).status == 404


async def test_patch_hall_revalidates_prices_and_is_refused_once_rounds_exist(client):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    path = f"/api/performances/{created['id']}"
    s_hall = await make_hall(client, admin, sections=[{"name": "S", "rows": 1, "seats_per_row": 3, "grade": "S"}])
    old_prices = await client.patch(path, token=admin, json={"hall_id": s_hall["id"]})
    assert old_prices.status == 400
    assert old_prices.json["error"]["details"]["missing_grades"] == ["S"]
    assert old_prices.json["error"]["details"]["unknown_grades"] == ["R", "VIP"]
    moved = await client.patch(path, token=admin, json={"hall_id": s_hall["id"], "prices": {"S": 10}})
    assert moved.status == 200 and moved.json["hall_id"] == s_hall["id"] and moved.json["prices"] == {"S": 10}
    nowhere = await client.patch(path, token=admin, json={"hall_id": 999999, "prices": {"S": 10}})
    assert nowhere.status == 404 and nowhere.json["error"]["details"]["fields"] == ["hall_id"]
    round_ = await client.post(f"{path}/rounds", token=admin, json={"starts_at": "2026-12-10T19:30:00+09:00"})
    assert round_.status == 201
    back = await client.patch(path, token=admin, json={"hall_id": created["hall_id"], "prices": created["prices"]})
    assert back.status == 409 and back.error_code() == "invalid_state"
    assert (await client.get(path)).json["hall_id"] == s_hall["id"]


async def test_dates_cannot_shrink_past_existing_rounds(client):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    path = f"/api/performances/{created['id']}"
    round_ = await client.post(f"{path}/rounds", token=admin, json={"starts_at": "2026-12-20T19:30:00+09:00"})
    shrunk = await client.patch(path, token=admin, json={"ends_on": "2026-12-19"})
    assert shrunk.status == 409 and shrunk.json["error"]["details"]["round_ids"] == [round_.json["id"]]
    assert (await client.patch(path, token=admin, json={"ends_on": "2026-12-20"})).json["ends_on"] == "2026-12-20"


async def test_delete_removes_rounds_cast_and_prices(client):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    path = f"/api/performances/{created['id']}"
    performer = await make_performer(client, admin)
    assert (await client.post(f"{path}/performers", token=admin, json={"performer_id": performer["id"]})).status == 201
    round_ = await client.post(f"{path}/rounds", token=admin, json={"starts_at": "2026-12-10T19:30:00+09:00"})
    assert (await client.delete(path, token=admin)).status == 204
    assert (await client.get(path)).status == 404
    assert (await client.get(f"/api/rounds/{round_.json['id']}")).status == 404
    assert (await client.get(f"/api/performers/{performer['id']}")).status == 200     # only the cast entry went
    assert (await client.delete(path, token=admin)).status == 404
    # The hall is free again.
    assert (await client.delete(f"/api/halls/{created['hall_id']}", token=admin)).status == 204


@pytest.mark.parametrize("status, detail", [("pending", "live_reservations"), ("confirmed", "live_reservations"),
                                            ("canceled", "past_reservations")])
async def test_a_booked_performance_cannot_be_deleted(client, status, detail):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    path = f"/api/performances/{created['id']}"
    round_ = await client.post(f"{path}/rounds", token=admin, json={"starts_at": "2026-12-10T19:30:00+09:00"})
    await add_reservation(client, round_.json["id"], status)
    reply = await client.delete(path, token=admin)
    assert reply.status == 409 and reply.error_code() == "invalid_state"
    assert reply.json["error"]["details"] == {detail: 1}
    assert (await client.get(path)).json == created
    assert (await client.get(f"/api/rounds/{round_.json['id']}")).status == 200


async def test_cast(client):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    path = f"/api/performances/{created['id']}/performers"
    bob = await make_performer(client, admin, name="Bob")
    alice = await make_performer(client, admin, name="Alice")
    for performer in (bob, alice):
        added = await client.post(path, token=admin, json={"performer_id": performer["id"]})
        assert added.status == 201 and added.json == {"id": performer["id"], "name": performer["name"]}
    again = await client.post(path, token=admin, json={"performer_id": bob["id"]})
    assert again.status == 409 and again.error_code() == "already_exists"
    performance = (await client.get(f"/api/performances/{created['id']}")).json
    assert performance["performers"] == [{"id": alice["id"], "name": "Alice"}, {"id": bob["id"], "name": "Bob"}]
    listed = (await client.get("/api/performances")).json["items"][0]
    assert listed["performers"] == performance["performers"]

    assert (await client.delete(f"{path}/{bob['id']}", token=admin)).status == 204
    gone = await client.delete(f"{path}/{bob['id']}", token=admin)
    assert gone.status == 404 and gone.error_code() == "not_found"
    # Deleting a performer takes them out of the cast.
    assert (await client.delete(f"/api/performers/{alice['id']}", token=admin)).status == 204
    assert (await client.get(f"/api/performances/{created['id']}")).json["performers"] == []


async def test_cast_404s_and_bad_bodies(client):
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    performer = await make_performer(client, admin)
    path = f"/api/performances/{created['id']}/performers"
    unknown_performer = await client.post(path, token=admin, json={"performer_id": 999999})
    assert unknown_performer.status == 404
    assert unknown_performer.json["error"]["details"]["fields"] == ["performer_id"]
    unknown_performance = await client.post("/api/performances/999999/performers", token=admin,
                                            json={"performer_id": performer["id"]})
    assert unknown_performance.status == 404
    assert (await client.delete(f"/api/performances/999999/performers/{performer['id']}", token=admin)).status == 404
    for body in ({}, {"performer_id": "1"}, {"performer_id": performer["id"], "role": "lead"}):
        assert (await client.post(path, token=admin, json=body)).status == 400
    assert (await client.get(f"/api/performances/{created['id']}")).json["performers"] == []


async def test_writes_need_an_admin(client):
    user = await client.token()
    admin = await client.token(admin=True)
    created = await make_performance(client, admin)
    performer = await make_performer(client, admin)
    path = f"/api/performances/{created['id']}"
    for method, url, body in [("POST", "/api/performances", performance_body(created["hall_id"])),
                              ("PATCH", path, {"title": "x"}),
                              ("DELETE", path, None),
                              ("POST", f"{path}/performers", {"performer_id": performer["id"]}),
                              ("DELETE", f"{path}/performers/{performer['id']}", None)]:
        assert (await client.call(method, url, json=body)).status == 401
        forbidden = await client.call(method, url, json=body, token=user)
        assert forbidden.status == 403 and forbidden.error_code() == "forbidden"
    assert (await client.get("/api/performances")).json["items"] == [created]
