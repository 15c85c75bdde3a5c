"""`GET /ws/rounds/{round_id}/queue`: a user's live place in the round's waiting room
(docs/websocket.md). The upgrade and who is asking; the places are server/queue_watch.py's, the
socket's writing handlers/socket_transport.py's. The socket only listens: what the client sends is
ignored (its being open is the sign of life that keeps the place)."""
from __future__ import annotations


from aiohttp import web

from handlers.routing import USER, authenticate, path_id, rate_limit
from handlers.socket_transport import SocketWriter, open_socket
from server.ratelimit import WS_CONNECTS_PER_ACCOUNT, WS_CONNECTS_PER_ADDRESS
from server.wiring import METRICS, QUEUE_WATCH, SERVICES


async def queue_socket(request: web.Request) -> web.WebSocketResponse:
    round_id = path_id(request, "round_id")
    principal = await authenticate(request, USER, token_in_query=True)       # 401 before the upgrade
    await request.app[SERVICES].seating.layout(round_id)                      # 404 likewise
    await rate_limit(request, (WS_CONNECTS_PER_ADDRESS, WS_CONNECTS_PER_ACCOUNT), principal)
    watch, metrics = request.app[QUEUE_WATCH], request.app[METRICS]
    ws = await open_socket(request)
    # (a socket that falls behind gets nothing in place of its backlog: the next tick tells it all)
    listener = SocketWriter(ws, request.transport, user_id=principal.user_id, resync=lambda: None, metrics=metrics)
    try:
        metrics.queue_sockets.inc()
        await watch.join(round_id, listener)
        async for _ in ws:
            pass
    finally:
        metrics.queue_sockets.dec()
        watch.leave(round_id, listener)
        await listener.stop()
    return ws


def setup(app: web.Application) -> None:
    app.router.add_get("/ws/rounds/{round_id}/queue", queue_socket)
