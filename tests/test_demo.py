"""The demo loader: a hall, performers, a performance with prices, cast and rounds; once only."""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from server.demo import DEMO_PRICES, DEMO_ROUNDS, load_demo


async def test_demo_loads_once_into_an_empty_catalogue(client, settings, caplog):
    caplog.set_level(logging.INFO, logger="server.demo")
    assert await load_demo(settings) is True
    assert await load_demo(settings) is False            # halls exist now: nothing more is loaded
    assert "nothing loaded" in caplog.text

    halls = (await client.get("/api/halls")).json
    assert halls["total"] == 1 and halls["items"][0]["capacity"] >= 300
    hall = (await client.get(f"/api/halls/{halls['items'][0]['id']}")).json
    assert {s["grade"] for s in hall["seats"]} == set(DEMO_PRICES)

    performances = (await client.get("/api/performances")).json
    assert performances["total"] == 1
    [performance] = performances["items"]
    assert "Ticket Blue Live" in performance["title"] and performance["prices"] == DEMO_PRICES
    assert len(performance["performers"]) == 2
    assert (await client.get("/api/performers")).json["total"] == 2

    rounds = (await client.get(f"/api/performances/{performance['id']}/rounds")).json
    assert rounds["total"] == DEMO_ROUNDS
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    days = [datetime.fromisoformat(r["starts_at"]).date() for r in rounds["items"]]
    assert all(day > today for day in days) and len(set(days)) == DEMO_ROUNDS


async def test_demo_does_not_touch_a_catalogue_with_halls(client, settings):
    admin = await client.token(admin=True)
    reply = await client.post("/api/halls", token=admin, json={
        "name": "Mine", "address": "here", "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "grade": "R"}]})
    assert reply.status == 201
    assert await load_demo(settings) is False
    assert (await client.get("/api/halls")).json["total"] == 1
    assert (await client.get("/api/performances")).json["total"] == 0
