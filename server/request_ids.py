"""A request id per request: the caller's `X-Request-Id` when it is sane, else a new one; sent back on
every response, written in every log line made while the request is handled (server/logs.py), and
kept with the outbox messages the request enqueued, so their deliveries log it too.

The id lives in a context variable: aiohttp runs each request in a task of its own (a copy of the
context), so what the middleware sets is seen by everything the request awaits, by the tasks it
starts, and by aiohttp's access log line at its end, and by no other request. A task that a request
happens to start but that serves others too (`shared_task`) starts without it.
"""
from __future__ import annotations

import asyncio
import contextvars
import re
import uuid
from contextvars import ContextVar
from typing import Any, Coroutine

from aiohttp import web

HEADER = "X-Request-Id"
MAX_LENGTH = 64
# What a proxy or a client's tracing puts there (UUIDs, nginx's $request_id, hex trace ids): anything
# else (spaces, quotes, control characters, a novel) is not written into our logs; the request gets its own.
_SANE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_LENGTH - 1}}}")
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_KEY = web.RequestKey("request_id", str)


def current() -> str | None:
    """The id of the request being handled (or whose message is being delivered); None elsewhere."""
    return REQUEST_ID.get()


def shared_task(coroutine: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task:
    """A task for more than the request that starts it (a subscription's reader, one pipeline of many
    requests' calls, a read that callers share), started without that request's id: its log lines
    must not name one request for everyone's work."""
    context = contextvars.copy_context()
    context.run(REQUEST_ID.set, None)
    return asyncio.get_running_loop().create_task(coroutine, name=name, context=context)


def new() -> str:
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    return value if value is not None and _SANE.fullmatch(value) else new()


@web.middleware
async def assign(request: web.Request, handler) -> web.StreamResponse:
    """Outermost: the id is set before anything else can log or fail."""
    request[_KEY] = accept(request.headers.get(HEADER))
    REQUEST_ID.set(request[_KEY])          # this request's task's context only (see the module's doc)
    return await handler(request)


async def echo(request: web.Request, response: web.StreamResponse) -> None:
    """An on_response_prepare hook: every response says its id, errors, redirects, streams and
    WebSocket handshakes included."""
    response.headers[HEADER] = request.get(_KEY) or accept(request.headers.get(HEADER))
