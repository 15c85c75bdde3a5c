"""The built-in Toss sandbox's HTTP contract, on the server itself: our checkout and failure
endpoints (our error shape) and the Toss-shaped v1 API under /sandbox/toss (Toss's shape)."""
from __future__ import annotations

import asyncio

import msgspec
import pytest

from server.app import create_app
from server.wiring import TOSS, TOSS_SANDBOX
from tests.support.api import ApiClient
from tests.support.peers.toss import TOSS_V1, basic_auth, checkout, sandbox_auth


KEY = "test_sk_configured_for_these_tests"
SANDBOX_AUTH = sandbox_auth(KEY)


@pytest.fixture
def settings_overrides() -> dict:
    return {"toss_sandbox_key": KEY, "toss_sandbox_faults": True}


async def confirm(client: ApiClient, payment_key: str, order_id: str, amount: int = 15000, key: str | None = None):
    headers = {**SANDBOX_AUTH, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"{TOSS_V1}/confirm", headers=headers,
                             json={"paymentKey": payment_key, "orderId": order_id, "amount": amount})


def toss_error(reply) -> str:
    """The code of an error answered in Toss's shape, which has exactly `code` and `message`."""
    assert set(reply.json) == {"code", "message"} and reply.json["message"], reply.json
    return reply.json["code"]


async def test_checkout_then_confirm_and_read_in_tosss_shape(client):
    payment_key, order_id = await checkout(client, 15000)
    paid = await confirm(client, payment_key, order_id, 15000, key="k1")
    assert paid.status == 200
    assert {k: paid.json[k] for k in ("paymentKey", "orderId", "status", "totalAmount", "balanceAmount", "method")} \
        == {"paymentKey": payment_key, "orderId": order_id, "status": "DONE", "totalAmount": 15000,
            "balanceAmount": 15000, "method": "카드"}
    assert paid.json["approvedAt"].endswith("+09:00")
    assert (await client.get(f"{TOSS_V1}/{payment_key}", headers=SANDBOX_AUTH)).json == paid.json
    assert (await client.get(f"{TOSS_V1}/orders/{order_id}", headers=SANDBOX_AUTH)).json == paid.json


@pytest.mark.parametrize("body, field", [
    ({"amount": 1000}, "order_id"),
    ({"order_id": "order-123456", "amount": 0}, "amount"),
    ({"order_id": "no spaces!", "amount": 1000}, "order_id"),
    ({"order_id": "order-123456", "amount": 1000, "currency": "USD"}, "currency"),
])
async def test_checkout_rejects_bad_input_in_our_error_shape(client, body, field):
    reply = await client.post("/sandbox/toss/checkout", json=body)
    assert reply.status == 400 and reply.error_code() == "invalid_request"
    assert reply.json["error"]["details"]["fields"] == [field]


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "UNAUTHORIZED_KEY"),
    (basic_auth("test_sk_someone_else:"), 401, "UNAUTHORIZED_KEY"),
    ({"Authorization": f"Bearer {KEY}"}, 401, "UNAUTHORIZED_KEY"),
    (basic_auth("test_sk_sandbox:"), 401, "UNAUTHORIZED_KEY"),                 # the key it used to accept
    ({"Authorization": "Basic not-base64!"}, 401, "UNAUTHORIZED_KEY"),
    (basic_auth(KEY), 403, "INCORRECT_BASIC_AUTH_FORMAT"),     # the colon is missing
])
async def test_the_toss_api_needs_the_sandbox_secret_key(client, headers, status, code):
    payment_key, order_id = await checkout(client)
    for reply in (await client.get(f"{TOSS_V1}/orders/{order_id}", headers=headers),
                  await client.post(f"{TOSS_V1}/confirm", headers=headers,
                                    json={"paymentKey": payment_key, "orderId": order_id, "amount": 15000})):
        assert reply.status == status and toss_error(reply) == code
    assert (await client.get(f"{TOSS_V1}/{payment_key}", headers=SANDBOX_AUTH)).json["status"] == "IN_PROGRESS"


async def test_idempotency_keys_over_http(client):
    payment_key, order_id = await checkout(client)
    first = await confirm(client, payment_key, order_id, key="key-1")
    again = await confirm(client, payment_key, order_id, key="key-1")
    assert first.status == again.status == 200 and again.json == first.json
    no_key = await confirm(client, payment_key, order_id)
    assert no_key.status == 400 and toss_error(no_key) == "ALREADY_PROCESSED_PAYMENT"

    other_key, other_order = await checkout(client)
    reused = await confirm(client, other_key, other_order, key="key-1")
    assert reused.status == 422 and toss_error(reused) == "IDEMPOTENCY_KEY_REUSED"
    too_long = await confirm(client, other_key, other_order, key="k" * 301)
    assert too_long.status == 400 and toss_error(too_long) == "INVALID_IDEMPOTENCY_KEY"
    # A key is scoped by URL, as at Toss: the same key on the cancel URL is a new request.
    cancel = await client.post(f"{TOSS_V1}/{payment_key}/cancel", headers={**SANDBOX_AUTH, "Idempotency-Key": "key-1"},
                               json={"cancelReason": "test"})
    assert cancel.status == 200 and cancel.json["status"] == "CANCELED"


