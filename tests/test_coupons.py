"""First-come coupons: exact under real concurrency, applied once when reserving."""
import asyncio

import pytest
import sqlalchemy as sa

from server.db.tables import reservations, user_coupons
from server.db.types import utcnow
from server.wiring import DATABASE, SERVICES
from tests.support.factories import make_coupon, window


async def test_admins_create_users_take_one_each(client, show):
    admin, user = show["admin"], await client.token()
    coupon = await make_coupon(client, admin, quantity=2)
    assert coupon["remaining"] == 2 and coupon["issued"] == 0
    assert (await client.post("/api/coupons", token=user, json={"name": "x", "discount_type": "amount",
                                                                "discount": 1, "quantity": 1, **window()})).status == 403
    listed = await client.get("/api/coupons")
    assert [c["id"] for c in listed.json["items"]] == [coupon["id"]]
    taken = await client.post(f"/api/coupons/{coupon['id']}/issue", token=user)
    assert taken.status == 201 and taken.json["coupon_id"] == coupon["id"] and taken.json["used_at"] is None
    again = await client.post(f"/api/coupons/{coupon['id']}/issue", token=user)
    assert again.status == 409 and again.error_code() == "already_issued"
    assert (await client.post(f"/api/coupons/{coupon['id']}/issue", token=await client.token())).status == 201
    last = await client.post(f"/api/coupons/{coupon['id']}/issue", token=await client.token())
    assert last.status == 409 and last.error_code() == "sold_out"
    assert (await client.get("/api/coupons")).json["items"] == []       # none left to take
    mine = await client.get("/api/users/me/coupons", token=user)
    assert mine.json["total"] == 1 and mine.json["items"][0]["id"] == taken.json["id"]
    assert (await client.post("/api/coupons/999999/issue", token=user)).status == 404


@pytest.mark.parametrize("fields, bad", [({"discount_type": "percent", "discount": 101}, "discount"),
                                         ({**window(2, 1)}, "ends_at"), ({"quantity": 0}, "quantity"),
                                         ({"discount_type": "gift"}, "discount_type")])
async def test_bad_coupons_are_refused(client, show, fields, bad):
    body = {"name": "x", "discount_type": "amount", "discount": 1, "quantity": 1, **window(), **fields}
    reply = await client.post("/api/coupons", token=show["admin"], json=body)
    assert reply.status == 400 and bad in reply.json["error"]["details"]["fields"]


async def test_a_coupon_outside_its_window_cannot_be_taken(client, show):
    coupon = await make_coupon(client, show["admin"], **window(1, 2))
    reply = await client.post(f"/api/coupons/{coupon['id']}/issue", token=await client.token())
    assert reply.status == 409 and reply.error_code() == "invalid_state"


async def test_racing_users_get_exactly_quantity_coupons(client, app, show):
    """Really concurrent: every request is in flight at once, on SQLite and on MariaDB."""
    coupon = await make_coupon(client, show["admin"], quantity=30)
    tokens = await asyncio.gather(*(client.token() for _ in range(120)))
    takers = tokens + [tokens[0]] * 10                   # and one user trying eleven times at once
    replies = await asyncio.gather(*(client.post(f"/api/coupons/{coupon['id']}/issue", token=t) for t in takers))
    codes = [r.status if r.status == 201 else r.error_code() for r in replies]
    assert codes.count(201) == 30
    assert set(codes) <= {201, "sold_out", "already_issued"}
    async with app[DATABASE].read_own_writes() as conn:
        holders = (await conn.execute(sa.select(user_coupons.c.user_id)
                                      .where(user_coupons.c.coupon_id == coupon["id"]))).scalars().all()
    assert len(holders) == 30 and len(set(holders)) == 30
    assert (await client.get("/api/coupons")).json["items"] == []


async def test_a_coupon_takes_its_discount_once(client, app, show):
    token = await client.token()
    amount_off = await make_coupon(client, show["admin"], discount=20000)
    percent_off = await make_coupon(client, show["admin"], discount_type="percent", discount=10)
    for c in (amount_off, percent_off):
        assert (await client.post(f"/api/coupons/{c['id']}/issue", token=token)).status == 201
    round_id, (s1, s2, s3) = show["round_id"], show["seat_ids"][:3]

    async def reserve(seats, coupon_id):
        held = await client.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": seats})
        assert held.status == 200
        return await client.post("/api/reservations", token=token,
                                 json={"round_id": round_id, "seat_ids": seats, "coupon_id": coupon_id})
    first = await reserve([s1], amount_off["id"])
    assert first.status == 201 and (first.json["amount"], first.json["discount"]) == (100000, 20000)
    reused = await reserve([s2], amount_off["id"])
    assert reused.status == 409 and reused.error_code() == "coupon_unusable"
    second = await reserve([s2, s3], percent_off["id"])
    assert second.status == 201 and (second.json["amount"], second.json["discount"]) == (216000, 24000)
    # An unpaid reservation that expires gives its coupon back.
    async with app[DATABASE].begin() as conn:
        await conn.execute(reservations.update().where(reservations.c.id == first.json["id"])
                           .values(expires_at=utcnow()))
    assert await app[SERVICES].checkout.expire_due() == 1
    again = await reserve([s1], amount_off["id"])
    assert again.status == 201 and again.json["discount"] == 20000


