"""Rounds: show times within the performance's run, shown in the configured time zone."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db.database import Database
from server.db.migrate import upgrade
from server.db.tables import halls, performances, reservation_seats, reservations, round_blocks, rounds, seats, users
from server.db.types import utcnow
from tests.support.api import full_width
from tests.support.factories import add_reservation, add_round, make_performance


async def performance_and_round(client) -> tuple[str, dict, dict]:
    """An admin's token, a performance running through December 2026 and its round of 10 December, 19:30 in Seoul."""
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    return admin, performance, await add_round(client, admin, performance["id"], "2026-12-10T19:30:00+09:00")


async def test_create_and_get_in_the_configured_time_zone(client):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin, duration_minutes=150)
    created = await add_round(client, admin, performance["id"], "2026-12-10T10:30:00Z")
    assert created == {"id": created["id"], "performance_id": performance["id"],
                       "starts_at": "2026-12-10T19:30:00+09:00", "ends_at": "2026-12-10T22:00:00+09:00",
                       "sale_opens_at": None}
    assert (await client.get(f"/api/rounds/{created['id']}")).json == created
    # ends_at follows the performance's duration.
    await client.patch(f"/api/performances/{performance['id']}", token=admin, json={"duration_minutes": 60})
    assert (await client.get(f"/api/rounds/{created['id']}")).json["ends_at"] == "2026-12-10T20:30:00+09:00"


@pytest.mark.parametrize("settings_overrides", [{"timezone": "UTC"}])
async def test_time_zone_is_a_setting(client):
    admin, performance, created = await performance_and_round(client)
    assert created["starts_at"] == "2026-12-10T10:30:00Z"
    # In UTC, 08:00 in Seoul on the first day is still the day before the run.
    early = await client.post(f"/api/performances/{performance['id']}/rounds", token=admin,
                              json={"starts_at": "2026-12-01T08:00:00+09:00"})
    assert early.status == 400


async def test_the_local_date_must_be_within_the_run(client):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)          # 2026-12-01 .. 2026-12-31
    path = f"/api/performances/{performance['id']}/rounds"
    for outside in ("2026-11-30T23:30:00+09:00", "2026-12-31T15:00:00Z", "2027-01-01T00:00:00+09:00"):
        reply = await client.post(path, token=admin, json={"starts_at": outside})
        assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["starts_at"], outside
    # 15:30 UTC on 30 November is 00:30 on 1 December in Seoul: inside.
    first = await add_round(client, admin, performance["id"], "2026-11-30T15:30:00Z")
    assert first["starts_at"] == "2026-12-01T00:30:00+09:00"
    assert (await client.get(path)).json["total"] == 1


@pytest.mark.parametrize("body, field", [
    ({}, "starts_at"),
    ({"starts_at": "2026-12-10T19:30:00"}, "starts_at"),          # no offset
    ({"starts_at": "2026-12-10"}, "starts_at"),
    ({"starts_at": 1765362600}, "starts_at"),
    ({"starts_at": "2026-12-10T19:30:00+09:00", "hall": 1}, "hall"),
])
async def test_bad_bodies(client, body, field):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    path = f"/api/performances/{performance['id']}/rounds"
    reply = await client.post(path, token=admin, json=body)
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == [field]
    assert (await client.get(path)).json["total"] == 0


async def test_list_is_in_time_order_and_paginated(client):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    other = await make_performance(client, admin, hall_id=performance["hall_id"])
    await add_round(client, admin, other["id"], "2026-12-01T19:00:00+09:00")
    late = await add_round(client, admin, performance["id"], "2026-12-20T19:00:00+09:00")
    early = await add_round(client, admin, performance["id"], "2026-12-05T14:00:00+09:00")
    path = f"/api/performances/{performance['id']}/rounds"
    listed = await client.get(path)
    assert listed.json == {"items": [early, late], "page": 1, "size": 20, "total": 2}
    assert (await client.get(f"{path}?size=1&page=2")).json["items"] == [late]
    missing = await client.get("/api/performances/999999/rounds")
    assert missing.status == 404 and missing.error_code() == "not_found"
    assert (await client.post("/api/performances/999999/rounds", token=admin,
                              json={"starts_at": "2026-12-05T14:00:00+09:00"})).status == 404


async def test_update_moves_a_round(client):
    admin, performance, created = await performance_and_round(client)
    path = f"/api/rounds/{created['id']}"
    moved = await client.patch(path, token=admin, json={"starts_at": "2026-12-11T14:00:00+09:00"})
    assert moved.status == 200 and moved.json["starts_at"] == "2026-12-11T14:00:00+09:00"
    outside = await client.patch(path, token=admin, json={"starts_at": "2027-01-11T14:00:00+09:00"})
    assert outside.status == 400
    assert (await client.patch(path, token=admin, json={})).status == 400
    assert (await client.get(path)).json == moved.json
    assert (await client.patch("/api/rounds/999999", token=admin,
                               json={"starts_at": "2026-12-11T14:00:00+09:00"})).status == 404


async def test_a_round_with_live_reservations_cannot_move_or_go(client):
    admin, performance, created = await performance_and_round(client)
    await add_reservation(client, created["id"], "attended")
    path = f"/api/rounds/{created['id']}"
    moved = await client.patch(path, token=admin, json={"starts_at": "2026-12-11T19:30:00+09:00"})
    assert moved.status == 409 and moved.error_code() == "invalid_state"
    deleted = await client.delete(path, token=admin)
    assert deleted.status == 409 and deleted.json["error"]["details"] == {"live_reservations": 1}
    assert (await client.get(path)).json == created


