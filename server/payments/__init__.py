"""Payments through Toss Payments: the client (toss.py) and the built-in sandbox (sandbox.py,
sandbox_http.py) that stands in for Toss when the server has no Toss keys.

Which Toss the client talks to follows from two settings:

    TOSS_SECRET_KEY  TOSS_API_URL  the client talks to
    (empty)          (empty)       the sandbox this server hosts (public at /sandbox/toss; the
                                   client uses a loopback port of its own), with the sandbox key
    (empty)          set           a sandbox hosted elsewhere, e.g. http://<instance>/sandbox/toss,
                                   with the sandbox key (instances sharing one sandbox)
    set              (empty)       Toss Payments at https://api.tosspayments.com
    set              set           that URL with that key (a Toss-speaking test server, a proxy)
"""
from __future__ import annotations

import contextlib
import logging
from typing import AsyncIterator

import aiohttp

from server.payments.sandbox import SANDBOX_SECRET_KEY, TossSandbox
from server.payments.sandbox_http import serve_on_loopback
from server.payments.toss import TOSS_API_URL, TossPayments
from server.settings import Settings

log = logging.getLogger(__name__)


def hosts_sandbox(settings: Settings) -> bool:
    return not settings.toss_secret_key and not settings.toss_api_url


@contextlib.asynccontextmanager
async def open_toss(settings: Settings, http: aiohttp.ClientSession
                    ) -> AsyncIterator[tuple[TossPayments, TossSandbox | None]]:
    """The Toss client, and the sandbox when this server hosts it (None otherwise)."""
    def client(base_url: str) -> TossPayments:
        return TossPayments(http, base_url=base_url, secret_key=settings.toss_secret_key or SANDBOX_SECRET_KEY,
                            timeout_seconds=settings.toss_timeout_seconds, retries=settings.toss_retries,
                            backoff_seconds=settings.toss_retry_backoff_seconds)

    if not hosts_sandbox(settings):
        yield client(settings.toss_api_url or TOSS_API_URL), None
        return
    sandbox = TossSandbox()
    async with serve_on_loopback(sandbox) as base_url:
        log.info("payments: built-in Toss sandbox (no TICKETBLUE_TOSS_SECRET_KEY), client at %s", base_url)
        yield client(base_url), sandbox
