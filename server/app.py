"""The application factory: the only place where the pieces are put together."""
from __future__ import annotations

from aiohttp import web

import handlers
from server import resources
from server.app_keys import HEALTH, SETTINGS, TOKENS
from server.health import Health
from server.middleware import METRICS, HttpMetrics, errors, security_headers
from server.ratelimit import rate_limits
from server.settings import Settings
from server.tokens import Tokens


def create_app(settings: Settings) -> web.Application:
    metrics = HttpMetrics()
    app = web.Application(middlewares=[metrics.middleware(), errors], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[HEALTH] = Health()
    app[TOKENS] = Tokens(settings.jwt_secret, settings.jwt_ttl_seconds)
    app.cleanup_ctx.extend(resources.ALL)
    app.cleanup_ctx.append(rate_limits)
    app.on_response_prepare.append(security_headers(settings))
    handlers.setup(app)
    return app
