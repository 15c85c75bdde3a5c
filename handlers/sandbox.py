"""The built-in Toss sandbox's own endpoints (sandbox mode only; 404 when the server uses Toss).

`POST /sandbox/toss/checkout` stands in for the Toss payment widget (open to the pages, as the widget
is); `POST /sandbox/toss/failures` scripts failures for tests and demos, only when
TICKETBLUE_TOSS_SANDBOX_FAULTS is on (else anyone with an order id could break a stranger's payment).
Next to them, the sandbox's Toss-shaped API is mounted under /sandbox/toss/v1, for clients with the
sandbox's secret key (see server/payments/sandbox_http.py).
"""
from __future__ import annotations

from aiohttp import web

from handlers.routing import Api
from server.errors import NotFound
from server.payments import hosts_sandbox
from server.payments.sandbox import CheckoutIn, CheckoutOut, FailuresIn, TossSandbox
from server.payments.sandbox_http import add_routes
from server.wiring import SETTINGS, TOSS_SANDBOX

api = Api("sandbox")


def setup(app: web.Application) -> None:
    if hosts_sandbox(app[SETTINGS]):
        add_routes(app.router)


def _sandbox(request: web.Request) -> TossSandbox:
    sandbox = request.app.get(TOSS_SANDBOX)
    if sandbox is None:
        raise NotFound("The Toss sandbox is off: this server uses Toss Payments.")
    return sandbox


@api.post("/sandbox/toss/checkout", body=CheckoutIn, response=CheckoutOut, errors=(404,))
async def checkout(request: web.Request, body: CheckoutIn) -> CheckoutOut:
    """Sandbox stand-in for the Toss payment widget: a payment_key to confirm for this order and amount."""
    return CheckoutOut(payment_key=_sandbox(request).checkout(body.order_id, body.amount))


@api.post("/sandbox/toss/failures", body=FailuresIn, status=204, errors=(404,))
async def script_failures(request: web.Request, body: FailuresIn) -> None:
    """Sandbox with TICKETBLUE_TOSS_SANDBOX_FAULTS only (else 404): make the next Toss calls about an order
    fail (error code, timeout, disconnect), in order."""
    sandbox = _sandbox(request)
    if not request.app[SETTINGS].toss_sandbox_faults:
        raise NotFound("Scripted failures are off (TICKETBLUE_TOSS_SANDBOX_FAULTS).")
    sandbox.fail_next(body.order_id, *body.failures)
