"""Reservations from holds: one transaction guarded by the unique live-seat key."""
import asyncio

import sqlalchemy as sa

from server.db.tables import reservation_seats, reservations
from server.db.types import utcnow
from server.wiring import DATABASE, SEAT_ENGINE, SERVICES
from tests.support.factories import hold_and_reserve


async def test_reserving_held_seats(client, show):
    token = await client.token()
    r_seats, s_seat = show["seat_ids"][:2], show["seat_ids"][-1]        # two R and one S
    reply = await hold_and_reserve(client, token, show["round_id"], [*r_seats, s_seat])
    body = reply.json
    assert reply.status == 201 and body["status"] == "pending"
    assert body["amount"] == 2 * 120000 + 90000 and body["discount"] == 0
    assert body["seat_ids"] == sorted([*r_seats, s_seat]) and body["order_id"].startswith("tb-")
    seats = {s["id"]: s["status"] for s in (await client.get(f"/api/rounds/{show['round_id']}/seats")).json["seats"]}
    assert {seats[s] for s in [*r_seats, s_seat]} == {"sold"}
    assert (await client.get(f"/api/reservations/{body['id']}", token=token)).json == body
    mine = await client.get("/api/reservations", token=token)
    assert mine.json["total"] == 1 and mine.json["items"] == [body]


async def test_someone_elses_reservation_is_404(client, show):
    a, b = await client.token(), await client.token()
    made = await hold_and_reserve(client, a, show["round_id"], show["seat_ids"][:1])
    assert (await client.get(f"/api/reservations/{made.json['id']}", token=b)).status == 404
    assert (await client.post(f"/api/reservations/{made.json['id']}/cancel", token=b)).status == 404


async def test_seats_must_be_held_by_the_caller(client, show):
    a, b = await client.token(), await client.token()
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=a, json={"seat_ids": show["seat_ids"][:1]})
    reply = await client.post("/api/reservations", token=b,
                              json={"round_id": show["round_id"], "seat_ids": show["seat_ids"][:2]})
    assert reply.status == 409 and reply.json["error"]["details"]["seat_ids"] == show["seat_ids"][:2]
    assert (await client.get("/api/reservations", token=b)).json["total"] == 0


async def test_cancel_frees_the_seats(client, show):
    token = await client.token()
    made = await hold_and_reserve(client, token, show["round_id"], show["seat_ids"][:2])
    canceled = await client.post(f"/api/reservations/{made.json['id']}/cancel", token=token)
    assert canceled.status == 200 and canceled.json["status"] == "canceled"
    again = await client.post(f"/api/reservations/{made.json['id']}/cancel", token=token)
    assert again.status == 409 and again.error_code() == "invalid_state"
    other = await client.token()
    assert (await hold_and_reserve(client, other, show["round_id"], show["seat_ids"][:2])).status == 201


async def test_unpaid_reservations_expire_and_free_their_seats(client, app, show):
    token = await client.token()
    made = await hold_and_reserve(client, token, show["round_id"], show["seat_ids"][:2])
    async with app[DATABASE].begin() as conn:             # the payment window has passed
        await conn.execute(reservations.update().values(expires_at=utcnow()))
    expired = await asyncio.gather(app[SERVICES].checkout.expire_due(),
                                   app[SERVICES].checkout.expire_due())
    assert sum(expired) == 1                               # two sweepers, one expiry
    assert (await client.get(f"/api/reservations/{made.json['id']}", token=token)).json["status"] == "expired"
    seats = {s["id"]: s["status"] for s in (await client.get(f"/api/rounds/{show['round_id']}/seats")).json["seats"]}
    assert seats[show["seat_ids"][0]] == "available"


async def test_the_database_refuses_a_second_sale_even_if_the_engine_forgot(client, app, show):
    a, b = await client.token(), await client.token()
    seat = show["seat_ids"][0]
    assert (await hold_and_reserve(client, a, show["round_id"], [seat])).status == 201
    await app[SEAT_ENGINE].free(show["round_id"], [seat])      # the engine loses the sale
    second = await hold_and_reserve(client, b, show["round_id"], [seat])
    assert second.status == 409 and second.json["error"]["details"]["seat_ids"] == [seat]
    async with app[DATABASE].read_own_writes() as conn:
        live = (await conn.execute(sa.select(sa.func.count()).select_from(reservation_seats)
                                   .where(reservation_seats.c.live.is_(True)))).scalar_one()
    assert live == 1
    seats = {s["id"]: s["status"] for s in (await client.get(f"/api/rounds/{show['round_id']}/seats")).json["seats"]}
    assert seats[seat] == "sold"                            # and the engine learned it again


async def test_racing_buyers_never_share_a_seat(client, app, show):
    tokens = [await client.token() for _ in range(30)]
    seats = show["seat_ids"][:5]

    async def buyer(i, token):
        wanted = [seats[i % 5], seats[(i + 1) % 5]]
        held = await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": wanted})
        if held.status != 200:
            return 0
        made = await client.post("/api/reservations", token=token,
                                 json={"round_id": show["round_id"], "seat_ids": wanted})
        return made.status

    results = await asyncio.gather(*(buyer(i, t) for i, t in enumerate(tokens)))
    async with app[DATABASE].read_own_writes() as conn:
        sold = (await conn.execute(sa.select(reservation_seats.c.seat_id)
                                   .where(reservation_seats.c.live.is_(True)))).scalars().all()
    assert len(sold) == len(set(sold)) and results.count(201) * 2 == len(sold) and 1 <= results.count(201) <= 2
