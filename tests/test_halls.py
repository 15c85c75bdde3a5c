"""Halls: seat maps generated from sections or given seat by seat; admin-only writes."""
from __future__ import annotations

import pytest

from tests.support.factories import SECTIONS, hall_body, make_hall


async def hall_count(client) -> int:
    return (await client.get("/api/halls")).json["total"]


async def test_create_from_sections_lays_out_seats(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    assert hall["capacity"] == 2 * 4 + 3 * 6 == len(hall["seats"])
    seats = {(s["section"], s["row"], s["number"]): s for s in hall["seats"]}
    assert len(seats) == hall["capacity"]
    assert {s["grade"] for s in hall["seats"] if s["section"] == "A"} == {"VIP"}
    assert {s["grade"] for s in hall["seats"] if s["section"] == "B"} == {"R"}
    # Rows and seats are numbered from 1; the narrower section A is centred on B.
    assert seats[("A", 1, 1)]["x"] == 2 and seats[("A", 1, 4)]["x"] == 5
    assert seats[("B", 1, 1)]["x"] == 1 and seats[("B", 3, 6)]["x"] == 6
    # Sections are stacked with a gap: B starts below A's last row.
    a_bottom = max(s["y"] for s in hall["seats"] if s["section"] == "A")
    b_top = min(s["y"] for s in hall["seats"] if s["section"] == "B")
    assert b_top > a_bottom + 1
    assert len({(s["x"], s["y"]) for s in hall["seats"]}) == hall["capacity"]     # no two seats overlap
    got = await client.get(f"/api/halls/{hall['id']}")
    assert got.status == 200 and got.json == hall


async def test_create_from_explicit_seats(client):
    admin = await client.token(admin=True)
    seats = [{"section": "Floor", "row": 1, "number": n, "x": n * 1.5, "y": 0.5, "grade": "S"} for n in (1, 2, 3)]
    hall = await make_hall(client, admin, sections=None, seats=seats)
    assert hall["capacity"] == 3
    assert [{k: s[k] for k in seats[0]} for s in hall["seats"]] == seats
    assert all(isinstance(s["id"], int) for s in hall["seats"])


async def test_list_is_paginated_and_omits_seats(client):
    admin = await client.token(admin=True)
    for name in ("one", "two", "three"):
        await make_hall(client, admin, name=name)
    first = await client.get("/api/halls?page=1&size=2")
    assert first.status == 200
    assert first.json["total"] == 3 and first.json["page"] == 1 and first.json["size"] == 2
    assert [h["name"] for h in first.json["items"]] == ["one", "two"]
    assert all("seats" not in h and h["capacity"] == 26 for h in first.json["items"])
    second = await client.get("/api/halls?page=2&size=2")
    assert [h["name"] for h in second.json["items"]] == ["three"]
    too_big = await client.get("/api/halls?size=101")
    assert too_big.status == 400 and too_big.json["error"]["details"]["fields"] == ["size"]


@pytest.mark.parametrize("changes, field", [
    ({"sections": None}, "sections"),                                              # neither
    ({"seats": [{"section": "A", "row": 1, "number": 1, "x": 0, "y": 0, "grade": "R"}]}, "sections"),  # both
    ({"name": ""}, "name"),
    ({"address": 12}, "address"),
    ({"extra": True}, "extra"),
    ({"sections": []}, "sections"),
    ({"sections": [{"name": "A", "rows": 0, "seats_per_row": 5, "grade": "R"}]}, "sections[0].rows"),
    ({"sections": [{"name": "A", "rows": 2, "grade": "R"}]}, "sections[0].seats_per_row"),
    ({"sections": [{"name": "A", "rows": 2, "seats_per_row": 2, "grade": " R"}]}, "sections[0].grade"),
    ({"sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "grade": "R"},
                   {"name": "a", "rows": 1, "seats_per_row": 1, "grade": "R"}]}, "sections"),
    ({"sections": [{"name": "A", "rows": 200, "seats_per_row": 101, "grade": "R"}]}, "sections"),  # 20,200 seats
])
async def test_create_rejects_bad_bodies_and_writes_nothing(client, changes, field):
    admin = await client.token(admin=True)
    body = {k: v for k, v in hall_body(**changes).items() if v is not None}
    reply = await client.post("/api/halls", token=admin, json=body)
    assert reply.status == 400, reply.json
    assert reply.error_code() == "invalid_request"
    assert field in reply.json["error"]["details"]["fields"]
    assert await hall_count(client) == 0


