"""The Toss Payments client against the built-in sandbox, over real HTTP, in the real application.

The client is the one the app builds from its settings (app[TOSS]); the sandbox is the one the
app hosts (app[TOSS_SANDBOX]), whose ledger shows how often money actually moved.
"""
from __future__ import annotations

import asyncio

import msgspec
import pytest

from server.app import create_app
from server.payments.sandbox import Disconnect, Refuse, Stall, TossError
from server.payments.toss import (PaymentAlreadyProcessed, PaymentBelowMinimum, PaymentDeclined, PaymentInvalid,
                                  PaymentNotCancelable, PaymentNotFound, PaymentProviderError, PaymentStatus,
                                  TossPayments)
from server.wiring import HTTP, TOSS, TOSS_SANDBOX
from tests.support.api import eventually
from tests.support.peers.toss import checkout, money

TIMEOUT, RETRIES = 0.4, 2
# The client never touches the database, so these tests run on SQLite only.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings_overrides() -> dict:
    # Small limits, so that a call that never gets an answer gives up within about a second.
    return {"toss_timeout_seconds": TIMEOUT, "toss_retries": RETRIES, "toss_retry_backoff_seconds": 0.01}


@pytest.fixture
def toss(client, app) -> TossPayments:
    return app[TOSS]


async def confirm(toss: TossPayments, payment_key: str, order_id: str, amount: int = 15000, key: str | None = None):
    key = toss.new_idempotency_key() if key is None else key
    return await toss.confirm(payment_key=payment_key, order_id=order_id, amount=amount, idempotency_key=key)


async def test_confirm_read_and_cancel(client, toss, sandbox):
    payment_key, order_id = await checkout(client, 15000)
    paid = await confirm(toss, payment_key, order_id, 15000, toss.new_idempotency_key())
    assert paid.status == PaymentStatus.DONE and paid.total_amount == paid.balance_amount == 15000
    assert paid.payment_key == payment_key and paid.order_id == order_id and paid.approved_at is not None
    assert await toss.get(payment_key) == paid
    assert await toss.get_by_order_id(order_id) == paid

    canceled = await toss.cancel(payment_key, reason="changed my mind", idempotency_key=toss.new_idempotency_key())
    assert canceled.status == PaymentStatus.CANCELED and canceled.balance_amount == 0
    assert [(c.cancel_amount, c.cancel_reason) for c in canceled.cancels] == [(15000, "changed my mind")]
    assert money(sandbox, order_id) == [("approve", 15000), ("cancel", 15000)]


async def test_partial_cancels_up_to_the_balance(client, toss, sandbox):
    payment_key, order_id = await checkout(client, 15000)
    await confirm(toss, payment_key, order_id)
    part = await toss.cancel(payment_key, reason="one seat", amount=5000, idempotency_key="c1")
    assert part.status == PaymentStatus.PARTIAL_CANCELED and part.balance_amount == 10000
    with pytest.raises(PaymentNotCancelable) as too_much:
        await toss.cancel(payment_key, reason="too much", amount=20000, idempotency_key="c2")
    assert too_much.value.provider_code == "NOT_CANCELABLE_AMOUNT" and too_much.value.status == 409
    rest = await toss.cancel(payment_key, reason="the rest", idempotency_key="c3")
    assert rest.status == PaymentStatus.CANCELED and rest.balance_amount == 0 and len(rest.cancels) == 2
    with pytest.raises(PaymentAlreadyProcessed) as again:
        await toss.cancel(payment_key, reason="again", idempotency_key="c4")
    assert again.value.provider_code == "ALREADY_CANCELED_PAYMENT"
    assert money(sandbox, order_id) == [("approve", 15000), ("cancel", 5000), ("cancel", 10000)]


