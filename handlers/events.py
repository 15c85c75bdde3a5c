"""`GET /api/events`: the caller's notifications as Server-Sent Events (docs/API.md "Notifications")."""
from __future__ import annotations

import logging
from contextlib import aclosing
from typing import Annotated

import msgspec
from aiohttp import web

from handlers.routing import USER, Api, still_valid
from server.errors import InvalidRequest, Unauthorized
from server.schemas.common import Query
from server.tokens import Principal
from server.wiring import SERVICES

log = logging.getLogger(__name__)
api = Api("notifications")
MAX_EVENT_ID = 2**63 - 1               # the outbox's ids are signed 64-bit integers
EventId = Annotated[int, msgspec.Meta(ge=0, le=MAX_EVENT_ID)]


class EventsQuery(Query):
    # For clients that cannot send the Last-Event-ID header on their first connection; the header,
    # which browsers send on every reconnect, wins.
    last_event_id: EventId | None = None


@api.get("/api/events", query=EventsQuery, auth=USER, token_in_query=True)
async def stream_events(request: web.Request, query: EventsQuery, user: Principal) -> web.StreamResponse:
    """Your notifications (text/event-stream): what you missed after `Last-Event-ID`, then live events.
    The stream ends once the token no longer counts (logout, password change, account deleted): it is
    asked before every event and every heartbeat."""
    last_event_id = _last_event_id(request, query)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    async with request.app[SERVICES].events.open(user.user_id, last_event_id) as stream:
        await response.prepare(request)
        try:
            async with aclosing(stream):
                async for chunk in stream:
                    await still_valid(request, user)
                    await response.write(chunk)
        except ConnectionError:
            pass                      # the client went away
        except Unauthorized:
            pass                      # the token was ended: so is the stream (a reconnect gets 401)
        except Exception:             # the response has started: all we can do is end it; the client resumes
            log.exception("event stream of user %s failed", user.user_id)
    return response


def _last_event_id(request: web.Request, query: EventsQuery) -> int | None:
    raw = request.headers.get("Last-Event-ID", "").strip()
    if not raw:
        return query.last_event_id
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= MAX_EVENT_ID):
        raise InvalidRequest("Last-Event-ID must be an event id this server sent.", fields=["Last-Event-ID"])
    return int(raw)


async def end_streams(app: web.Application) -> None:
    """On shutdown every stream ends cleanly (before aiohttp waits for handlers to finish)."""
    app[SERVICES].events.close()


def setup(app: web.Application) -> None:
    app.on_shutdown.append(end_streams)
