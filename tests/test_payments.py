"""Paying for reservations through the (sandbox) Toss API, refunds, and what a lost answer leaves."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.db.tables import outbox, payments, reservations, rounds
from server.db.types import utcnow
from server.payments.sandbox import Disconnect, Refuse, Stall, TossError
from server.wiring import DATABASE, SERVICES
from tests.support.api import eventually
from tests.support.factories import hold_and_reserve, pay, reserve
from tests.support.peers.toss import QUICK_TOSS_CLIENT, TOSS_TIMEOUT, checkout, money


@pytest.fixture
def settings_overrides() -> dict:
    return QUICK_TOSS_CLIENT


async def events_of(app, reservation_id: int) -> list[tuple[str, str]]:
    async with app[DATABASE].read_own_writes() as conn:
        rows = (await conn.execute(sa.select(outbox.c.event, outbox.c.channel, outbox.c.payload)
                                   .order_by(outbox.c.id))).all()
    return [(r.event, r.channel) for r in rows if r.payload.get("reservation_id") == reservation_id]


async def test_paying_confirms_once_however_often_it_is_asked(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    payment_key, confirmed = await pay(client, token, reservation)
    assert confirmed.status == 200, confirmed.json
    assert confirmed.json["status"] == "confirmed" and confirmed.json["reservation_id"] == reservation["id"]
    again = await client.post("/api/payments/confirm", token=token, json={
        "payment_key": payment_key, "order_id": reservation["order_id"], "amount": reservation["amount"]})
    assert again.status == 200 and again.json == confirmed.json
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "confirmed"
    seats = (await client.get(f"/api/rounds/{show['round_id']}/seats")).json["seats"]
    assert [s["status"] for s in seats if s["id"] == show["seat_ids"][0]] == ["sold"]
    assert ("reservation.confirmed", "mail") in await events_of(app, reservation["id"])
    assert ("payment.confirmed", "sse") in await events_of(app, reservation["id"])


async def test_the_amount_must_be_the_servers(client, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    _, reply = await pay(client, token, reservation, amount=100)
    assert reply.status == 400 and reply.error_code() == "amount_mismatch"
    assert reply.json["error"]["details"]["expected"] == 120000
    assert money(sandbox, reservation["order_id"]) == []            # nothing charged
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "pending"


async def test_someone_elses_order_is_not_found(client, show):
    owner, other = await client.token(), await client.token()
    reservation = await reserve(client, show, owner)
    _, reply = await pay(client, other, reservation)
    assert reply.status == 404


@pytest.mark.parametrize("code, status, api_code", [("REJECT_CARD_PAYMENT", 402, "payment_declined"),
                                                     ("PROVIDER_ERROR", 502, "payment_provider_error")])
async def test_a_provider_failure_leaves_it_pending_and_says_why(client, show, sandbox, code, status, api_code):
    token = await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Refuse(code))
    _, failed = await pay(client, token, reservation)
    assert failed.status == status and failed.error_code() == api_code
    assert failed.json["error"]["details"]["provider_code"] == code
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "pending"
    _, retried = await pay(client, token, reservation)              # another card, another payment
    assert retried.status == 200 and retried.json["status"] == "confirmed"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]


async def test_money_taken_without_an_answer_is_never_left_without_a_booking(client, app, show, sandbox):
    """The provider approves, but its answer never reaches us (a timeout, or a crash before our
    commit): the reservation stays pending with the payment open; the expiry pass asks the
    provider, finds the approval, and confirms instead of expiring."""
    token = await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Stall(seconds=3 * TOSS_TIMEOUT), Stall(seconds=3 * TOSS_TIMEOUT))
    _, lost = await pay(client, token, reservation)
    assert lost.status == 502 and lost.error_code() == "payment_provider_error"
    # the stalled calls are handled late, as Toss would
    await eventually(lambda: money(sandbox, reservation["order_id"]), timeout=5)
    async with app[DATABASE].begin() as conn:   # its payment window is over
        await conn.execute(reservations.update().where(reservations.c.id == reservation["id"])
                           .values(expires_at=utcnow()))
    assert await app[SERVICES].checkout.expire_due() == 0
    got = (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json
    assert got["status"] == "confirmed"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(payments.c.status))).scalars().all() == ["approved"]


async def test_an_unpaid_reservation_expires_and_its_seats_come_back(client, app, show):
    token = await client.token()
    reservation = await reserve(client, show, token)
    async with app[DATABASE].begin() as conn:
        await conn.execute(reservations.update().where(reservations.c.id == reservation["id"])
                           .values(expires_at=utcnow()))
    assert await app[SERVICES].checkout.expire_due() == 1
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "expired"
    _, late = await pay(client, token, reservation)
    assert late.status == 409 and late.error_code() == "invalid_state"
    again = await hold_and_reserve(client, await client.token(), show["round_id"], show["seat_ids"][:1])
    assert again.status == 201
    assert ("reservation.expired", "mail") in await events_of(app, reservation["id"])


async def test_canceling_a_paid_reservation_refunds_first_then_frees_the_seats(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token, seats=2)
    _, paid = await pay(client, token, reservation)
    assert paid.status == 200
    canceled = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert canceled.status == 200 and canceled.json["status"] == "canceled"
    assert money(sandbox, reservation["order_id"]) == [("approve", 240000), ("cancel", 240000)]
    seats = {s["id"]: s["status"] for s in (await client.get(f"/api/rounds/{show['round_id']}/seats")).json["seats"]}
    assert seats[show["seat_ids"][0]] == seats[show["seat_ids"][1]] == "available"
    twice = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert twice.status == 409 and twice.error_code() == "invalid_state"
    assert ("payment.canceled", "sse") in await events_of(app, reservation["id"])


async def test_a_refund_the_provider_fails_keeps_the_booking(client, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    await pay(client, token, reservation)
    sandbox.fail_next(reservation["order_id"], Refuse("PROVIDER_ERROR"))
    failed = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert failed.status == 502
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "confirmed"
    retried = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert retried.status == 200 and retried.json["status"] == "canceled"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000), ("cancel", 120000)]


async def test_bad_confirm_bodies_are_400(client):
    token = await client.token()
    for body in ({}, {"payment_key": "k", "order_id": "short", "amount": 1},
                 {"payment_key": "k", "order_id": "tb-" + "x" * 70, "amount": 1},
                 {"payment_key": "k", "order_id": "tb-ok-order", "amount": -5},
                 {"payment_key": "k", "order_id": "tb-ok-order", "amount": "100"}):
        reply = await client.post("/api/payments/confirm", token=token, json=body)
        assert reply.status == 400 and reply.error_code() == "invalid_request", body
    assert (await client.post("/api/payments/confirm", json={"payment_key": "k", "order_id": "tb-ok-order",
                                                              "amount": 1})).status == 401


async def test_after_a_lost_answer_the_next_confirm_settles_it_charging_once(client, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Stall(seconds=3 * TOSS_TIMEOUT), Stall(seconds=3 * TOSS_TIMEOUT))
    payment_key, lost = await pay(client, token, reservation)
    assert lost.status == 502
    retried = await client.post("/api/payments/confirm", token=token, json={
        "payment_key": payment_key, "order_id": reservation["order_id"], "amount": reservation["amount"]})
    assert retried.status == 200 and retried.json["status"] == "confirmed"     # same Idempotency-Key
    # the stalled attempts land too, and change nothing
    await eventually(lambda: not sandbox.stalled, timeout=5)
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]


async def test_an_answer_lost_to_the_end_is_read_back(client, app, show, sandbox):
    """Every attempt is approved (or replayed) and its answer lost: the checkout asks the provider
    what became of the payment instead of guessing, and confirms."""
    token = await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Disconnect(), Disconnect())
    payment_key, confirmed = await pay(client, token, reservation)
    assert confirmed.status == 200 and confirmed.json["payment_key"] == payment_key
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]
    assert sandbox.pending_failures(reservation["order_id"]) == 0


async def test_still_processing_to_the_end_is_read_back(client, app, show, sandbox):
    """The first attempt is approved but its answer lost; the retry is told the request is still
    being processed: the payment read back says it is done."""
    token = await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Disconnect(), Refuse("IDEMPOTENT_REQUEST_PROCESSING"))
    _, confirmed = await pay(client, token, reservation)
    assert confirmed.status == 200 and confirmed.json["status"] == "confirmed"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]


async def test_a_payment_still_open_at_the_provider_is_left_for_later_and_said_so(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    # Stalled far longer than the client waits: the read-back comes while the provider still has it open.
    sandbox.fail_next(reservation["order_id"], Stall(seconds=20 * TOSS_TIMEOUT), Stall(seconds=20 * TOSS_TIMEOUT))
    _, unknown = await pay(client, token, reservation)
    assert unknown.status == 502 and "still processing" in unknown.json["error"]["message"]
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(payments.c.status))).scalars().all() == ["confirming"]
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "pending"


async def test_a_payment_declined_before_is_read_back_as_declined(client, app, show, sandbox):
    """Toss says ALREADY_PROCESSED_PAYMENT (an earlier attempt, whose answer never reached us, was
    declined): read back, the payment is ABORTED — the buyer is told the decline, the payment is failed."""
    token = await client.token()
    reservation = await reserve(client, show, token)
    payment_key, order_id = await checkout(client, reservation["amount"], reservation["order_id"])
    with pytest.raises(TossError):
        sandbox.confirm(payment_key, order_id, reservation["amount"], refuse_with="REJECT_CARD_PAYMENT")
    declined = await client.post("/api/payments/confirm", token=token, json={
        "payment_key": payment_key, "order_id": order_id, "amount": reservation["amount"]})
    assert declined.status == 402 and declined.error_code() == "payment_declined"
    assert declined.json["error"]["details"]["provider_code"] == "REJECT_CARD_PAYMENT"
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(payments.c.status))).scalars().all() == ["failed"]
    assert money(sandbox, order_id) == []


async def starts_in(app, round_id: int, delta: timedelta) -> None:
    """Move a round in time (the API refuses to move a round with reservations)."""
    async with app[DATABASE].begin() as conn:
        await conn.execute(rounds.update().where(rounds.c.id == round_id).values(starts_at=utcnow() + delta))


async def test_a_paid_reservation_cannot_be_canceled_once_its_round_has_started(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    assert (await pay(client, token, reservation))[1].status == 200
    await starts_in(app, show["round_id"], timedelta(seconds=-1))
    late = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert late.status == 409 and late.error_code() == "too_late"
    assert late.json["error"]["details"]["cutoff_minutes"] == 0
    assert datetime.fromisoformat(late.json["error"]["details"]["round_starts_at"]) <= datetime.now(timezone.utc)
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "confirmed"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]


@pytest.mark.parametrize("settings_overrides", [{**QUICK_TOSS_CLIENT, "refund_cutoff_minutes": 60}])
async def test_nor_within_the_refund_cut_off_before_it(client, app, show, sandbox):
    token = await client.token()
    paid = await reserve(client, show, token)
    assert (await pay(client, token, paid))[1].status == 200
    unpaid = (await hold_and_reserve(client, token, show["round_id"], show["seat_ids"][1:2])).json
    await starts_in(app, show["round_id"], timedelta(minutes=59))
    late = await client.post(f"/api/reservations/{paid['id']}/cancel", token=token)
    assert late.status == 409 and late.error_code() == "too_late"
    assert late.json["error"]["details"]["cutoff_minutes"] == 60 and "60 minutes" in late.json["error"]["message"]
    assert money(sandbox, paid["order_id"]) == [("approve", 120000)]
    # No money moved for a pending one: it can still be canceled, and its seat comes back.
    canceled = await client.post(f"/api/reservations/{unpaid['id']}/cancel", token=token)
    assert canceled.status == 200 and canceled.json["status"] == "canceled"
    await starts_in(app, show["round_id"], timedelta(minutes=61))
    in_time = await client.post(f"/api/reservations/{paid['id']}/cancel", token=token)
    assert in_time.status == 200 and in_time.json["status"] == "canceled"
    assert money(sandbox, paid["order_id"]) == [("approve", 120000), ("cancel", 120000)]


async def test_a_refund_whose_answer_is_lost_is_finished_by_the_expiry_pass(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    assert (await pay(client, token, reservation))[1].status == 200
    # Both attempts stall past the client's patience, and the read-back after them is refused too.
    sandbox.fail_next(reservation["order_id"], Stall(seconds=3 * TOSS_TIMEOUT), Stall(seconds=3 * TOSS_TIMEOUT),
                      Refuse("PROVIDER_ERROR"))
    lost = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert lost.status == 502 and lost.error_code() == "payment_provider_error"
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "confirmed"
    await eventually(lambda: not sandbox.stalled, timeout=5)      # the refund lands at the provider, late
    await app[SERVICES].checkout.expire_due()
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "canceled"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000), ("cancel", 120000)]
    assert ("payment.canceled", "sse") in await events_of(app, reservation["id"])


async def test_money_taken_after_its_reservation_was_canceled_is_given_back(client, app, show, sandbox):
    """The confirm's answer is lost; the buyer cancels while the provider still says IN_PROGRESS; then
    the stalled confirm is approved after all. The expiry pass finds the charge without a booking and
    refunds it."""
    token = await client.token()
    reservation = await reserve(client, show, token)
    sandbox.fail_next(reservation["order_id"], Stall(seconds=3 * TOSS_TIMEOUT), Stall(seconds=3 * TOSS_TIMEOUT))
    _, lost = await pay(client, token, reservation)
    assert lost.status == 502
    canceled = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert canceled.status == 200 and canceled.json["status"] == "canceled"
    await eventually(lambda: money(sandbox, reservation["order_id"]), timeout=5)   # approved, late
    await app[SERVICES].checkout.expire_due()
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000), ("cancel", 120000)]
    assert (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"] == "canceled"
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(payments.c.status))).scalars().all() == ["canceled"]
