"""A thin client for tests: JSON in and out through the public API, accounts, and waiting for what
happens in the background."""
from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from dataclasses import dataclass
from typing import Any

import jwt
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from server.db.database import Database
from server.db.tables import users


async def eventually(probe, *, timeout: float = 15.0, every: float = 0.02):
    """Poll a probe (plain or async) until it returns something truthy, for what happens in the
    background or in another process; fails after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = probe()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(every)


PASSWORD = "correct horse battery"
ADMIN_KEY = "test-admin-key"
JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256"      # what the tests' settings sign tokens with
# Tests sign up and log in hundreds of accounts from one address (127.0.0.1), and put them in waiting
# rooms, far more than the per-address limits let one person do; the rate-limit and waiting-room tests
# set their own where they test them.
MANY_ACCOUNTS = {"rate_limit_signup_per_address": "100000/minute", "rate_limit_login_per_address": "100000/minute",
                 "rate_limit_admin_signup_per_address": "100000/minute",
                 "rate_limit_queue_joins_per_address": "100000/minute", "waiting_room_accounts_per_address": 0}
_numbers = itertools.count(1)


@dataclass
class Reply:
    status: int
    json: Any
    headers: Any

    def error_code(self) -> str | None:
        return self.json["error"]["code"] if isinstance(self.json, dict) and "error" in self.json else None


class ApiClient:
    def __init__(self, http: TestClient):
        self.http = http

    async def call(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                   data: Any = None, headers: dict | None = None, **kwargs) -> Reply:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, path, json=json, data=data, headers=headers,
                                     allow_redirects=False, **kwargs) as resp:
            body = await resp.read()
            parsed = None
            if body and resp.content_type == "application/json":
                parsed = await resp.json()
            return Reply(resp.status, parsed if parsed is not None else body, resp.headers)

    async def get(self, path, **kw): return await self.call("GET", path, **kw)
    async def post(self, path, **kw): return await self.call("POST", path, **kw)
    async def put(self, path, **kw): return await self.call("PUT", path, **kw)
    async def patch(self, path, **kw): return await self.call("PATCH", path, **kw)
    async def delete(self, path, **kw): return await self.call("DELETE", path, **kw)

    async def signup(self, *, admin: bool = False, email: str | None = None, name: str = "Tester") -> dict:
        email = email or f"user{next(_numbers)}@example.com"
        body = {"email": email, "password": PASSWORD, "name": name}
        if admin:
            reply = await self.post("/api/auth/signup/admin", json={**body, "admin_key": ADMIN_KEY})
        else:
            reply = await self.post("/api/auth/signup", json=body)
        assert reply.status == 201, reply.json
        return reply.json

    async def token(self, *, admin: bool = False, email: str | None = None) -> str:
        """Sign up a new account and log it in."""
        user = await self.signup(admin=admin, email=email)
        reply = await self.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
        assert reply.status == 200, reply.json
        return reply.json["access_token"]


# ---- accounts --------------------------------------------------------------------------------------
async def count_users(settings) -> int:
    """How many user rows the database holds (deleted ones too)."""
    db = Database(settings.resolved_database_url)
    try:
        async with db.read_own_writes() as conn:
            return (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one()
    finally:
        await db.close()


def forge(claims: dict, secret: str = JWT_SECRET) -> str:
    """An access token as the server signs them (an admin's, unless `claims` say otherwise)."""
    base = {"sub": "1", "role": "admin", "iat": int(time.time()), "exp": int(time.time()) + 600, "iss": "ticketblue"}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


# ---- paths ------------------------------------------------------------------------------------------
# Every call on a round under /api/rounds/{id}/: (method, what, who makes it: an account of that role or nobody).
ROUND_CALLS = [("GET", "seats", None), ("GET", "availability", None), ("POST", "holds", "user"),
               ("DELETE", "holds", "user"), ("POST", "blocks", "admin"), ("DELETE", "blocks", "admin")]


def full_width(number: int) -> str:
    """The id in full-width digits (U+FF10..): str.isdigit() and int() take them."""
    return "".join(chr(0xFF10 + int(d)) for d in str(number))
