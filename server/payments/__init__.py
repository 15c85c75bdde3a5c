"""Payments through Toss Payments: the client (toss.py) and the built-in sandbox (sandbox.py,
sandbox_http.py) that stands in for Toss when the server has no Toss keys.

Which Toss the client talks to follows from two settings:

    TOSS_SECRET_KEY  TOSS_API_URL  the client talks to
    (empty)          (empty)       the sandbox this server hosts (its Toss API is mounted on the public
                                   port at /sandbox/toss; the client uses a loopback port of its own),
                                   with the sandbox key: TOSS_SANDBOX_KEY, else a random one
    (empty)          set           a sandbox hosted elsewhere, e.g. http://<instance>/sandbox/toss,
                                   with TOSS_SANDBOX_KEY (the same on every instance sharing that sandbox)
    set              (empty)       Toss Payments at https://api.tosspayments.com
    set              set           that URL with that key (a Toss-speaking test server, a proxy)
"""
from __future__ import annotations

import contextlib
import logging
from typing import AsyncIterator

import aiohttp

from server.payments.sandbox import TossSandbox
from server.payments.sandbox_http import serve_on_loopback
from server.payments.toss import TOSS_API_URL, TossPayments
from server.metrics import Metrics
from server.settings import Settings

log = logging.getLogger(__name__)


def hosts_sandbox(settings: Settings) -> bool:
    return not settings.toss_secret_key and not settings.toss_api_url


@contextlib.asynccontextmanager
async def open_toss(settings: Settings, http: aiohttp.ClientSession, metrics: Metrics | None = None
                    ) -> AsyncIterator[tuple[TossPayments, TossSandbox | None]]:
    """The Toss client, and the sandbox when this server hosts it (None otherwise)."""
    def client(base_url: str, secret_key: str) -> TossPayments:
        return TossPayments(http, base_url=base_url, secret_key=secret_key,
                            timeout_seconds=settings.toss_timeout_seconds, retries=settings.toss_retries,
                            backoff_seconds=settings.toss_retry_backoff_seconds, metrics=metrics)

    if not hosts_sandbox(settings):
        if not settings.toss_secret_key and not settings.toss_sandbox_key:
            log.warning("payments: TICKETBLUE_TOSS_API_URL is a sandbox elsewhere, but TICKETBLUE_TOSS_SANDBOX_KEY "
                        "is not set: that sandbox will refuse every call")
        yield client(settings.toss_api_url or TOSS_API_URL, settings.toss_secret_key or settings.toss_sandbox_key), None
        return
    sandbox = TossSandbox(settings.toss_sandbox_key or TossSandbox.new_secret_key(),
                          latency=(settings.toss_sandbox_min_latency_seconds, settings.toss_sandbox_max_latency_seconds))
    async with serve_on_loopback(sandbox) as base_url:
        log.info("payments: built-in Toss sandbox (no TICKETBLUE_TOSS_SECRET_KEY)")
        log.debug("payments: the sandbox answers this server's calls at %s (loopback, not for clients)", base_url)
        yield client(base_url, sandbox.secret_key), sandbox
