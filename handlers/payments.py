"""Paying for a reservation: confirm the payment the buyer authorised in the Toss widget."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import USER, Api
from server.schemas.payments import PaymentConfirm, PaymentOut
from server.tokens import Principal
from server.wiring import SERVICES

api = Api("payments")


@api.post("/api/payments/confirm", body=PaymentConfirm, response=PaymentOut, auth=USER,
          errors=(402, 404, 409, 502))
async def confirm_payment(request: web.Request, body: PaymentConfirm, user: Principal) -> PaymentOut:
    """Confirm with the amount the server computed (400 `amount_mismatch` otherwise; nothing is
    charged). Idempotent: the same call again, or many at once, confirms once and answers alike.
    Another payment for a paid order is 409 `invalid_state` (refunded if it was charged). A provider
    failure leaves the reservation pending and says why (402 `payment_declined`, 502
    `payment_provider_error`, ...)."""
    return await request.app[SERVICES].checkout.confirm(user.user_id, body)
