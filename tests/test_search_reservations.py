"""Admin booking search, GET /api/admin/reservations/search: every filter of docs/API.md, pages, auth and
bad input, on both backends and both databases. Bookings are made through the public API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import ApiClient
from tests.support.search import Catalogue, reservations_booked, synced


@pytest.fixture
def settings_overrides(search_backend) -> dict:
    return search_backend

SEOUL_TODAY = datetime.now(ZoneInfo("Asia/Seoul")).date()
PATH = "/api/admin/reservations/search"


async def book(client: ApiClient, token: str, round_id: int, seat_ids: list[int]) -> int:
    held = await client.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": seat_ids})
    assert held.status == 200, held.json
    made = await client.post("/api/reservations", token=token, json={"round_id": round_id, "seat_ids": seat_ids})
    assert made.status == 201, made.json
    return made.json["id"]


@pytest.fixture
async def bookings(client) -> dict:
    """Alice and Bob book in two performances; Bob cancels his second booking."""
    cat = Catalogue(client, await client.token(admin=True))
    hall = await cat.hall("blue", "Blue Square")
    seats = [s["id"] for s in (await client.get(f"/api/halls/{hall}")).json["seats"]]
    starts_at = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
    out = {"admin": cat.admin, "seats": seats}
    for key in ("p1", "p2"):
        out[key] = await cat.performance(key, f"Show {key}", "blue")
        made = await client.post(f"/api/performances/{out[key]}/rounds", token=cat.admin, json={"starts_at": starts_at})
        assert made.status == 201, made.json
        out[f"r{key[1]}"] = made.json["id"]
    alice, bob = (await client.token(email="Alice@Example.com"), await client.token(email="bob@example.com"))
    out.update(alice=alice, bob=bob)
    out["a1"] = await book(client, alice, out["r1"], [seats[0]])
    out["b1"] = await book(client, bob, out["r1"], [seats[1]])
    out["a2"] = await book(client, alice, out["r2"], [seats[1], seats[0]])
    out["b2"] = await book(client, bob, out["r2"], [seats[2]])
    assert (await client.post(f"/api/reservations/{out['b2']}/cancel", token=bob)).status == 200
    await reservations_booked(client, [out[k] for k in ("a1", "b1", "a2", "b2")])
    await synced(client)
    return out


async def found(client: ApiClient, b: dict, **params) -> list[int]:
    reply = await client.get(PATH, token=b["admin"], params={k: str(v) for k, v in params.items()})
    assert reply.status == 200, reply.json
    return [hit["id"] for hit in reply.json["items"]]


async def test_every_filter(client, bookings):
    b = bookings
    names = {b[k]: k for k in ("a1", "b1", "a2", "b2")}

    async def names_of(**params):
        return [names[i] for i in await found(client, b, **params)]
    assert await names_of() == ["b2", "a2", "b1", "a1"]                     # newest first
    assert await names_of(performance_id=b["p1"]) == ["b1", "a1"]
    assert await names_of(round_id=b["r2"]) == ["b2", "a2"]
    assert await names_of(user_email="ALICE@example.COM") == ["a2", "a1"]
    assert await names_of(user_email="nobody@example.com") == []
    assert await names_of(status="canceled") == ["b2"]
    assert await names_of(status="pending") == ["a2", "b1", "a1"]
    assert await names_of(status="confirmed") == []
    assert await names_of(user_email="bob@example.com", status="pending") == ["b1"]
    assert await names_of(performance_id=b["p2"], user_email="alice@example.com") == ["a2"]
    today, day = SEOUL_TODAY, timedelta(days=1)
    assert await names_of(**{"from": today, "to": today}) == ["b2", "a2", "b1", "a1"]
    assert await names_of(**{"from": today + day}) == []
    assert await names_of(to=today - day) == []
    assert await names_of(**{"from": today - day}, round_id=b["r1"]) == ["b1", "a1"]


async def test_pages_and_totals(client, bookings):
    b = bookings
    everything = await found(client, b)
    pages = []
    for page in (1, 2, 3):
        reply = await client.get(PATH, token=b["admin"], params={"page": page, "size": 3})
        assert reply.json["total"] == 4 and reply.json["page"] == page and reply.json["size"] == 3
        pages.append([hit["id"] for hit in reply.json["items"]])
    assert pages == [everything[:3], everything[3:], []]


async def test_a_hit_shows_the_booking(client, bookings):
    b = bookings
    reply = await client.get(PATH, token=b["admin"], params={"round_id": b["r2"], "status": "pending"})
    [hit] = reply.json["items"]
    mine = await client.get(f"/api/reservations/{b['a2']}", token=b["alice"])
    assert {k: hit[k] for k in ("id", "status", "round_id", "amount", "discount", "order_id", "created_at")} == \
        {k: mine.json[k] for k in ("id", "status", "round_id", "amount", "discount", "order_id", "created_at")}
    assert hit["seat_ids"] == sorted(b["seats"][:2]) and hit["amount"] == 200000
    assert hit["user_email"] == "alice@example.com" and hit["user_name"] == "Tester"
    assert hit["performance_id"] == b["p2"]
    assert hit["created_at"].endswith("+09:00") and hit["updated_at"].endswith("+09:00")


async def test_a_status_change_is_found_by_its_new_status(client, bookings):
    b = bookings
    assert (await client.post(f"/api/reservations/{b['a1']}/cancel", token=b["alice"])).status == 200
    await reservations_booked(client, [b["a1"]])
    await synced(client)
    assert await found(client, b, status="canceled") == [b["b2"], b["a1"]]


async def test_a_deleted_account_is_still_found_by_the_address_it_had(client, bookings):
    b = bookings
    assert (await client.delete("/api/users/me", token=b["alice"])).status == 204
    assert await found(client, b, user_email="alice@example.com") == [b["a2"], b["a1"]]


async def test_admins_only(client, bookings):
    assert (await client.get(PATH)).status == 401
    reply = await client.get(PATH, token=bookings["alice"])
    assert reply.status == 403 and reply.error_code() == "forbidden"


@pytest.mark.parametrize("params, field", [
    ({"status": "paid"}, "status"),
    ({"performance_id": "0"}, "performance_id"),
    ({"round_id": "x"}, "round_id"),
    ({"user_email": "ab"}, "user_email"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"page": "201", "size": "50"}, "page"),
    ({"size": "101"}, "size"),
])
async def test_bad_filters_get_400_with_the_field(client, params, field):
    admin = await client.token(admin=True)
    reply = await client.get(PATH, token=admin, params=params)
    assert reply.status == 400 and reply.error_code() == "invalid_request", reply.json
    assert field in reply.json["error"]["details"]["fields"]
