"""A thin client for tests: JSON in and out through the public API, plus account helpers."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

PASSWORD = "correct horse battery"
ADMIN_KEY = "test-admin-key"
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
