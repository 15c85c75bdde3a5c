"""The demo loader: a hall, performers, a performance with prices, cast and rounds; once only. And the
embedded demo run's way into /admin: a demo admin whose new password each start is printed."""
from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp

from server.demo import DEMO_ADMIN_EMAIL, DEMO_PRICES, DEMO_ROUNDS, load_demo
from tests.support.api import ApiClient
from tests.support.instances import ServerProcess


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


def demo_admin_password(log: str) -> str | None:
    """The password the demo run printed for its admin, the newest one."""
    found = re.findall(rf"demo admin for http://\S+/admin : {re.escape(DEMO_ADMIN_EMAIL)} / (\S+) ", log)
    return found[-1] if found else None


async def log_in(url: str, password: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession(url) as http:
        api = ApiClient(http)    # type: ignore[arg-type]
        reply = await api.post("/api/auth/login", json={"email": DEMO_ADMIN_EMAIL, "password": password})
        if reply.status != 200:
            return reply.status, {}
        return 200, (await api.get("/api/users/me", token=reply.json["access_token"])).json


async def demo_admin_email_is_free(url: str) -> bool:
    """Whether no account has the demo admin's email: a sign-up with it is taken (201) or refused (409)."""
    async with aiohttp.ClientSession(url) as http:
        reply = await ApiClient(http).post("/api/auth/signup", json={   # type: ignore[arg-type]
            "email": DEMO_ADMIN_EMAIL, "password": "not-the-admin-1", "name": "Someone"})
    assert reply.status in (201, 409), reply.json
    return reply.status == 201


async def test_the_embedded_demo_run_prints_a_demo_admin_with_a_new_password_each_start(tmp_path):
    passwords = []
    for _ in range(2):                                   # the same embedded database, started twice
        server = ServerProcess(tmp_path, serve_args=("--demo",), log_level="INFO").start()
        try:
            await server.wait_ready()
            password = demo_admin_password(server.log_path.read_text())
            assert password and password not in passwords
            status, me = await log_in(server.url, password)
            assert status == 200 and me["role"] == "admin"
            for earlier in passwords:                    # the last start's password works no more
                assert (await log_in(server.url, earlier))[0] == 401
            passwords.append(password)
            assert not await demo_admin_email_is_free(server.url)
        finally:
            assert server.stop() == 0
    assert "password" not in "".join(line for line in server.log_path.read_text().splitlines()
                                     if " INFO " in line or " WARNING " in line)      # printed, not logged


async def test_a_demo_on_a_database_of_its_own_makes_no_admin(tmp_path, empty_mysql_url):
    server = ServerProcess(tmp_path, serve_args=("--demo",), log_level="INFO", database_url=empty_mysql_url).start()
    try:
        await server.wait_ready()
        assert demo_admin_password(server.log_path.read_text()) is None
        async with aiohttp.ClientSession(server.url) as http:
            assert (await ApiClient(http).get("/api/performances")).json["total"] == 1     # the demo itself loaded
        assert await demo_admin_email_is_free(server.url)
    finally:
        server.stop()


async def test_the_embedded_run_without_demo_makes_no_admin(tmp_path):
    server = ServerProcess(tmp_path, log_level="INFO").start()
    try:
        await server.wait_ready()
        assert demo_admin_password(server.log_path.read_text()) is None
        assert await demo_admin_email_is_free(server.url)
    finally:
        assert server.stop() == 0
