"""The application factory: the app, its middlewares and routes, and the cleanup contexts that open
what it holds (server/wiring.py)."""
from __future__ import annotations

import os
import socket

from aiohttp import web

import handlers
from server import app_version, request_ids
from server.compression import compress_large_json
from server.health import Health
from server.metrics import Metrics
from server.middleware import errors, measure, security_headers
from server.settings import Settings
from server.tokens import Tokens
from server.wiring import HEALTH, METRICS, SERVER, SETTINGS, TOKENS, Context


def create_app(settings: Settings, *, contexts: tuple[Context, ...] = SERVER) -> web.Application:
    # (the pid tells apart the workers of `serve --workers`, which share the host and the port)
    metrics = Metrics(instance_id=f"{socket.gethostname()}:{settings.port}/{os.getpid()}", version=app_version())
    app = web.Application(middlewares=[request_ids.assign, measure(metrics), compress_large_json, errors],
                          client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[HEALTH] = Health()
    app[TOKENS] = Tokens(settings.jwt_secret, settings.jwt_ttl_seconds)
    app.cleanup_ctx.extend(contexts)
    app.on_response_prepare.append(security_headers(settings))
    app.on_response_prepare.append(request_ids.echo)
    handlers.setup(app)
    return app
