"""Security headers and a request id on every response (pages, files, API answers, errors, the WebSocket
handshake, event streams), a Content-Security-Policy the pages work under, no framework version in `Server`, and
/metrics behind a bearer token when one is configured."""
from __future__ import annotations

import asyncio
import re

import pytest
from multidict import CIMultiDict

from tests.support.raw_ws import upgrade_request

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "strict-origin-when-cross-origin", "Server": "ticketblue"}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


async def handshake_headers(port: int, path: str) -> tuple[bytes, CIMultiDict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(upgrade_request(path))
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    writer.close()
    status, *lines = head.strip().split("\r\n")
    return status.encode(), CIMultiDict(line.split(": ", 1) for line in lines)


async def test_every_kind_of_response_carries_the_security_headers(client, show):
    token = await client.token()
    answers = [await client.get(path) for path in ("/", "/admin", "/static/js/app.js", "/api/config", "/healthz",
                                                   "/api/no-such-thing", "/openapi.json", "/docs")]
    answers.append(await client.post("/api/auth/login", json={"email": "x@example.com", "password": "wrong one"}))
    answers.append(await client.delete("/api/halls", token=token))                        # 405
    headers = [a.headers for a in answers]
    async with client.http.get(f"/api/events?token={token}") as events:
        headers.append(events.headers)
    status, handshake = await handshake_headers(client.http.port, f"/ws/rounds/{show['round_id']}")
    assert status.startswith(b"HTTP/1.1 101")
    headers.append(handshake)
    for got in headers:
        assert {name: got.get(name) for name in HEADERS} == HEADERS
        assert re.fullmatch(r"[0-9a-f]{32}", got.get("X-Request-Id", "")), got      # server/request_ids.py
        policy = directives(got["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert "tosspayments" not in got["Content-Security-Policy"]


@pytest.mark.parametrize("settings_overrides", [{"toss_client_key": "test_ck_widget"}])
async def test_with_a_toss_client_key_the_widget_is_allowed_its_origins(client):
    policy = directives((await client.get("/")).headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "https://js.tosspayments.com"]
    assert "https://*.tosspayments.com" in policy["frame-src"] and "https://*.tosspayments.com" in policy["connect-src"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("settings_overrides", [{"metrics_token": "scrape-me-please"}])
async def test_metrics_need_the_bearer_token_when_one_is_set(client):
    for headers in ({}, {"Authorization": "Bearer guess"}, {"Authorization": "scrape-me-please"}):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status == 401 and refused.error_code() == "unauthorized"
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert scraped.status == 200 and b"ticketblue_http_requests_total" in scraped.json
    assert "401" in (await client.get("/openapi.json")).json["paths"]["/metrics"]["get"]["responses"]
