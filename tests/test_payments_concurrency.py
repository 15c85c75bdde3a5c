"""The money rules under concurrency, one rule per test: real parallel HTTP calls against the app,
whose sandbox takes 100-300 ms per call and answers as Toss does (409 IDEMPOTENT_REQUEST_PROCESSING
while the first request with a key is in flight, then that request's answer)."""
from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from server.db.tables import payments
from server.wiring import DATABASE
from tests.support.api import eventually
from tests.support.factories import reserve
from tests.support.peers.toss import checkout, money


@pytest.fixture
def settings_overrides() -> dict:
    # Retries outlast a twin's call in flight (0.2 + 0.4 + 0.8 s of backoff against 0.3 s at most).
    return {"toss_sandbox_min_latency_seconds": 0.1, "toss_sandbox_max_latency_seconds": 0.3,
            "toss_timeout_seconds": 5, "toss_retries": 3, "toss_retry_backoff_seconds": 0.2}


def confirm(client, token, reservation, payment_key):
    return client.post("/api/payments/confirm", token=token, json={
        "payment_key": payment_key, "order_id": reservation["order_id"], "amount": reservation["amount"]})


async def payment_rows(app) -> dict[str, str]:
    async with app[DATABASE].read_own_writes() as conn:
        return dict((await conn.execute(sa.select(payments.c.payment_key, payments.c.status))).all())


async def status_of(client, token, reservation) -> str:
    return (await client.get(f"/api/reservations/{reservation['id']}", token=token)).json["status"]


async def test_identical_confirms_at_once_confirm_once_and_all_answer_the_confirmation(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    payment_key, _ = await checkout(client, reservation["amount"], reservation["order_id"])
    answers = await asyncio.gather(*(confirm(client, token, reservation, payment_key) for _ in range(8)))
    assert [a.status for a in answers] == [200] * 8, [a.json for a in answers]
    assert all(a.json == answers[0].json for a in answers) and answers[0].json["payment_key"] == payment_key
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]        # never refunded
    assert await status_of(client, token, reservation) == "confirmed"
    assert await payment_rows(app) == {payment_key: "approved"}


async def two_payments_at_once(client, show):
    """One order paid twice at once (the widget opened twice); returns who won and who lost."""
    token = await client.token()
    reservation = await reserve(client, show, token)
    keys = [(await checkout(client, reservation["amount"], reservation["order_id"]))[0] for _ in range(2)]
    answers = dict(zip(keys, await asyncio.gather(*(confirm(client, token, reservation, k) for k in keys))))
    assert sorted(a.status for a in answers.values()) == [200, 409], [a.json for a in answers.values()]
    kept = next(k for k, a in answers.items() if a.status == 200)
    other = next(k for k in keys if k != kept)
    return token, reservation, kept, other, answers[other]


async def test_a_second_payment_the_provider_charged_is_refunded_and_refused(client, app, show, sandbox):
    """A provider that approves two payments of one order (Toss would say DUPLICATED_ORDER_ID; this
    one does not): the reservation keeps one, the other is refunded and answered 409."""
    sandbox.one_approval_per_order = False
    token, reservation, kept, other, refused = await two_payments_at_once(client, show)
    assert refused.error_code() == "invalid_state" and refused.json["error"]["details"]["refunded"] is True
    charged = {(m.kind, m.payment_key) for m in sandbox.ledger}
    assert charged == {("approve", kept), ("approve", other), ("cancel", other)}
    assert await status_of(client, token, reservation) == "confirmed"
    assert (await confirm(client, token, reservation, kept)).json["payment_key"] == kept
    # A third payment for the paid order is not even sent to the provider.
    third, _ = await checkout(client, reservation["amount"], reservation["order_id"])
    again = await confirm(client, token, reservation, third)
    assert again.status == 409 and again.json["error"]["details"] == {"status": "confirmed", "refunded": False}
    assert not [m for m in sandbox.ledger if m.payment_key == third]


async def test_a_second_payment_toss_refuses_is_never_charged_and_ends_failed(client, app, show, sandbox):
    _, reservation, kept, other, refused = await two_payments_at_once(client, show)
    assert refused.error_code() == "payment_already_processed"
    assert refused.json["error"]["details"]["provider_code"] == "DUPLICATED_ORDER_ID"
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000)]
    assert await payment_rows(app) == {kept: "approved", other: "failed"}


async def test_a_cancel_while_the_confirm_is_at_the_provider_ends_canceled_with_the_money_back(
        client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    payment_key, _ = await checkout(client, reservation["amount"], reservation["order_id"])
    confirming = asyncio.create_task(confirm(client, token, reservation, payment_key))
    await eventually(lambda: sandbox.in_flight, timeout=5)             # the confirm has reached the provider
    canceled = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    confirmed = await confirming
    assert canceled.status == 200 and canceled.json["status"] == "canceled"
    assert await status_of(client, token, reservation) == "canceled"
    [paid] = sandbox.payments_of(reservation["order_id"])
    assert paid.balance_amount == 0 or paid.status != "DONE"            # no money kept
    if confirmed.status == 200:          # confirmed before the cancel refunded it
        assert confirmed.json["payment_key"] == payment_key and paid.status == "CANCELED"
    else:
        assert confirmed.status == 409 and confirmed.error_code() == "invalid_state", confirmed.json
    assert money(sandbox, reservation["order_id"]) in ([], [("approve", 120000), ("cancel", 120000)])


async def test_cancels_at_once_send_one_refund_and_all_answer_canceled(client, app, show, sandbox):
    token = await client.token()
    reservation = await reserve(client, show, token)
    payment_key, _ = await checkout(client, reservation["amount"], reservation["order_id"])
    assert (await confirm(client, token, reservation, payment_key)).status == 200
    answers = await asyncio.gather(*(client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
                                     for _ in range(4)))
    assert [a.status for a in answers] == [200] * 4, [a.json for a in answers]
    assert {a.json["status"] for a in answers} == {"canceled"}
    refund_keys = {c.idempotency_key for c in sandbox.calls if c.path.endswith(f"/{payment_key}/cancel")}
    assert len(refund_keys) == 1                                   # one refund request, however often sent
    assert money(sandbox, reservation["order_id"]) == [("approve", 120000), ("cancel", 120000)]
    assert await payment_rows(app) == {payment_key: "canceled"}