async def test_a_repeated_confirm_with_the_same_key_charges_once(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    key = toss.new_idempotency_key()
    first = await confirm(toss, payment_key, order_id, key=key)
    assert await confirm(toss, payment_key, order_id, key=key) == first
    assert money(sandbox, order_id) == [("approve", 15000)]
    # Another key is another request: Toss refuses to approve the payment a second time.
    with pytest.raises(PaymentAlreadyProcessed) as twice:
        await confirm(toss, payment_key, order_id, key=toss.new_idempotency_key())
    assert twice.value.provider_code == "ALREADY_PROCESSED_PAYMENT"
    assert twice.value.body()["error"]["code"] == "payment_already_processed"


async def test_a_repeated_partial_cancel_with_the_same_key_refunds_once(client, toss, sandbox):
    payment_key, order_id = await checkout(client, 15000)
    await confirm(toss, payment_key, order_id)
    first = await toss.cancel(payment_key, reason="one seat", amount=5000, idempotency_key="cancel-1")
    again = await toss.cancel(payment_key, reason="one seat", amount=5000, idempotency_key="cancel-1")
    assert again == first and again.balance_amount == 10000
    assert money(sandbox, order_id) == [("approve", 15000), ("cancel", 5000)]


async def test_a_key_reused_for_another_payment_is_refused(client, toss, sandbox):
    first_key, first_order = await checkout(client)
    second_key, second_order = await checkout(client)
    await confirm(toss, first_key, first_order, key="same-key")
    with pytest.raises(PaymentProviderError) as reused:
        await confirm(toss, second_key, second_order, key="same-key")
    assert reused.value.provider_code == "IDEMPOTENCY_KEY_REUSED" and not reused.value.outcome_unknown
    assert money(sandbox, second_order) == []


# Toss's error codes by what they become: our exception, and its status and code in our API.
TOSS_ERRORS = {
    (PaymentDeclined, 402, "payment_declined"): ["REJECT_CARD_PAYMENT", "INVALID_CARD_EXPIRATION",
                                                 "EXCEED_MAX_DAILY_PAYMENT_COUNT"],
    (PaymentBelowMinimum, 400, "amount_below_minimum"): ["BELOW_MINIMUM_AMOUNT"],
    (PaymentInvalid, 400, "payment_invalid"): ["INVALID_REQUEST"],
    (PaymentNotFound, 404, "payment_not_found"): ["NOT_FOUND_PAYMENT_SESSION"],
    (PaymentAlreadyProcessed, 409, "payment_already_processed"): ["ALREADY_PROCESSED_PAYMENT"],
    (PaymentNotCancelable, 409, "payment_not_cancelable"): ["NOT_CANCELABLE_PAYMENT"],
    (PaymentProviderError, 502, "payment_provider_error"): ["PROVIDER_ERROR", "UNAUTHORIZED_KEY",
                                                            "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
                                                            "A_CODE_TOSS_ADDS_LATER"],
}


@pytest.mark.parametrize("code, error, status, api_code",
                         [(code, *answer) for answer, codes in TOSS_ERRORS.items() for code in codes])
async def test_toss_error_codes_become_api_errors(client, toss, sandbox, code, error, status, api_code):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Refuse(code))
    with pytest.raises(error) as caught:
        await confirm(toss, payment_key, order_id)
    assert type(caught.value) is error
    assert caught.value.body() == {"error": {"code": api_code, "message": TossError(code).message,
                                             "details": {"provider_code": code}}}
    assert caught.value.status == status
    assert money(sandbox, order_id) == []


async def test_a_5xx_leaves_the_outcome_unknown_a_4xx_does_not(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Refuse("FAILED_INTERNAL_SYSTEM_PROCESSING"), Refuse("PROVIDER_ERROR"))
    with pytest.raises(PaymentProviderError) as server_error:
        await confirm(toss, payment_key, order_id, key="k")
    with pytest.raises(PaymentProviderError) as provider_error:
        await confirm(toss, payment_key, order_id, key="k")
    assert server_error.value.outcome_unknown and not provider_error.value.outcome_unknown


async def test_the_100_krw_minimum(client, toss, sandbox):
    small_key, small_order = await checkout(client, 99)
    with pytest.raises(PaymentBelowMinimum) as caught:
        await confirm(toss, small_key, small_order, 99)
    assert caught.value.provider_code == "BELOW_MINIMUM_AMOUNT" and money(sandbox, small_order) == []
    payment_key, order_id = await checkout(client, 100)
    assert (await confirm(toss, payment_key, order_id, 100)).status == PaymentStatus.DONE


async def test_unknown_payments_and_a_wrong_amount(client, toss, sandbox):
    with pytest.raises(PaymentNotFound) as no_session:
        await confirm(toss, "tsb_made_up", "order-made-up")
    assert no_session.value.provider_code == "NOT_FOUND_PAYMENT_SESSION"
    with pytest.raises(PaymentNotFound) as no_payment:
        await toss.get("tsb_made_up")
    assert no_payment.value.provider_code == "NOT_FOUND_PAYMENT"

    payment_key, order_id = await checkout(client, 15000)
    with pytest.raises(PaymentInvalid):
        await confirm(toss, payment_key, order_id, 14000, key="wrong-amount")
    assert money(sandbox, order_id) == []
    assert (await confirm(toss, payment_key, order_id, 15000, key="right-amount")).status == PaymentStatus.DONE


