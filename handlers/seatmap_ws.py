"""`GET /ws/rounds/{round_id}`: the live seat map over a WebSocket (docs/websocket.md): the upgrade,
who is asking, and what each command does. The socket's writing is handlers/socket_transport.py's,
the round's deltas and snapshots the hub's (seatmap/hub.py), the protocol's types seatmap/protocol.py's.
"""
from __future__ import annotations


import msgspec
from aiohttp import WSMsgType, web

from handlers.routing import OPTIONAL, authenticate, path_id, rate_limit, still_valid, validation_error
from handlers.socket_transport import SocketWriter, open_socket
from seatmap.frames import error_frame, hold_result_frame, round_deleted_frame
from seatmap.model import NoSuchRound
from seatmap.protocol import ROUND_DELETED, Hold, Resume, SnapshotRequest, decode_command
from server.errors import ApiError, Code, NotFound, Unauthorized
from server.ratelimit import WS_CONNECTS_PER_ACCOUNT, WS_CONNECTS_PER_ADDRESS
from server.tokens import Principal
from server.wiring import HUB, METRICS, SERVICES


async def round_socket(request: web.Request) -> web.WebSocketResponse:
    round_id = path_id(request, "round_id")
    principal = await authenticate(request, OPTIONAL, token_in_query=True)
    await request.app[SERVICES].seating.layout(round_id)         # 404 before the upgrade, in the error shape
    await rate_limit(request, (WS_CONNECTS_PER_ADDRESS, WS_CONNECTS_PER_ACCOUNT), principal)     # 429, likewise
    hub, metrics = request.app[HUB], request.app[METRICS]
    ws = await open_socket(request)
    viewer = SocketWriter(ws, request.transport, user_id=principal.user_id if principal else None,
                          resync=lambda: hub.snapshot_frame(round_id, viewer), metrics=metrics)
    try:
        metrics.seatmap_viewers.inc()
        try:
            await hub.join(round_id, viewer)
        except (NoSuchRound, NotFound):      # deleted since the check above (another instance's, maybe)
            viewer.end(round_deleted_frame(round_id), *ROUND_DELETED)
            await viewer.ended()             # the frame sent, the socket closed
            return ws
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _command(request, round_id, viewer, principal, message.data)
            elif message.type == WSMsgType.BINARY:
                viewer.push(error_frame(ApiError("Send text frames.", code=Code.INVALID_REQUEST).body()["error"]))
    finally:
        metrics.seatmap_viewers.dec()
        await hub.leave(round_id, viewer)
        await viewer.stop()
    return ws


async def _command(request: web.Request, round_id: int, viewer: SocketWriter, principal: Principal | None,
                   data: str) -> None:
    hub, seating = request.app[HUB], request.app[SERVICES].seating
    try:
        command = decode_command(data)
    except msgspec.DecodeError as exc:
        error = validation_error(exc) if isinstance(exc, msgspec.ValidationError) else \
            ApiError(f"Malformed frame: {exc}", code=Code.INVALID_REQUEST, details={"fields": []})
        viewer.push(error_frame(error.body()["error"]))
        return
    if isinstance(command, SnapshotRequest):
        frame = hub.snapshot_frame(round_id, viewer)
        if frame is not None:
            viewer.push(frame)
    elif isinstance(command, Resume):
        await hub.resume(round_id, viewer, command.seq)
    else:
        try:
            if principal is None:
                raise Unauthorized("Sign in to hold seats: connect with ?token=<access_token>.")
            await still_valid(request, principal)         # the token may have been ended since the connect
            if isinstance(command, Hold):
                held = await seating.hold(round_id, principal.user_id, command.seat_ids)
                frame = hold_result_frame(command.req, seat_ids=held.seat_ids, expires_at=held.expires_at)
            else:
                released = await seating.release(round_id, principal.user_id, command.seat_ids)
                frame = hold_result_frame(command.req, seat_ids=released)
        except ApiError as exc:
            frame = hold_result_frame(command.req, error=exc.body()["error"])
        viewer.push(frame)


def setup(app: web.Application) -> None:
    app.router.add_get("/ws/rounds/{round_id}", round_socket)
