"""The sandbox over HTTP, shaped like Toss's v1 API, and the loopback listener its client uses.

Routes, under a prefix (/sandbox/toss on the server and on the loopback listener alike):
    POST /v1/payments/confirm                 {paymentKey, orderId, amount}
    POST /v1/payments/{paymentKey}/cancel     {cancelReason, cancelAmount?}
    GET  /v1/payments/{paymentKey}
    GET  /v1/payments/orders/{orderId}
Errors are Toss's {"code", "message"} with Toss's statuses, never our {"error": ...}: this is
Toss's contract, and the Toss client must not be able to tell the two apart.

Why a listener of its own: the client needs the sandbox's URL when the server starts, and the
server's own address is not known then (port 0, test servers, 0.0.0.0, a proxy in front). So the
sandbox also listens on 127.0.0.1 at a free port for the client, while the mount under
/sandbox/toss on the server serves the same sandbox to other instances that have its secret key.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import secrets
from typing import Annotated, AsyncIterator, Callable

import msgspec
from aiohttp import web

from server.payments.sandbox import Call, Disconnect, Refuse, Stall, TossError, TossSandbox
from server.payments.toss import TossPayment

PREFIX = "/sandbox/toss"
# The sandbox its routes serve: on the server (when it hosts the sandbox) and on the loopback listener.
SANDBOX = web.AppKey("toss_sandbox", TossSandbox)
TEST_CODE_HEADER = "TossPayments-Test-Code"       # Toss's header for reproducing an error code


class _Confirm(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    payment_key: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    order_id: Annotated[str, msgspec.Meta(min_length=6, max_length=64)]
    amount: int


class _Cancel(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    cancel_reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    cancel_amount: Annotated[int, msgspec.Meta(gt=0)] | None = None


def add_routes(router: web.UrlDispatcher, prefix: str = PREFIX) -> None:
    router.add_post(f"{prefix}/v1/payments/confirm", _confirm)
    router.add_post(f"{prefix}/v1/payments/{{payment_key}}/cancel", _cancel)
    router.add_get(f"{prefix}/v1/payments/orders/{{order_id}}", _get_by_order_id)
    router.add_get(f"{prefix}/v1/payments/{{payment_key}}", _get)


async def _confirm(request: web.Request) -> web.Response:
    return await _serve(request, _Confirm, lambda sandbox, body: body.order_id,
                        lambda sandbox, body, refuse: sandbox.confirm(
                            body.payment_key, body.order_id, body.amount, refuse_with=refuse))


async def _cancel(request: web.Request) -> web.Response:
    key = request.match_info["payment_key"]
    return await _serve(request, _Cancel, lambda sandbox, body: sandbox.order_of(key),
                        lambda sandbox, body, refuse: sandbox.cancel(
                            key, body.cancel_reason, body.cancel_amount, refuse_with=refuse))


async def _get(request: web.Request) -> web.Response:
    key = request.match_info["payment_key"]
    return await _serve(request, None, lambda sandbox, body: sandbox.order_of(key),
                        lambda sandbox, body, refuse: sandbox.get(key))


async def _get_by_order_id(request: web.Request) -> web.Response:
    order_id = request.match_info["order_id"]
    return await _serve(request, None, lambda sandbox, body: order_id,
                        lambda sandbox, body, refuse: sandbox.get_by_order_id(order_id))


async def _serve(request: web.Request, body_type: type | None,
                 order_of: Callable[[TossSandbox, object], str | None],
                 operation: Callable[[TossSandbox, object, str | None], TossPayment]) -> web.Response:
    """Authenticate and decode as Toss does, apply the order's next scripted failure, then answer
    (POSTs through the Idempotency-Key store)."""
    sandbox = request.app[SANDBOX]
    sandbox.calls.append(Call(request.method, request.path, request.headers.get("Idempotency-Key")))
    try:
        _authenticate(request.headers.get("Authorization", ""), sandbox.secret_key)
        body = _decode(await request.read(), body_type) if body_type is not None else None
    except TossError as error:
        return _json(error.status, error.body())
    failure = sandbox.next_failure(order_of(sandbox, body))
    if isinstance(failure, Stall):
        sandbox.stalled += 1                          # tests wait for these to land
        try:
            with contextlib.suppress(TimeoutError):   # the caller gives up meanwhile; we carry on
                async with asyncio.timeout(failure.seconds):
                    await sandbox.closing.wait()
        finally:
            sandbox.stalled -= 1
    refuse = failure.code if isinstance(failure, Refuse) else request.headers.get(TEST_CODE_HEADER)
    if refuse and (request.method != "POST" or TossError(refuse).transient):
        # Nothing happens (a read refused, or a passing failure: PROVIDER_ERROR, 5xx, still processing),
        # whatever the Idempotency-Key has seen before.
        status, answer = await sandbox.refusal(refuse)
    elif request.method == "POST":
        status, answer = await sandbox.remembered(request.headers.get("Idempotency-Key"), request.path,
                                                  msgspec.json.encode(body), lambda: operation(sandbox, body, refuse))
    else:
        status, answer = await sandbox.answer(lambda: operation(sandbox, body, None))
    if isinstance(failure, Disconnect) and request.transport is not None:
        request.transport.close()                       # done, but the answer never arrives
    return _json(status, answer)


def _authenticate(header: str, expected_key: str) -> None:
    """Basic auth with the secret key as user name and an empty password, like Toss."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        raise TossError("UNAUTHORIZED_KEY")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise TossError("UNAUTHORIZED_KEY") from None
    secret_key, colon, _ = decoded.partition(":")
    if not colon:
        raise TossError("INCORRECT_BASIC_AUTH_FORMAT")
    if not secrets.compare_digest(secret_key.encode(), expected_key.encode()):
        raise TossError("UNAUTHORIZED_KEY")


def _decode(raw: bytes, body_type: type):
    try:
        return msgspec.json.decode(raw, type=body_type)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise TossError("INVALID_REQUEST", f"잘못된 요청입니다. ({exc})") from None


def _json(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


@contextlib.asynccontextmanager
async def serve_on_loopback(sandbox: TossSandbox) -> AsyncIterator[str]:
    """Serve the sandbox's Toss API on 127.0.0.1 at a free port; yields the client's base URL."""
    app = web.Application()
    app[SANDBOX] = sandbox
    add_routes(app.router)
    # Only scripted stalls can still be running at shutdown (the server's own handlers, the only
    # callers, have finished by then), so there is nothing worth waiting long for.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}{PREFIX}"
    finally:
        sandbox.close()
        await runner.cleanup()