async def test_a_decline_ends_the_payment_and_is_remembered_under_its_key(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Refuse("REJECT_CARD_PAYMENT"))
    with pytest.raises(PaymentDeclined) as declined:
        await confirm(toss, payment_key, order_id, key="attempt")
    assert declined.value.message == "한도초과 혹은 잔액부족으로 결제에 실패했습니다."
    aborted = await toss.get(payment_key)
    assert aborted.status == PaymentStatus.ABORTED and aborted.failure.code == "REJECT_CARD_PAYMENT"
    with pytest.raises(PaymentDeclined):            # the same key replays the same answer
        await confirm(toss, payment_key, order_id, key="attempt")
    assert money(sandbox, order_id) == []


async def test_an_error_answer_is_not_retried(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Refuse("PROVIDER_ERROR"), Refuse("PROVIDER_ERROR"))
    with pytest.raises(PaymentProviderError):
        await confirm(toss, payment_key, order_id, key="k")
    assert sandbox.pending_failures(order_id) == 1          # one attempt, not three
    with pytest.raises(PaymentProviderError):
        await confirm(toss, payment_key, order_id, key="k")
    # Nothing happened on Toss's side, so the same key later goes through.
    assert (await confirm(toss, payment_key, order_id, key="k")).status == PaymentStatus.DONE


async def test_no_answer_is_retried_a_bounded_number_of_times_then_reconciled(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    attempts = 1 + RETRIES
    sandbox.fail_next(order_id, *[Stall(seconds=2 * TIMEOUT)] * attempts)
    async with asyncio.timeout(5):                       # bounded: it gives up, it does not hang
        with pytest.raises(PaymentProviderError) as caught:
            await confirm(toss, payment_key, order_id, key="slow")
    assert caught.value.outcome_unknown and caught.value.details == {"attempts": attempts}
    assert caught.value.status == 502 and caught.value.code == "payment_provider_error"
    assert sandbox.pending_failures(order_id) == 0       # every attempt reached Toss; no extra one
    # The requests were handled late, after the client gave up: reading the order back tells.
    async def done() -> bool:
        return (await toss.get_by_order_id(order_id)).status == PaymentStatus.DONE
    await eventually(done, timeout=5)
    await eventually(lambda: not sandbox.stalled, timeout=5)   # every stalled attempt has been handled
    assert money(sandbox, order_id) == [("approve", 15000)]


async def test_a_retry_after_a_timeout_succeeds_with_the_same_key(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Stall(seconds=2 * TIMEOUT))
    paid = await confirm(toss, payment_key, order_id, key="once")
    assert paid.status == PaymentStatus.DONE and money(sandbox, order_id) == [("approve", 15000)]


async def test_a_lost_answer_is_replayed_on_retry_and_charged_once(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Disconnect())          # approved, then the connection drops
    paid = await confirm(toss, payment_key, order_id, key="once")
    assert paid.status == PaymentStatus.DONE and sandbox.pending_failures(order_id) == 0
    assert money(sandbox, order_id) == [("approve", 15000)]


async def test_a_request_still_processing_is_asked_again(client, toss, sandbox):
    payment_key, order_id = await checkout(client)
    sandbox.fail_next(order_id, Refuse("IDEMPOTENT_REQUEST_PROCESSING"))
    assert (await confirm(toss, payment_key, order_id)).status == PaymentStatus.DONE


async def test_a_wrong_secret_key_is_the_providers_error(client, app):
    wrong = TossPayments(app[HTTP], base_url=app[TOSS].base_url, secret_key="test_sk_someone_else",
                         timeout_seconds=TIMEOUT, retries=0, backoff_seconds=0)
    with pytest.raises(PaymentProviderError) as caught:
        await wrong.get_by_order_id("order-123456")
    assert caught.value.provider_code == "UNAUTHORIZED_KEY" and not caught.value.outcome_unknown


async def test_an_idempotency_key_is_required(client, toss):
    payment_key, order_id = await checkout(client)
    with pytest.raises(ValueError):
        await confirm(toss, payment_key, order_id, key="")


async def test_unreachable_toss_fails_fast_with_a_provider_error(aiohttp_client, settings, unused_tcp_port):
    dead = f"http://127.0.0.1:{unused_tcp_port}"
    app = create_app(msgspec.structs.replace(settings, toss_secret_key="test_sk_real", toss_api_url=dead))
    await aiohttp_client(app)
    assert app[TOSS].base_url == dead and TOSS_SANDBOX not in app
    async with asyncio.timeout(5):
        with pytest.raises(PaymentProviderError) as caught:
            await app[TOSS].confirm(payment_key="p", order_id="order-123456", amount=1000, idempotency_key="k")
    assert caught.value.outcome_unknown and caught.value.details == {"attempts": 1 + RETRIES}
