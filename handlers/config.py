"""`GET /api/config`: what the browser pages need to know about this server's settings (public).

Only values that are safe to show anyone: the Toss *client* key is meant for browsers; the secret
key never leaves the server.
"""
from __future__ import annotations

from typing import Literal

import msgspec
from aiohttp import web

from handlers.routing import Api
from server.payments import hosts_sandbox
from server.wiring import SETTINGS

api = Api("config")


class PublicConfig(msgspec.Struct):
    payments: Literal["toss", "sandbox", "none"]
    toss_client_key: str | None
    hold_seconds: int
    max_seats_per_user: int
    payment_window_seconds: int
    timezone: str


@api.get("/api/config", response=PublicConfig)
async def public_config(request: web.Request) -> PublicConfig:
    """How the pages should behave: Toss payment widget (with its client key) or the built-in
    sandbox checkout, hold and payment time limits, and the time zone of show times."""
    settings = request.app[SETTINGS]
    if settings.toss_client_key:
        payments = "toss"
    elif hosts_sandbox(settings):
        payments = "sandbox"           # POST /sandbox/toss/checkout stands in for the widget
    else:
        payments = "none"              # no client key and no sandbox here: pages cannot take payments
    return PublicConfig(payments=payments, toss_client_key=settings.toss_client_key or None,
                        hold_seconds=settings.hold_seconds, max_seats_per_user=settings.max_seats_per_user,
                        payment_window_seconds=settings.payment_window_seconds, timezone=settings.timezone)
