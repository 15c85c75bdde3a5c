"""Rate limits on the doors a bot or a guesser would use, with the `limits` library.

Each limit is named once here, with what it counts per (a client address, an account, an e-mail
address); its rates are the setting TICKETBLUE_RATE_LIMIT_<NAME> ("10/minute;100/hour", empty: no
limit). Routes declare the limits they count against (handlers/routing.py), and the WebSocket
handler counts its holds against the same one as the REST holds. Counts live in Redis when it is
configured (one count for all instances), else in this process; every count is one atomic hit,
never a test followed by a hit.

Holds and releases (HOLDS_PER_ACCOUNT) are the one limit not counted here: the seat engine counts them
per user and round in the same atomic step as the hold (the same moving window, in the round's Redis
slot), because a round trip of their own cost every hold ~20% of its CPU (benchmarks/RESULTS.md,
holds). Their rates still come from TICKETBLUE_RATE_LIMIT_HOLDS_PER_ACCOUNT and refusals read the same. Over a limit: 429 `rate_limited` with Retry-After, the seconds
until the window has room again.
"""
from __future__ import annotations

import hashlib
import math
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, NamedTuple

from aiohttp import web
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import STRATEGIES
from limits.errors import StorageError

from server.accounts import normalize_email
from server.client_address import client_address
from server.errors import RateLimited, ServiceUnavailable
from server.metrics import Metrics
from server.redis_client import (CLUSTER_CONNECTIONS_PER_NODE, CLUSTER_SOCKET_TIMEOUT_SECONDS, is_cluster_url,
                                 open_redis)
from server.settings import Settings

ADDRESS, ACCOUNT, EMAIL = "address", "account", "email"


class Limit(NamedTuple):
    setting: str           # TICKETBLUE_RATE_LIMIT_<SETTING>
    per: str               # ADDRESS, ACCOUNT or EMAIL: one count for each
    what: str              # for the message: "Too many <what>"


LOGIN_PER_ADDRESS = Limit("login_per_address", ADDRESS, "logins from your address")
LOGIN_PER_EMAIL = Limit("password_per_account", EMAIL, "login attempts for this account")
PASSWORD_CHANGE_PER_ACCOUNT = Limit("password_per_account", ACCOUNT, "password attempts for this account")
SIGNUP_PER_ADDRESS = Limit("signup_per_address", ADDRESS, "sign-ups from your address")
ADMIN_SIGNUP_PER_ADDRESS = Limit("admin_signup_per_address", ADDRESS, "admin sign-up attempts from your address")
HOLDS_PER_ACCOUNT = Limit("holds_per_account", ACCOUNT, "holds and releases")   # counted by the seat engine
COUPON_ISSUE_PER_ACCOUNT = Limit("coupon_issue_per_account", ACCOUNT, "coupon requests")
WS_CONNECTS_PER_ACCOUNT = Limit("ws_connects_per_account", ACCOUNT, "seat-map connections for this account")
WS_CONNECTS_PER_ADDRESS = Limit("ws_connects_per_address", ADDRESS, "seat-map connections from your address")
QUEUE_JOINS_PER_ACCOUNT = Limit("queue_joins_per_account", ACCOUNT, "waiting room joins")
QUEUE_JOINS_PER_ADDRESS = Limit("queue_joins_per_address", ADDRESS, "waiting room joins from your address")
LIMITS = (LOGIN_PER_ADDRESS, LOGIN_PER_EMAIL, PASSWORD_CHANGE_PER_ACCOUNT, SIGNUP_PER_ADDRESS,
          ADMIN_SIGNUP_PER_ADDRESS, HOLDS_PER_ACCOUNT, COUPON_ISSUE_PER_ACCOUNT, WS_CONNECTS_PER_ACCOUNT,
          WS_CONNECTS_PER_ADDRESS, QUEUE_JOINS_PER_ACCOUNT, QUEUE_JOINS_PER_ADDRESS)


def email_key(email: str) -> str:
    """E-mail addresses are counted by digest: no address is written into the limits' storage."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


class RateLimits:
    def __init__(self, settings: Settings, storage: Storage, metrics: Metrics | None = None):
        self._metrics = metrics or Metrics()
        self._limiter = STRATEGIES[settings.rate_limit_strategy](storage)
        self._rates = {limit.setting: settings.rate_limit(limit.setting) for limit in LIMITS}
        self._trusted_proxies = settings.trusted_proxy_networks

    def address(self, request: web.Request) -> str:
        return client_address(request.remote, request.headers.getall("X-Forwarded-For", ()), self._trusted_proxies)

    async def hit(self, limit: Limit, who: str | int) -> None:
        """Count one request of `who` (an address, an account id, an email_key); 429 when a rate is used up.
        The rates are hit in turn: a request refused by a later one has still been counted by the earlier."""
        identifiers = (limit.setting, limit.per, str(who))
        try:
            for rate in self._rates[limit.setting]:
                if not await self._limiter.hit(rate, *identifiers):
                    raise await self._refusal(limit, rate, identifiers)
        except StorageError:
            raise ServiceUnavailable("Rate limits cannot be checked right now; try again shortly.") from None

    async def _refusal(self, limit: Limit, rate: RateLimitItem, identifiers: tuple[str, ...]) -> RateLimited:
        self._metrics.rate_limited(limit.setting)
        stats = await self._limiter.get_window_stats(rate, *identifiers)
        return refused(limit, stats.reset_time - time.time())


def refused(limit: Limit, retry_after_seconds: float) -> RateLimited:
    """The 429 for a request over `limit`, whose window has room again in that many seconds."""
    retry_after = max(1, math.ceil(retry_after_seconds))
    return RateLimited(f"Too many {limit.what}; try again in {retry_after} s.",
                       details={"limit": limit.setting, "retry_after": retry_after},
                       headers={"Retry-After": str(retry_after)})


@asynccontextmanager
async def open_rate_limits(settings: Settings, metrics: Metrics | None = None) -> AsyncIterator[RateLimits]:
    """Redis storage when TICKETBLUE_REDIS_URL is set (the `limits` library's cluster storage for a
    redis+cluster:// URL: each count is one key, so it lives on one node), else in-process counts."""
    if not settings.redis_url:
        yield RateLimits(settings, MemoryStorage(), metrics)
        return
    options = dict(implementation="redispy", key_prefix=f"{settings.redis_key_prefix}:limits", wrap_exceptions=True)
    if is_cluster_url(settings.redis_url):
        storage = RedisClusterStorage("async+" + settings.redis_url, max_connections=CLUSTER_CONNECTIONS_PER_NODE,
                                      socket_timeout=CLUSTER_SOCKET_TIMEOUT_SECONDS,
                                      socket_connect_timeout=CLUSTER_SOCKET_TIMEOUT_SECONDS, **options)
        await storage.bridge.storage.initialize()   # see open_redis
        try:
            yield RateLimits(settings, storage, metrics)
        finally:
            await storage.bridge.storage.aclose()   # limits never closes the cluster client it made
        return
    # A client of our own, so that its pool is closed with the application (the one limits makes is not).
    client = await open_redis(settings.redis_url, decode_responses=False)
    try:
        yield RateLimits(settings, RedisStorage("async+" + settings.redis_url, connection_pool=client.connection_pool,
                                                **options), metrics)
    finally:
        await client.aclose()