async def test_duplicate_explicit_seats_are_rejected(client):
    admin = await client.token(admin=True)
    seat = {"section": "A", "row": 1, "number": 1, "x": 0, "y": 0, "grade": "R"}
    reply = await client.post("/api/halls", token=admin, json={"name": "h", "address": "a",
                                                               "seats": [seat, {**seat, "section": "a", "x": 5}]})
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["seats"]
    assert reply.json["error"]["details"]["duplicates"] == [{"section": "a", "row": 1, "number": 1}]
    assert await hall_count(client) == 0


# 20,001 explicit seats are ~1.3 MB of JSON, over the default 1 MiB body limit (which would say 413).
@pytest.mark.parametrize("settings_overrides", [{"max_body_bytes": 4 * 1024 * 1024}])
async def test_largest_hall_is_accepted_and_one_more_seat_is_not(client):
    admin = await client.token(admin=True)
    over = [{"section": "A", "row": r, "number": n, "x": n, "y": r, "grade": "R"}
            for r in range(1, 21) for n in range(1, 1001)] + [
        {"section": "B", "row": 1, "number": 1, "x": 0, "y": 0, "grade": "R"}]
    reply = await client.post("/api/halls", token=admin, json={"name": "h", "address": "a", "seats": over})
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["seats"]
    hall = await make_hall(client, admin, sections=[{"name": "A", "rows": 200, "seats_per_row": 100,
                                                     "grade": "R"}])
    assert hall["capacity"] == 20_000 == len({s["id"] for s in hall["seats"]})
    assert await hall_count(client) == 1


async def test_update_changes_name_and_address_only(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    renamed = await client.patch(f"/api/halls/{hall['id']}", token=admin, json={"name": "Renamed"})
    assert renamed.status == 200
    assert renamed.json["name"] == "Renamed" and renamed.json["address"] == "Seoul"
    assert renamed.json["seats"] == hall["seats"]
    moved = await client.patch(f"/api/halls/{hall['id']}", token=admin, json={"address": "Busan"})
    assert moved.json["name"] == "Renamed" and moved.json["address"] == "Busan"
    seats = await client.patch(f"/api/halls/{hall['id']}", token=admin, json={"sections": SECTIONS})
    assert seats.status == 400 and seats.json["error"]["details"]["fields"] == ["sections"]
    blank = await client.patch(f"/api/halls/{hall['id']}", token=admin, json={"name": ""})
    assert blank.status == 400
    assert (await client.get(f"/api/halls/{hall['id']}")).json["name"] == "Renamed"
    missing = await client.patch("/api/halls/999999", token=admin, json={"name": "x"})
    assert missing.status == 404 and missing.error_code() == "not_found"


async def test_delete_hall(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    assert (await client.delete(f"/api/halls/{hall['id']}", token=admin)).status == 204
    assert (await client.get(f"/api/halls/{hall['id']}")).status == 404
    assert (await client.delete(f"/api/halls/{hall['id']}", token=admin)).status == 404


async def test_hall_in_use_cannot_be_deleted(client):
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    performance = await client.post("/api/performances", token=admin, json={
        "title": "Show", "description": "", "category": "play", "hall_id": hall["id"],
        "starts_on": "2026-12-01", "ends_on": "2026-12-31", "duration_minutes": 90,
        "prices": {"VIP": 100, "R": 50}})
    assert performance.status == 201, performance.json
    reply = await client.delete(f"/api/halls/{hall['id']}", token=admin)
    assert reply.status == 409 and reply.error_code() == "invalid_state"
    assert reply.json["error"]["details"]["performance_ids"] == [performance.json["id"]]
    assert (await client.get(f"/api/halls/{hall['id']}")).json["capacity"] == 26


async def test_writes_need_an_admin_and_reads_are_public(client):
    user = await client.token()
    admin = await client.token(admin=True)
    hall = await make_hall(client, admin)
    for method, path, body in [("POST", "/api/halls", hall_body()),
                               ("PATCH", f"/api/halls/{hall['id']}", {"name": "x"}),
                               ("DELETE", f"/api/halls/{hall['id']}", None)]:
        assert (await client.call(method, path, json=body)).status == 401
        forbidden = await client.call(method, path, json=body, token=user)
        assert forbidden.status == 403 and forbidden.error_code() == "forbidden"
    assert (await client.get(f"/api/halls/{hall['id']}")).json["name"] == "Blue Square"
    assert await hall_count(client) == 1
    assert (await client.get("/api/halls/0")).status == 404
    assert (await client.get("/api/halls/abc")).status == 404
