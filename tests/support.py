"""A thin client for tests: JSON in and out through the public API, plus account helpers."""
from __future__ import annotations

import asyncio
import inspect
import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient


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
# Tests sign up and log in hundreds of accounts from one address (127.0.0.1), far more than the
# per-address limits let one person do; the rate-limit tests (tests/test_rate_limits.py) set their own.
MANY_ACCOUNTS = {"rate_limit_signup_per_address": "100000/minute", "rate_limit_login_per_address": "100000/minute",
                 "rate_limit_admin_signup_per_address": "100000/minute"}
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


async def make_round(client: ApiClient, admin_token: str, *, sections: list[dict] | None = None,
                     prices: dict[str, int] | None = None, days_ahead: int = 2) -> dict:
    """A hall, a performance and one round through the public API; returns ids and seat ids."""
    from datetime import date, datetime, timedelta, timezone
    sections = sections or [{"name": "A", "rows": 2, "seats_per_row": 5, "grade": "R"},
                            {"name": "B", "rows": 1, "seats_per_row": 5, "grade": "S"}]
    prices = prices or {"R": 120000, "S": 90000}
    hall = await client.post("/api/halls", token=admin_token,
                             json={"name": "Blue Hall", "address": "Seoul", "sections": sections})
    assert hall.status == 201, hall.json
    today = date.today()
    performance = await client.post("/api/performances", token=admin_token, json={
        "title": "Test Show", "description": "A show for tests", "category": "concert",
        "hall_id": hall.json["id"], "starts_on": str(today - timedelta(days=1)),
        "ends_on": str(today + timedelta(days=30)), "duration_minutes": 120, "prices": prices})
    assert performance.status == 201, performance.json
    starts_at = (datetime.now(timezone.utc) + timedelta(days=days_ahead)).replace(microsecond=0)
    round_ = await client.post(f"/api/performances/{performance.json['id']}/rounds", token=admin_token,
                               json={"starts_at": starts_at.isoformat()})
    assert round_.status == 201, round_.json
    detail = await client.get(f"/api/halls/{hall.json['id']}")
    return {"hall_id": hall.json["id"], "performance_id": performance.json["id"], "round_id": round_.json["id"],
            "seats": detail.json["seats"], "seat_ids": [s["id"] for s in detail.json["seats"]]}