async def test_confirm_rules(client):
    payment_key, order_id = await checkout(client, 15000)
    unknown = await confirm(client, "tsb_made_up", order_id)
    other_order = await confirm(client, payment_key, "order-someone-else")
    wrong_amount = await confirm(client, payment_key, order_id, 15001)
    assert (unknown.status, toss_error(unknown)) == (404, "NOT_FOUND_PAYMENT_SESSION")
    assert (other_order.status, toss_error(other_order)) == (404, "NOT_FOUND_PAYMENT_SESSION")
    assert (wrong_amount.status, toss_error(wrong_amount)) == (400, "INVALID_REQUEST")

    small_key, small_order = await checkout(client, 99)
    small = await confirm(client, small_key, small_order, 99)
    assert (small.status, toss_error(small)) == (400, "BELOW_MINIMUM_AMOUNT")

    assert (await confirm(client, payment_key, order_id)).status == 200
    second_key, _ = await checkout(client, 15000, order_id=order_id)      # the widget opened again
    duplicate = await confirm(client, second_key, order_id)
    assert (duplicate.status, toss_error(duplicate)) == (400, "DUPLICATED_ORDER_ID")


@pytest.mark.parametrize("body", [b"not json", b'{"paymentKey": "x", "orderId": "order-123456"}',
                                  b'{"paymentKey": "x", "orderId": "order-123456", "amount": "15000"}'])
async def test_malformed_bodies_are_tosss_invalid_request(client, body):
    reply = await client.post(f"{TOSS_V1}/confirm", data=body,
                              headers={**SANDBOX_AUTH, "Content-Type": "application/json"})
    assert reply.status == 400 and toss_error(reply) == "INVALID_REQUEST"


async def test_cancel_rules(client):
    payment_key, order_id = await checkout(client, 15000)
    cancel_url = f"{TOSS_V1}/{payment_key}/cancel"
    not_paid = await client.post(cancel_url, headers=SANDBOX_AUTH, json={"cancelReason": "x"})
    assert (not_paid.status, toss_error(not_paid)) == (403, "NOT_CANCELABLE_PAYMENT")
    await confirm(client, payment_key, order_id)
    part = await client.post(cancel_url, headers=SANDBOX_AUTH, json={"cancelReason": "one seat", "cancelAmount": 5000})
    assert part.status == 200 and part.json["status"] == "PARTIAL_CANCELED" and part.json["balanceAmount"] == 10000
    assert [c["cancelAmount"] for c in part.json["cancels"]] == [5000]
    too_much = await client.post(cancel_url, headers=SANDBOX_AUTH, json={"cancelReason": "x", "cancelAmount": 10001})
    assert (too_much.status, toss_error(too_much)) == (403, "NOT_CANCELABLE_AMOUNT")
    no_reason = await client.post(cancel_url, headers=SANDBOX_AUTH, json={})
    assert (no_reason.status, toss_error(no_reason)) == (400, "INVALID_REQUEST")
    unknown = await client.post(f"{TOSS_V1}/tsb_made_up/cancel", headers=SANDBOX_AUTH, json={"cancelReason": "x"})
    assert (unknown.status, toss_error(unknown)) == (404, "NOT_FOUND_PAYMENT")


async def test_tosss_test_code_header_reproduces_an_error(client):
    payment_key, order_id = await checkout(client)
    reply = await client.post(f"{TOSS_V1}/confirm", json={"paymentKey": payment_key, "orderId": order_id, "amount": 15000},
                              headers={**SANDBOX_AUTH, "TossPayments-Test-Code": "REJECT_CARD_PAYMENT"})
    assert reply.status == 403 and toss_error(reply) == "REJECT_CARD_PAYMENT"
    aborted = await client.get(f"{TOSS_V1}/{payment_key}", headers=SANDBOX_AUTH)
    assert aborted.json["status"] == "ABORTED" and aborted.json["failure"]["code"] == "REJECT_CARD_PAYMENT"


async def test_failures_are_scripted_over_http(client):
    payment_key, order_id = await checkout(client)
    scripted = await client.post("/sandbox/toss/failures", json={"order_id": order_id, "failures": [
        {"kind": "error", "code": "PROVIDER_ERROR"}, {"kind": "disconnect"}]})
    assert scripted.status == 204
    refused = await confirm(client, payment_key, order_id, key="k")
    assert (refused.status, toss_error(refused)) == (400, "PROVIDER_ERROR")
    with pytest.raises(Exception, match="disconnected"):          # approved, but the answer is lost
        await confirm(client, payment_key, order_id, key="k")
    replayed = await confirm(client, payment_key, order_id, key="k")
    assert replayed.status == 200 and replayed.json["status"] == "DONE"


