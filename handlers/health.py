"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from handlers.routing import Api
from server.errors import Unauthorized
from server.middleware import json_response
from server.schemas.common import Status
from server.wiring import HEALTH, METRICS, SETTINGS

api = Api("health")


class Readiness(Status):
    checks: dict[str, str]


@api.get("/healthz", response=Status)
async def healthz(request: web.Request) -> Status:
    """The process is up."""
    return Status(status="ok")


@api.get("/readyz", response=Readiness, errors=(503,))
async def readyz(request: web.Request) -> web.Response:
    """Every configured backend answers (503 names the one that does not)."""
    checks = await request.app[HEALTH].readiness()
    ready = all(v == "ok" for v in checks.values())
    return json_response(Readiness(status="ok" if ready else "unavailable", checks=checks),
                         status=200 if ready else 503)


@api.get("/metrics", summary="Prometheus metrics (text format); with TICKETBLUE_METRICS_TOKEN set, only "
                              "with `Authorization: Bearer <it>`", errors=(401,))
async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics_token
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(),
                                         f"Bearer {token}".encode()):
        raise Unauthorized("/metrics needs `Authorization: Bearer <TICKETBLUE_METRICS_TOKEN>`.",
                           headers={"WWW-Authenticate": "Bearer"})
    body = await request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
