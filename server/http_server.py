"""Serving the app, with what aiohttp's own HTTP parser refuses answered in the API's error shape.

A request that aiohttp cannot parse (NUL or another bad character in a header, a request line or
header over 8 KiB, a bad chunk size, an unknown method) never reaches the application or its
middleware: aiohttp answers it from `RequestHandler.handle_error` with a text/plain body that
quotes the offending bytes, and logs a traceback as if it were our bug. aiohttp has no hook for
this (aio-libs/aiohttp#3287), so the one place it can be changed is a small subclass of
RequestHandler; the Server and AppRunner subclasses below only make aiohttp build that one.
"""
from __future__ import annotations

import asyncio
import logging
import signal

import uvloop
from aiohttp import web
from aiohttp.http_exceptions import (BadHttpMessage, BadHttpMethod, BadStatusLine, HttpProcessingError,
                                     InvalidHeader, LineTooLong, TransferEncodingError)
from aiohttp.web_protocol import RequestHandler

from server import request_ids
from server.errors import InvalidRequest
from server.middleware import error_response

log = logging.getLogger(__name__)

# What went wrong, in words; never the client's bytes (they may be anything, and are theirs).
_REASONS: list[tuple[type[HttpProcessingError], str]] = [
    (LineTooLong, "The request line or a header is longer than 8190 bytes."),
    (BadHttpMethod, "That is not an HTTP method this server knows."),
    (BadStatusLine, "The request line is not valid HTTP/1.1."),
    (InvalidHeader, "A header name or value holds characters HTTP does not allow."),
    (TransferEncodingError, "The chunked body is malformed."),
    (BadHttpMessage, "The request is not valid HTTP/1.1."),
]


def parse_error_response(exc: HttpProcessingError) -> web.Response:
    reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), "The request is not valid HTTP.")
    return error_response(InvalidRequest(reason))


class ApiRequestHandler(RequestHandler):
    """One HTTP connection; differs from aiohttp's only in how it answers an unparseable request."""

    __slots__ = ()

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):          # our own failures keep aiohttp's handling
            return super().handle_error(request, status, exc, message)
        request_id = request_ids.new()           # it never reached the middleware that gives one
        request_ids.REQUEST_ID.set(request_id)
        log.info("refused a malformed HTTP request from %s: %s", request.remote, type(exc).__name__)
        response = parse_error_response(exc)
        response.headers[request_ids.HEADER] = request_id
        response.force_close()        # what follows on this connection cannot be trusted to be a request
        return response


class ApiServer(web.Server):
    def __call__(self) -> RequestHandler:
        return ApiRequestHandler(self, loop=asyncio.get_running_loop(), **self._kwargs)


class ApiRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        made = await super()._make_server()          # starts the app; we keep its settings, not its class
        return ApiServer(made.request_handler, request_factory=made.request_factory,
                         handler_cancellation=made.handler_cancellation, **made._kwargs)


def http_url(address: tuple) -> str:
    host, port = address[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: web.Application, *, host: str, port: int, shutdown_timeout: float,
          event_loop: str = "uvloop", reuse_port: bool = False) -> None:
    """What web.run_app does, with ApiRunner: serve until SIGINT or SIGTERM, then shut down gracefully
    (requests in progress finish, cleanup contexts close) before anything left is cancelled. On
    `event_loop` "uvloop" or "asyncio"; with `reuse_port`, beside other processes on the same port
    (server/workers.py)."""
    async def run() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        runner = ApiRunner(app, shutdown_timeout=shutdown_timeout, keepalive_timeout=75)   # run_app's default
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
            loop = type(asyncio.get_running_loop())
            log.info("event loop: %s.%s", loop.__module__, loop.__qualname__)
            for address in runner.addresses:        # the port that was bound (port 0 picks one)
                log.info("listening on %s", http_url(address))
            await stop.wait()
        finally:
            await runner.cleanup()

    if event_loop == "uvloop":
        uvloop.run(run())
    else:
        asyncio.run(run())
