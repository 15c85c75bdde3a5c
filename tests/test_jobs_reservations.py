"""The reservation jobs: expired-reservations (with the payment provider asked first),
upcoming-reminders and review-reminders — each run twice, the second sending nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest
import sqlalchemy as sa

from server.db.tables import reservations, rounds
from server.db.types import utcnow
from server.payments.sandbox import Stall
from server.wiring import DATABASE, SERVICES, TOSS_SANDBOX
from tests.support.api import eventually
from tests.support.backends import execute
from tests.support.factories import (another_round, confirmed_reservation, hold_and_reserve, make_coupon, pay,
                                     reserve)
from tests.support.jobs import ONE_ROW_CHUNKS, run
from tests.support.outbox import messages
from tests.support.peers.toss import QUICK_TOSS_CLIENT, TOSS_TIMEOUT, money


@pytest.fixture
def settings_overrides() -> dict:
    return {"jobs_scheduled": False, **QUICK_TOSS_CLIENT, **ONE_ROW_CHUNKS}


async def status_of(client, token: str, reservation_id: int) -> str:
    return (await client.get(f"/api/reservations/{reservation_id}", token=token)).json["status"]


async def seat_states(client, round_id: int) -> dict[int, str]:
    return {s["id"]: s["status"] for s in (await client.get(f"/api/rounds/{round_id}/seats")).json["seats"]}


async def overdue(app, reservation_id: int) -> None:
    await execute(app, reservations.update().where(reservations.c.id == reservation_id)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))


# ---- expired-reservations ---------------------------------------------------------------------------
async def test_unpaid_reservations_expire_in_bulk_and_give_back_seats_and_coupons(client, app, show):
    coupon = await make_coupon(client, show["admin"])
    late, in_time = await client.token(), await client.token()
    assert (await client.post(f"/api/coupons/{coupon['id']}/issue", token=late)).status == 201
    held = await client.post(f"/api/rounds/{show['round_id']}/holds", token=late, json={"seat_ids": show["seat_ids"][:2]})
    assert held.status == 200
    expiring = (await client.post("/api/reservations", token=late, json={
        "round_id": show["round_id"], "seat_ids": show["seat_ids"][:2], "coupon_id": coupon["id"]})).json
    waiting = await reserve(client, {**show, "seat_ids": show["seat_ids"][2:]}, in_time)
    await overdue(app, expiring["id"])

    done = await run(app, "expired-reservations")
    assert done.status == "succeeded" and done.counts == {"expired": 1, "expired_after_payment_check": 0}
    assert await status_of(client, late, expiring["id"]) == "expired"
    assert await status_of(client, in_time, waiting["id"]) == "pending"
    seats = await seat_states(client, show["round_id"])
    assert [seats[s] for s in show["seat_ids"][:3]] == ["available", "available", "sold"]
    [mine] = (await client.get("/api/users/me/coupons", token=late)).json["items"]
    assert mine["used_at"] is None                                     # the coupon can be used again
    sent = await messages(app, "reservation.expired")
    assert sorted((m.channel, m.payload["reservation_id"], m.payload["status"]) for m in sent) == [
        ("mail", expiring["id"], "expired"), ("sse", expiring["id"], "expired")]
    payload = sent[0].payload
    assert payload["performance_title"] == "Test Show" and payload["hall_name"] == "Blue Hall"
    assert [(s["section"], s["row"], s["number"]) for s in payload["seats"]] == [("A", 1, 1), ("A", 1, 2)]
    assert payload["discount"] == 10000 and payload["amount"] == 2 * 120000 - 10000
    async with app[DATABASE].read_own_writes() as conn:      # what the booking's own messages say, exactly
        assert payload == msgspec.to_builtins(await app[SERVICES].reservations.booking(conn, expiring["id"]))

    again = await run(app, "expired-reservations")
    assert again.counts == {"expired": 0, "expired_after_payment_check": 0}
    assert len(await messages(app, "reservation.expired")) == 2
    other = await client.token()                                       # the seats sell again
    assert (await hold_and_reserve(client, other, show["round_id"], show["seat_ids"][:2])).status == 201


async def test_a_paid_reservation_whose_answer_was_lost_is_confirmed_not_expired(client, app, show):
    """The provider took the money but its answer never came: the job asks it before expiring."""
    sandbox, token = app[TOSS_SANDBOX], await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Stall(seconds=3 * TOSS_TIMEOUT), Stall(seconds=3 * TOSS_TIMEOUT))
    _, lost = await pay(client, token, reservation)
    assert lost.status == 502
    # the stalled calls are handled late, as Toss would
    await eventually(lambda: money(sandbox, reservation["order_id"]), timeout=5)
    await overdue(app, reservation["id"])

    done = await run(app, "expired-reservations")
    assert done.counts == {"expired": 0, "expired_after_payment_check": 0}
    assert await status_of(client, token, reservation["id"]) == "confirmed"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]
    assert await messages(app, "reservation.expired") == []


# ---- upcoming-reminders -------------------------------------------------------------------------------
async def test_bookers_are_reminded_the_day_before_once(client, app, show):
    tomorrow = await another_round(client, show, datetime.now(timezone.utc) + timedelta(hours=20))
    later = show                                                       # the fixture's round: two days ahead
    going, unpaid, canceled, far = [await client.token() for _ in range(4)]
    booked = await confirmed_reservation(client, tomorrow, going)
    pending = (await hold_and_reserve(client, unpaid, tomorrow["round_id"], tomorrow["seat_ids"][1:2])).json
    dropped = await confirmed_reservation(client, {**tomorrow, "seat_ids": tomorrow["seat_ids"][2:]}, canceled)
    assert (await client.post(f"/api/reservations/{dropped['id']}/cancel", token=canceled)).status == 200
    await confirmed_reservation(client, later, far)

    done = await run(app, "upcoming-reminders")
    assert done.counts == {"reminded": 1}
    sent = await messages(app, "reminder.upcoming")
    assert sorted(m.channel for m in sent) == ["mail", "sse"]
    assert {m.payload["reservation_id"] for m in sent} == {booked["id"]} and pending["id"] != booked["id"]
    starts = datetime.fromisoformat(sent[0].payload["starts_at"])
    assert timedelta(hours=19) < starts - datetime.now(timezone.utc) < timedelta(hours=20)

    assert (await run(app, "upcoming-reminders")).counts == {"reminded": 0}
    assert len(await messages(app, "reminder.upcoming")) == 2


# ---- review-reminders ---------------------------------------------------------------------------------
async def test_after_a_round_its_bookings_are_attended_and_their_owners_invited(client, app, show):
    token, old_token = await client.token(), await client.token()
    went = await confirmed_reservation(client, show, token)
    long_ago = await another_round(client, show, datetime.now(timezone.utc) + timedelta(days=3))
    went_long_ago = await confirmed_reservation(client, {**long_ago, "seat_ids": show["seat_ids"][1:]}, old_token)
    unpaid = (await hold_and_reserve(client, await client.token(), show["round_id"], show["seat_ids"][2:3])).json
    # The show's round started three hours ago (it lasts two); the other ended a month ago.
    for round_id, started in ((show["round_id"], timedelta(hours=3)), (long_ago["round_id"], timedelta(days=30))):
        await execute(app, rounds.update().where(rounds.c.id == round_id).values(starts_at=utcnow() - started))
    playing = await another_round(client, show, datetime.now(timezone.utc) + timedelta(days=4))
    still_on = await confirmed_reservation(client, {**playing, "seat_ids": show["seat_ids"][3:]}, token)
    await execute(app, rounds.update().where(rounds.c.id == playing["round_id"])
                  .values(starts_at=utcnow() - timedelta(minutes=30)))       # started, not over

    done = await run(app, "review-reminders")
    assert done.counts == {"attended": 2, "invited": 1}
    assert await status_of(client, token, went["id"]) == "attended"
    assert await status_of(client, old_token, went_long_ago["id"]) == "attended"
    assert await status_of(client, token, still_on["id"]) == "confirmed"
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(reservations.c.status).where(reservations.c.id == unpaid["id"]))
                ).scalar_one() == "pending"
    sent = await messages(app, "reminder.review")
    assert sorted((m.channel, m.payload["reservation_id"], m.payload["status"]) for m in sent) == [
        ("mail", went["id"], "attended"), ("sse", went["id"], "attended")]
    review = await client.post(f"/api/performances/{show['performance_id']}/reviews", token=token,
                               json={"reservation_id": went["id"], "rating": 5, "content": "Wonderful"})
    assert review.status == 201, review.json                         # attended may review

    assert (await run(app, "review-reminders")).counts == {"attended": 0, "invited": 0}
    assert len(await messages(app, "reminder.review")) == 2
