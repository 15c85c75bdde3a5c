"""Every error leaves in docs/API.md's shape; every request is counted and timed for /metrics; every
response carries the security headers."""
from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from aiohttp import web

from server.errors import ApiError, Code
from server.metrics import Metrics
from server.settings import Settings
from server.storage import s3_public_url

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()

_HTTP_CODES = {400: Code.INVALID_REQUEST, 401: Code.UNAUTHORIZED, 403: Code.FORBIDDEN, 404: Code.NOT_FOUND,
               405: Code.METHOD_NOT_ALLOWED, 413: Code.PAYLOAD_TOO_LARGE, 415: Code.UNSUPPORTED_MEDIA_TYPE,
               429: Code.RATE_LIMITED}


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=_encoder.encode(data), status=status, headers=headers,
                        content_type="application/json")


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), status=error.status, headers=error.headers)


@web.middleware
async def errors(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:          # redirects and the like pass through
            raise
        message = {404: "No such resource.", 405: f"{request.method} is not allowed here.",
                   413: "The request body is too large."}.get(exc.status, exc.reason)
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(ApiError(message, code=_HTTP_CODES.get(exc.status, Code.HTTP_ERROR),
                                       status=exc.status, headers=headers))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError("Something went wrong on our side.", code=Code.INTERNAL_ERROR, status=500))


def measure(metrics: Metrics):
    """Every request counted and timed by its route (the route's pattern, never its ids)."""
    @web.middleware
    async def measure_request(request: web.Request, handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            info = request.match_info.route.resource
            metrics.request(request.method, info.canonical if info is not None else "unmatched", status,
                            time.perf_counter() - started)
    return measure_request


TOSS_SCRIPT = "https://js.tosspayments.com"
TOSS_ORIGINS = "https://*.tosspayments.com"      # the widget's frames and the calls it makes


def content_security_policy(settings: Settings) -> str:
    """The pages' own origin only: no inline scripts or styles (the pages have none), no framing.
    With a Toss client key the payment widget is allowed its script, frames and calls; with S3 the
    posters come from the bucket's public address."""
    script, connect, frame, image = ["'self'"], ["'self'"], ["'none'"], ["'self'", "data:"]
    if settings.toss_client_key:
        script.append(TOSS_SCRIPT)
        connect.append(TOSS_ORIGINS)
        frame = [TOSS_ORIGINS]
        image.append(TOSS_ORIGINS)
    if settings.s3_bucket:
        image.append(s3_public_url(settings).rstrip("/") + "/")     # "/" at the end: everything below it
    return "; ".join([
        "default-src 'self'", f"script-src {' '.join(script)}", "style-src 'self'", f"img-src {' '.join(image)}",
        f"connect-src {' '.join(connect)}", f"frame-src {' '.join(frame)}", "object-src 'none'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"])


def security_headers(settings: Settings):
    """An on_response_prepare hook: it reaches every response, static files, WebSocket handshakes
    and event streams included. `Server` names no framework version."""
    headers = {"Content-Security-Policy": content_security_policy(settings),
               "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
               "Referrer-Policy": "strict-origin-when-cross-origin", "Server": "ticketblue"}

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)
    return add
