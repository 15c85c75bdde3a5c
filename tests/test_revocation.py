"""Tokens that must stop working: a deleted or anonymised account's, every earlier one after a logout
or a password change — at once on the instance that made the change, within
TICKETBLUE_TOKEN_CHECK_SECONDS on every other — over REST, an open WebSocket and an open SSE stream."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server.app import create_app
from server.db.tables import users
from server.db.types import utcnow
from server.wiring import DATABASE, SETTINGS
from tests.support.api import PASSWORD, ApiClient, eventually, forge
from tests.support.backends import execute, settings_for
from tests.support.events import Stream, open_stream
from tests.support.jobs import run
from tests.support.ws import Socket


async def login(client, email: str, password: str = PASSWORD) -> str:
    reply = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert reply.status == 200, reply.json
    return reply.json["access_token"]


async def hold(client, token: str, round_id: int, seat_id: int):
    return await client.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": [seat_id]})


async def test_logout_ends_every_earlier_token_of_the_account_at_once(client, show):
    user = await client.signup()
    phone, laptop = await login(client, user["email"]), await login(client, user["email"])
    other = await client.token()
    assert (await hold(client, laptop, show["round_id"], show["seat_ids"][0])).status == 200

    assert (await client.post("/api/auth/logout", token=phone)).status == 204
    for token in (phone, laptop):
        me = await client.get("/api/users/me", token=token)
        assert me.status == 401 and me.error_code() == "unauthorized"
        assert (await hold(client, token, show["round_id"], show["seat_ids"][1])).status == 401
    assert (await client.post("/api/auth/logout", token=phone)).status == 401
    assert (await client.get("/api/users/me", token=other)).status == 200        # other accounts go on
    fresh = await login(client, user["email"])
    assert (await client.get("/api/users/me", token=fresh)).status == 200


async def test_a_password_change_ends_earlier_tokens_and_answers_with_a_new_one(client):
    user = await client.signup()
    old = await login(client, user["email"])
    wrong = await client.put("/api/users/me/password", token=old,
                             json={"current_password": "not the password", "new_password": "a new password"})
    assert wrong.status == 403 and wrong.json["error"]["details"]["fields"] == ["current_password"]
    short = await client.put("/api/users/me/password", token=old,
                             json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status == 400 and short.json["error"]["details"]["fields"] == ["new_password"]
    assert (await client.get("/api/users/me", token=old)).status == 200        # neither changed anything

    changed = await client.put("/api/users/me/password", token=old,
                               json={"current_password": PASSWORD, "new_password": "a new password"})
    assert changed.status == 200 and changed.json["token_type"] == "bearer"
    assert (await client.get("/api/users/me", token=old)).status == 401
    assert (await client.get("/api/users/me", token=changed.json["access_token"])).status == 200
    assert (await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})).status == 401
    assert await login(client, user["email"], "a new password")


async def test_a_kakao_only_account_has_no_password_to_change(client, app):
    user = await client.signup()
    token = await login(client, user["email"])
    await execute(app, users.update().where(users.c.id == user["id"]).values(password_hash=None, kakao_id="k-1"))
    reply = await client.put("/api/users/me/password", token=token,
                             json={"current_password": PASSWORD, "new_password": "a new password"})
    assert reply.status == 409 and reply.error_code() == "invalid_state"


async def test_a_deleted_accounts_token_is_refused_everywhere_at_once(client, show):
    user_token, admin_token = await client.token(), show["admin"]
    round_id, seat = show["round_id"], show["seat_ids"][0]
    assert (await hold(client, user_token, round_id, seat)).status == 200
    reservation = await client.post("/api/reservations", token=user_token, json={"round_id": round_id,
                                                                                "seat_ids": [seat]})
    assert reservation.status == 201

    for token in (user_token, admin_token):
        assert (await client.delete("/api/users/me", token=token)).status == 204
    refused = [await hold(client, user_token, round_id, show["seat_ids"][1]),
               await client.get("/api/reservations", token=user_token),
               await client.post("/api/payments/confirm", token=user_token, json={
                   "payment_key": "k", "order_id": reservation.json["order_id"], "amount": reservation.json["amount"]}),
               await client.post("/api/halls", token=admin_token, json={
                   "name": "Ghost Hall", "address": "Seoul",
                   "sections": [{"name": "A", "rows": 1, "seats_per_row": 1, "grade": "R"}]}),
               await client.get("/api/admin/jobs", token=admin_token)]
    assert [r.status for r in refused] == [401] * len(refused)
    assert {r.error_code() for r in refused} == {"unauthorized"}


@pytest.mark.parametrize("settings_overrides", [{"token_check_seconds": 0.5, "jobs_scheduled": False}])
async def test_an_anonymised_accounts_token_is_refused(client, app):
    """The dormant-users job anonymises in SQL, without telling anyone: the check interval bounds it."""
    user = await client.signup()
    token = await login(client, user["email"])
    assert (await client.get("/api/reservations", token=token)).status == 200
    long_ago = utcnow() - timedelta(days=app[SETTINGS].anonymise_after_dormant_days + 1)
    await execute(app, users.update().where(users.c.id == user["id"]).values(status="dormant", dormant_at=long_ago))
    await run(app, "dormant-users")
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(users.c.status).where(users.c.id == user["id"]))).scalar_one() == "deleted"

    async def refused():
        return (await client.get("/api/reservations", token=token)).status == 401
    await eventually(refused, timeout=3)


async def test_a_correctly_signed_token_naming_an_absurd_user_is_401(client, show):
    for subject in (str(10**30), "0", "-5", str(2**31)):
        token = forge({"sub": subject, "role": "user"})
        for reply in (await client.get("/api/users/me", token=token),
                      await hold(client, token, show["round_id"], show["seat_ids"][0])):
            assert reply.status == 401 and reply.error_code() == "unauthorized", (subject, reply.json)


@pytest.mark.parametrize("settings_overrides", [{"token_check_seconds": 60}])
async def test_one_read_of_the_account_per_check_interval(client, app):
    """The cost of the check: requests of one token within the interval share one read of the account."""
    token = await client.token()
    reads = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "token_version" in statement and "FROM users" in statement:
            reads.append(statement)
    engine = app[DATABASE].primary.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        replies = await asyncio.gather(*(client.get("/api/reservations", token=token) for _ in range(20)))
        replies += [await client.get("/api/reservations", token=token) for _ in range(5)]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.status for r in replies] == [200] * 25
    assert len(reads) == 1


async def test_another_instance_refuses_a_revoked_token_within_the_check_interval(tmp_path, database_url,
                                                                                aiohttp_client):
    interval = 1.0
    apps = [create_app(settings_for(tmp_path / name, database_url, token_check_seconds=interval))
            for name in ("a", "b")]
    a, b = [ApiClient(await aiohttp_client(app)) for app in apps]
    token = await a.token()
    assert (await b.get("/api/reservations", token=token)).status == 200     # b now knows the account

    assert (await a.post("/api/auth/logout", token=token)).status == 204
    revoked = time.monotonic()
    assert (await a.get("/api/reservations", token=token)).status == 401     # where it happened: at once

    async def refused_on_b():
        return (await b.get("/api/reservations", token=token)).status == 401
    await eventually(refused_on_b, timeout=interval + 5)
    assert time.monotonic() - revoked < interval + 0.5


async def test_an_open_socket_refuses_holds_once_the_token_is_ended(client, show):
    user = await client.signup()
    token = await login(client, user["email"])
    socket = Socket(await client.http.ws_connect(f"/ws/rounds/{show['round_id']}?token={token}"))
    assert (await socket.next("snapshot"))["type"] == "snapshot"
    first, second = show["seat_ids"][:2]
    await socket.send({"type": "hold", "req": 1, "seat_ids": [first]})
    assert (await socket.next("hold_result"))["ok"] is True

    assert (await client.post("/api/auth/logout", token=token)).status == 204
    await socket.send({"type": "hold", "req": 2, "seat_ids": [second]})
    refused = await socket.next("hold_result")
    assert refused["ok"] is False and refused["req"] == 2 and refused["error"]["code"] == "unauthorized"
    await socket.send({"type": "release", "req": 3, "seat_ids": [first]})
    assert (await socket.next("hold_result"))["error"]["code"] == "unauthorized"
    await socket.ws.close()
    seats = await client.get(f"/api/rounds/{show['round_id']}/seats")
    states = {s["id"]: s["status"] for s in seats.json["seats"]}
    assert (states[first], states[second]) == ("held", "available")


@pytest.mark.parametrize("settings_overrides", [{"sse_heartbeat_seconds": 0.2}])
async def test_an_open_event_stream_ends_once_the_token_is_ended(client):
    user = await client.signup()
    token = await login(client, user["email"])
    stream: Stream = await open_stream(client, token)
    assert await stream.next(timeout=5) == ": ping"

    assert (await client.delete("/api/users/me", token=token)).status == 204

    async def ended() -> bool:
        while True:
            try:
                await stream.next(timeout=5)
            except EOFError:
                return True
    assert await asyncio.wait_for(ended(), 3)
    assert (await client.get("/api/events", token=token)).status == 401
