"""The application factory: the app, its middlewares and routes, and the cleanup contexts that open
what it holds (server/wiring.py)."""
from __future__ import annotations

from aiohttp import web

import handlers
from server.compression import compress_large_json
from server.health import Health
from server import request_ids
from server.middleware import HttpMetrics, errors, security_headers
from server.settings import Settings
from server.tokens import Tokens
from server.wiring import HEALTH, METRICS, SERVER, SETTINGS, TOKENS, Context


def create_app(settings: Settings, *, contexts: tuple[Context, ...] = SERVER) -> web.Application:
    metrics = HttpMetrics()
    app = web.Application(middlewares=[request_ids.assign, metrics.middleware(), compress_large_json, errors], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[HEALTH] = Health()
    app[TOKENS] = Tokens(settings.jwt_secret, settings.jwt_ttl_seconds)
    app.cleanup_ctx.extend(contexts)
    app.on_response_prepare.append(security_headers(settings))
    app.on_response_prepare.append(request_ids.echo)
    handlers.setup(app)
    return app