async def test_past_reservations_allow_moving_but_not_deleting(client):
    admin, performance, created = await performance_and_round(client)
    await add_reservation(client, created["id"], "expired")
    path = f"/api/rounds/{created['id']}"
    moved = await client.patch(path, token=admin, json={"starts_at": "2026-12-11T19:30:00+09:00"})
    assert moved.status == 200
    deleted = await client.delete(path, token=admin)
    assert deleted.status == 409 and deleted.json["error"]["details"] == {"past_reservations": 1}


async def test_delete(client):
    admin, performance, created = await performance_and_round(client)
    assert (await client.delete(f"/api/rounds/{created['id']}", token=admin)).status == 204
    assert (await client.get(f"/api/rounds/{created['id']}")).status == 404
    assert (await client.delete(f"/api/rounds/{created['id']}", token=admin)).status == 404


async def test_writes_need_an_admin(client):
    user = await client.token()
    admin, performance, created = await performance_and_round(client)
    body = {"starts_at": "2026-12-11T19:30:00+09:00"}
    for method, url, json in [("POST", f"/api/performances/{performance['id']}/rounds", body),
                              ("PATCH", f"/api/rounds/{created['id']}", body),
                              ("DELETE", f"/api/rounds/{created['id']}", None)]:
        assert (await client.call(method, url, json=json)).status == 401
        assert (await client.call(method, url, json=json, token=user)).status == 403
    assert (await client.get(f"/api/performances/{performance['id']}/rounds")).json["items"] == [created]


async def test_a_deleted_rounds_id_is_never_given_to_another(client):
    """On SQLite a new row used to take the highest id plus one: the id of the newest round, deleted."""
    admin, performance, first = await performance_and_round(client)
    newest = await add_round(client, admin, performance["id"], "2026-12-11T19:30:00+09:00")
    assert (await client.delete(f"/api/rounds/{newest['id']}", token=admin)).status == 204
    again = await add_round(client, admin, performance["id"], "2026-12-11T19:30:00+09:00")
    assert again["id"] > newest["id"] > first["id"]


async def test_ids_written_in_other_digits_than_ascii_are_404(client):
    admin, performance, created = await performance_and_round(client)
    wide_round, wide_performance = full_width(created["id"]), full_width(performance["id"])
    for path in ["/api/rounds/²", "/api/rounds/①", f"/api/rounds/{wide_round}", f"/api/rounds/{wide_round}/seats",
                 f"/api/rounds/{wide_round}/availability", "/api/rounds/٣", f"/api/performances/{wide_performance}",
                 f"/api/performances/{wide_performance}/rounds", f"/api/halls/{full_width(performance['hall_id'])}",
                 "/api/performers/²", "/api/rounds/" + "9" * 5000]:
        reply = await client.get(path)
        assert (reply.status, reply.error_code()) == (404, "not_found"), (path[:40], reply.status)
    hold = await client.post(f"/api/rounds/{wide_round}/holds", token=await client.token(), json={"seat_ids": [1]})
    assert (hold.status, hold.error_code()) == (404, "not_found")
    assert (await client.delete(f"/api/rounds/{wide_round}", token=admin)).status == 404
    assert (await client.get(f"/api/rounds/{created['id']}")).json == created


async def insert(conn, table: sa.Table, **values) -> int:
    return (await conn.execute(table.insert().values(**values))).inserted_primary_key[0]


async def test_a_database_from_before_keeps_its_rows_when_ids_stop_being_reused(tmp_path):
    """Migration 0009 recreates tables on SQLite (the only way to make them AUTOINCREMENT): rows that
    refer to them, some ON DELETE CASCADE, survive it, and foreign keys are enforced again after it."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(db, "0007")
        now = utcnow()
        async with db.begin() as conn:
            hall = await insert(conn, halls, name="H", address="A", created_at=now)
            seat = await insert(conn, seats, hall_id=hall, section="A", row=1, number=1, x=1, y=1, grade="R")
            show = await insert(conn, performances, title="T", description="D", category="concert", hall_id=hall,
                                starts_on=now.date(), ends_on=now.date(), duration_minutes=60, created_at=now)
            kept = await insert(conn, rounds, performance_id=show, starts_at=now, created_at=now)
            newest = await insert(conn, rounds, performance_id=show, starts_at=now, created_at=now)
            await insert(conn, round_blocks, round_id=kept, seat_id=seat, created_at=now)
            user = await insert(conn, users, name="U", role="user", status="active", created_at=now)
            booking = await insert(conn, reservations, user_id=user, round_id=kept, status="pending", amount=1,
                                   discount=0, order_id="o-1", expires_at=now, created_at=now, updated_at=now)
            await insert(conn, reservation_seats, reservation_id=booking, seat_id=seat, round_id=kept, price=1,
                         live=True)
            await conn.execute(rounds.delete().where(rounds.c.id == newest))
        await upgrade(db)
        async with db.begin() as conn:
            assert (await conn.execute(sa.select(round_blocks.c.round_id))).scalars().all() == [kept]
            assert (await conn.execute(sa.select(reservation_seats.c.seat_id))).scalars().all() == [seat]
            assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 1
            made = await insert(conn, rounds, performance_id=show, starts_at=now, created_at=now)
            await conn.execute(rounds.delete().where(rounds.c.id == made))
            again = await insert(conn, rounds, performance_id=show, starts_at=now, created_at=now)
        assert again > made > kept
        with pytest.raises(sa.exc.IntegrityError):
            async with db.begin() as conn:
                await conn.execute(rounds.delete().where(rounds.c.id == kept))        # still referred to
    finally:
        await db.close()