async def test_a_coupon_must_be_yours_and_leave_nothing_or_at_least_100_won(client, show):
    token = await client.token()
    not_taken = await make_coupon(client, show["admin"])
    reply = await hold_and_reserve_with(client, token, show, show["seat_ids"][:1], not_taken["id"])
    assert reply.status == 409 and reply.error_code() == "coupon_unusable"
    almost = await make_coupon(client, show["admin"], discount=119950)          # would leave 50 won
    await client.post(f"/api/coupons/{almost['id']}/issue", token=token)
    reply = await hold_and_reserve_with(client, token, show, show["seat_ids"][:1], almost["id"])
    assert reply.status == 409 and reply.error_code() == "amount_below_minimum"
    free = await make_coupon(client, show["admin"], discount_type="percent", discount=100)
    await client.post(f"/api/coupons/{free['id']}/issue", token=token)
    reply = await hold_and_reserve_with(client, token, show, show["seat_ids"][:1], free["id"])
    assert reply.status == 201 and reply.json["amount"] == 0
    confirmed = await client.post("/api/payments/confirm", token=token, json={
        "payment_key": "no-payment-needed", "order_id": reply.json["order_id"], "amount": 0})
    assert confirmed.status == 200 and confirmed.json["status"] == "confirmed"   # no provider call


async def hold_and_reserve_with(client, token, show, seats, coupon_id):
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": seats})
    return await client.post("/api/reservations", token=token,
                             json={"round_id": show["round_id"], "seat_ids": seats, "coupon_id": coupon_id})


async def test_admins_see_every_coupon_with_its_state_and_correct_or_delete_it(client, show):
    admin, user = show["admin"], await client.token()
    scheduled = await make_coupon(client, admin, name="Next week", **window(7, 14))
    ended = await make_coupon(client, admin, name="Last month", **window(-30, -20))
    sold_out = await make_coupon(client, admin, name="Tiny", quantity=1)
    live = await make_coupon(client, admin, name="Open", quantity=5)
    assert (await client.post(f"/api/coupons/{sold_out['id']}/issue", token=user)).status == 201
    assert (await client.post(f"/api/coupons/{live['id']}/issue", token=user)).status == 201
    assert (await client.get("/api/admin/coupons", token=user)).status == 403
    listed = (await client.get("/api/admin/coupons", token=admin)).json
    states = {c["id"]: (c["state"], c["issued"], c["quantity"]) for c in listed["items"]}
    assert states == {scheduled["id"]: ("scheduled", 0, 10), ended["id"]: ("ended", 0, 10),
                      sold_out["id"]: ("sold_out", 1, 1), live["id"]: ("live", 1, 5)}
    assert listed["total"] == 4 and listed["items"][0]["id"] == scheduled["id"]     # the newest window first

    renamed = await client.patch(f"/api/coupons/{live['id']}", token=admin, json={"name": "Open day", "quantity": 1})
    assert renamed.status == 200 and (renamed.json["name"], renamed.json["state"]) == ("Open day", "sold_out")
    below = await client.patch(f"/api/coupons/{live['id']}", token=admin, json={"quantity": 1, **window(1, 2)})
    assert below.status == 200 and below.json["state"] == "scheduled"
    too_few = await client.patch(f"/api/coupons/{sold_out['id']}", token=admin, json={"quantity": 0})
    assert too_few.status == 400
    backwards = await client.patch(f"/api/coupons/{scheduled['id']}", token=admin, json=window(3, 2))
    assert backwards.status == 400 and "ends_at" in backwards.json["error"]["details"]["fields"]
    assert (await client.patch("/api/coupons/999999", token=admin, json={"name": "x"})).status == 404

    taken = await client.delete(f"/api/coupons/{sold_out['id']}", token=admin)
    assert taken.status == 409 and taken.error_code() == "invalid_state" and taken.json["error"]["details"]["issued"] == 1
    assert (await client.delete(f"/api/coupons/{scheduled['id']}", token=admin)).status == 204
    assert (await client.delete(f"/api/coupons/{scheduled['id']}", token=admin)).status == 404
    assert (await client.delete(f"/api/coupons/{ended['id']}", token=user)).status == 403


async def test_a_quantity_below_what_was_issued_is_refused(client, show):
    admin = show["admin"]
    coupon = await make_coupon(client, admin, quantity=3)
    for _ in range(2):
        assert (await client.post(f"/api/coupons/{coupon['id']}/issue", token=await client.token())).status == 201
    reply = await client.patch(f"/api/coupons/{coupon['id']}", token=admin, json={"quantity": 1})
    assert reply.status == 409 and reply.error_code() == "invalid_state" and reply.json["error"]["details"]["issued"] == 2
    assert (await client.get("/api/admin/coupons", token=admin)).json["items"][0]["quantity"] == 3
