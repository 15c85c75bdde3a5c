"""What tests book and pay for, made through the public API as an admin or a buyer would: halls,
performers, performances, rounds, reservations, payments and coupons."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from server.db.tables import performances, reservations, rounds
from server.db.types import utcnow
from server.wiring import DATABASE
from tests.support.backends import execute
from tests.support.peers.toss import checkout
from tests.support.posters import PNG, put_poster

_orders = itertools.count(1)


# ---- the catalogue -----------------------------------------------------------------------------------
SECTIONS = [{"name": "A", "rows": 2, "seats_per_row": 4, "grade": "VIP"},
            {"name": "B", "rows": 3, "seats_per_row": 6, "grade": "R"}]


def hall_body(**changes) -> dict:
    return {"name": "Blue Square", "address": "Seoul", "sections": SECTIONS, **changes}


async def make_hall(client, token: str, **changes) -> dict:
    """Create a hall (2 VIP rows of 4, 3 R rows of 6 unless changed) and return its detail."""
    reply = await client.post("/api/halls", token=token, json=hall_body(**changes))
    assert reply.status == 201, reply.json
    return reply.json


async def make_performer(client, token: str, name: str = "Han Ji-woo", **fields) -> dict:
    reply = await client.post("/api/performers", token=token, json={"name": name, **fields})
    assert reply.status == 201, reply.json
    return reply.json


def performance_body(hall_id: int, **changes) -> dict:
    return {"title": "Ticket Blue Live", "description": "A concert.", "category": "concert", "hall_id": hall_id,
            "starts_on": "2026-12-01", "ends_on": "2026-12-31", "duration_minutes": 120,
            "prices": {"VIP": 150000, "R": 120000}, **changes}


async def make_performance(client, token: str, hall_id: int | None = None, **changes) -> dict:
    """A performance (in a new VIP/R hall unless hall_id is given)."""
    hall_id = hall_id or (await make_hall(client, token))["id"]
    reply = await client.post("/api/performances", token=token, json=performance_body(hall_id, **changes))
    assert reply.status == 201, reply.json
    return reply.json


async def add_round(client, token: str, performance_id: int, starts_at: str | datetime) -> dict:
    """One more round of a performance (a datetime is sent to the second); returns the round."""
    if isinstance(starts_at, datetime):
        starts_at = starts_at.replace(microsecond=0).isoformat()
    reply = await client.post(f"/api/performances/{performance_id}/rounds", token=token,
                              json={"starts_at": starts_at})
    assert reply.status == 201, reply.json
    return reply.json


async def make_round(client, admin_token: str, *, sections: list[dict] | None = None,
                     prices: dict[str, int] | None = None, days_ahead: int = 2) -> dict:
    """A hall, a performance and one round through the public API; returns ids and seat ids."""
    sections = sections or [{"name": "A", "rows": 2, "seats_per_row": 5, "grade": "R"},
                            {"name": "B", "rows": 1, "seats_per_row": 5, "grade": "S"}]
    hall = await make_hall(client, admin_token, name="Blue Hall", sections=sections)
    today = date.today()
    performance = await make_performance(client, admin_token, hall["id"], title="Test Show",
                                         description="A show for tests", starts_on=str(today - timedelta(days=1)),
                                         ends_on=str(today + timedelta(days=30)),
                                         prices=prices or {"R": 120000, "S": 90000})
    round_ = await add_round(client, admin_token, performance["id"],
                             datetime.now(timezone.utc) + timedelta(days=days_ahead))
    return {"hall_id": hall["id"], "performance_id": performance["id"], "round_id": round_["id"],
            "seats": hall["seats"], "seat_ids": [s["id"] for s in hall["seats"]]}


async def another_round(client, show: dict, starts_at: datetime) -> dict:
    """The show (the `show` fixture's dict) with another round of its performance in place of its own."""
    return {**show, "round_id": (await add_round(client, show["admin"], show["performance_id"], starts_at))["id"]}


# ---- bookings ----------------------------------------------------------------------------------------
async def hold_and_reserve(client, token, round_id, seat_ids):
    held = await client.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": seat_ids})
    assert held.status == 200, held.json
    return await client.post("/api/reservations", token=token, json={"round_id": round_id, "seat_ids": seat_ids})


async def reserve(client, show, token, seats=1) -> dict:
    """A pending reservation of the show's first `seats` seats."""
    reply = await hold_and_reserve(client, token, show["round_id"], show["seat_ids"][:seats])
    assert reply.status == 201, reply.json
    return reply.json


async def pay(client, token, reservation, amount=None):
    """Pay in the sandbox's widget, then confirm (with the reservation's amount unless told another);
    returns the payment key and the confirm's answer."""
    payment_key, _ = await checkout(client, reservation["amount"], reservation["order_id"])
    return payment_key, await client.post("/api/payments/confirm", token=token, json={
        "payment_key": payment_key, "order_id": reservation["order_id"],
        "amount": reservation["amount"] if amount is None else amount})


async def confirmed_reservation(client, show, token) -> dict:
    """A reservation of the show's first seat, paid."""
    reservation = await reserve(client, show, token)
    _, paid = await pay(client, token, reservation)
    assert paid.status == 200
    return reservation


async def add_reservation(client, round_id: int, status: str) -> None:
    """A reservation row as the booking flow would leave it in `status` (only its existence matters here)."""
    user = await client.signup()
    now = datetime.now(timezone.utc)
    async with client.http.app[DATABASE].begin() as conn:
        await conn.execute(reservations.insert().values(
            user_id=user["id"], round_id=round_id, status=status, amount=1000, discount=0,
            order_id=f"test-order-{next(_orders)}", expires_at=now + timedelta(minutes=10),
            created_at=now, updated_at=now))


# ---- coupons -----------------------------------------------------------------------------------------
def window(days_from=-1, days_to=7) -> dict:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return {"starts_at": (now + timedelta(days=days_from)).isoformat(),
            "ends_at": (now + timedelta(days=days_to)).isoformat()}


async def make_coupon(client, admin, **fields) -> dict:
    body = {"name": "Opening week", "discount_type": "amount", "discount": 10000, "quantity": 10, **window(),
            **fields}
    reply = await client.post("/api/coupons", token=admin, json=body)
    assert reply.status == 201, reply.json
    return reply.json


# ---- a show of two years ago --------------------------------------------------------------------------
async def old_show(client, app, show) -> dict:
    """The show with a poster, a performer, a second round nobody booked (with a seat blocked) and a
    booking on its first round — then moved two years into the past."""
    admin = show["admin"]
    assert (await put_poster(client, admin, show["performance_id"], PNG)).status == 200
    performer = await make_performer(client, admin)
    assert (await client.post(f"/api/performances/{show['performance_id']}/performers", token=admin,
                              json={"performer_id": performer["id"]})).status == 201
    unbooked = (await another_round(client, show, utcnow() + timedelta(days=3)))["round_id"]
    assert (await client.post(f"/api/rounds/{unbooked}/blocks", token=admin,
                              json={"seat_ids": show["seat_ids"][:1]})).status == 200
    owner = await client.token()
    booking = await confirmed_reservation(client, show, owner)
    await _move_to_the_past(app, show["performance_id"])
    return {"performer": performer, "unbooked_round": unbooked, "owner": owner, "booking": booking}


async def _move_to_the_past(app, performance_id: int) -> None:
    two_years = timedelta(days=730)
    await execute(app, performances.update().where(performances.c.id == performance_id)
                  .values(starts_on=date.today() - two_years - timedelta(days=30), ends_on=date.today() - two_years))
    await execute(app, rounds.update().where(rounds.c.performance_id == performance_id)
                  .values(starts_at=utcnow() - two_years))