@pytest.mark.parametrize("failures", [[], [{"kind": "explode"}], [{"kind": "error", "code": "lower_case"}],
                                      [{"kind": "timeout", "seconds": 0}]])
async def test_bad_failure_scripts_are_400(client, failures):
    reply = await client.post("/sandbox/toss/failures", json={"order_id": "order-123456", "failures": failures})
    assert reply.status == 400 and reply.error_code() == "invalid_request"


async def test_the_sandbox_endpoints_are_documented(client):
    paths = (await client.get("/openapi.json")).json["paths"]
    assert "post" in paths["/sandbox/toss/checkout"] and "post" in paths["/sandbox/toss/failures"]


async def test_with_a_toss_secret_key_there_is_no_sandbox(aiohttp_client, settings):
    app = create_app(msgspec.structs.replace(settings, toss_secret_key="test_sk_real"))
    client = ApiClient(await aiohttp_client(app))
    assert app[TOSS].base_url == "https://api.tosspayments.com" and TOSS_SANDBOX not in app
    reply = await client.post("/sandbox/toss/checkout", json={"order_id": "order-123456", "amount": 1000})
    assert reply.status == 404 and reply.error_code() == "not_found"
    toss_api = await client.get(f"{TOSS_V1}/orders/order-123456", headers=SANDBOX_AUTH)
    assert toss_api.status == 404 and toss_api.error_code() == "not_found"


async def test_without_a_configured_key_each_start_makes_its_own(aiohttp_client, settings):
    """The Toss API moves money and is mounted on the public port: only the server's own client, which
    alone knows the key made at start, may use it."""
    first, second = (create_app(msgspec.structs.replace(settings, toss_sandbox_key="")) for _ in range(2))
    clients = [ApiClient(await aiohttp_client(app)) for app in (first, second)]
    keys = {first[TOSS_SANDBOX].secret_key, second[TOSS_SANDBOX].secret_key}
    assert len(keys) == 2 and not keys & {KEY, "test_sk_sandbox"}
    payment_key, order_id = await checkout(clients[0])
    for auth in (SANDBOX_AUTH, basic_auth("test_sk_sandbox:"), sandbox_auth(second[TOSS_SANDBOX])):
        refused = await clients[0].get(f"{TOSS_V1}/{payment_key}", headers=auth)
        assert refused.status == 401 and toss_error(refused) == "UNAUTHORIZED_KEY"
    own = await clients[0].get(f"{TOSS_V1}/{payment_key}", headers=sandbox_auth(first[TOSS_SANDBOX]))
    assert own.status == 200 and own.json["orderId"] == order_id


async def test_scripted_failures_are_404_unless_turned_on(aiohttp_client, settings):
    app = create_app(msgspec.structs.replace(settings, toss_sandbox_faults=False))
    client = ApiClient(await aiohttp_client(app))
    payment_key, order_id = await checkout(client)              # the widget stand-in works for the page
    scripted = await client.post("/sandbox/toss/failures", json={"order_id": order_id, "failures": [
        {"kind": "error", "code": "REJECT_CARD_PAYMENT"}]})
    assert scripted.status == 404 and scripted.error_code() == "not_found"
    assert app[TOSS_SANDBOX].pending_failures(order_id) == 0
    paid = await client.post(f"{TOSS_V1}/confirm", headers=sandbox_auth(app[TOSS_SANDBOX]),
                             json={"paymentKey": payment_key, "orderId": order_id, "amount": 15000})
    assert paid.status == 200 and paid.json["status"] == "DONE"


async def test_a_key_still_in_flight_is_told_to_wait_then_replayed(aiohttp_client, settings):
    """Toss's rule for a repeated Idempotency-Key: 409 IDEMPOTENT_REQUEST_PROCESSING while the first
    request with it is being handled, the first answer once it is done. A sandbox call takes time
    (here 0.2 s), as Toss's do, so such requests really meet."""
    app = create_app(msgspec.structs.replace(settings, toss_sandbox_min_latency_seconds=0.2,
                                             toss_sandbox_max_latency_seconds=0.2))
    client = ApiClient(await aiohttp_client(app))
    payment_key, order_id = await checkout(client)
    first, second = await asyncio.gather(confirm(client, payment_key, order_id, key="twin"),
                                         confirm(client, payment_key, order_id, key="twin"))
    assert sorted([first.status, second.status]) == [200, 409]
    waiting = first if first.status == 409 else second
    assert toss_error(waiting) == "IDEMPOTENT_REQUEST_PROCESSING"
    done = second if waiting is first else first
    assert (await confirm(client, payment_key, order_id, key="twin")).json == done.json
    assert [m.kind for m in app[TOSS_SANDBOX].ledger] == ["approve"]
