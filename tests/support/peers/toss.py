"""The buyer's side of a Toss payment in sandbox mode, through the public API, and what the sandbox's
ledger says moved.

In production the Toss widget authenticates the buyer and hands the page a paymentKey; in
sandbox mode `POST /sandbox/toss/checkout` does that. Then the server confirms it with Toss.
"""
from __future__ import annotations

import base64
import uuid

from server.payments.sandbox import TossSandbox
from tests.support.api import ApiClient

TOSS_V1 = "/sandbox/toss/v1/payments"        # the sandbox's Toss-shaped API, mounted on the server
# The server's Toss client as the payment tests set it: a short wait for each answer and one retry,
# so that a call the sandbox stalls is given up on quickly.
TOSS_TIMEOUT = 0.3
QUICK_TOSS_CLIENT = {"toss_timeout_seconds": TOSS_TIMEOUT, "toss_retries": 1, "toss_retry_backoff_seconds": 0.01}


def basic_auth(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def sandbox_auth(sandbox: TossSandbox | str) -> dict[str, str]:
    """The Authorization header of the server's own Toss client: the sandbox's secret key (random per
    start unless TICKETBLUE_TOSS_SANDBOX_KEY sets it)."""
    return basic_auth(f"{sandbox if isinstance(sandbox, str) else sandbox.secret_key}:")


def new_order_id() -> str:
    return f"order-{uuid.uuid4().hex[:16]}"


async def checkout(client: ApiClient, amount: int = 15000, order_id: str | None = None) -> tuple[str, str]:
    """Pay in the (sandbox) widget: returns (payment_key, order_id), waiting to be confirmed."""
    order_id = order_id or new_order_id()
    reply = await client.post("/sandbox/toss/checkout", json={"order_id": order_id, "amount": amount})
    assert reply.status == 200, reply.json
    return reply.json["payment_key"], order_id


def money(sandbox: TossSandbox, order_id: str) -> list[tuple[str, int]]:
    """The money the sandbox moved for an order, in order: ("approve" or "cancel", amount)."""
    return [(m.kind, m.amount) for m in sandbox.ledger if m.order_id == order_id]
