"""`GET /ws/rounds/{round_id}`: the live seat map over a WebSocket (docs/websocket.md).

Frames go straight to a socket while it keeps up; a slow socket never slows the others and never
grows memory: its backlog is bounded, when that overflows it is sent one fresh snapshot instead,
and a socket that cannot keep up even so is dropped. When the round is deleted, its sockets get a
`round_deleted` frame and are closed with ROUND_DELETED.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import struct
import weakref

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from handlers.routing import OPTIONAL, authenticate, path_id, rate_limit, still_valid, validation_error
from seatmap.frames import Batch, delta_frame, error_frame, hold_result_frame, round_deleted_frame
from seatmap.hub import Hub
from seatmap.model import NoSuchRound
from server.app_keys import SERVICES
from server.errors import ApiError, NotFound, Unauthorized
from server.ratelimit import WS_CONNECTS_PER_ACCOUNT, WS_CONNECTS_PER_ADDRESS
from server.schemas.seating import SeatIds
from server.tokens import Principal

log = logging.getLogger(__name__)
WRITE_BUFFER_HIGH = 64 * 1024      # above this a socket is behind: frames wait in its backlog
WRITE_BUFFER_LOW = 16 * 1024       # ...until its buffer is down to this
MAX_BACKLOG_BYTES = 256 * 1024     # a socket further behind gets a snapshot instead (bounded memory)
SOCKET_SEND_BUFFER = 128 * 1024    # the kernel's share, fixed: autotuning lets one stalled socket take MBs
DRAIN_POLL_SECONDS = 0.01
SEND_TIMEOUT_SECONDS = 10
MAX_OVERFLOWS_IN_A_ROW = 3
ROUND_DELETED = 4404               # close code: the round was deleted (docs/websocket.md)
SOCKETS = web.AppKey("seatmap_sockets", weakref.WeakSet)


# ---- client commands ---------------------------------------------------------------------------
Req = int | str | None


class Hold(msgspec.Struct, tag="hold", tag_field="type", forbid_unknown_fields=True):
    seat_ids: SeatIds
    req: Req = None


class Release(msgspec.Struct, tag="release", tag_field="type", forbid_unknown_fields=True):
    seat_ids: SeatIds
    req: Req = None


class SnapshotRequest(msgspec.Struct, tag="snapshot", tag_field="type", forbid_unknown_fields=True):
    req: Req = None


class Resume(msgspec.Struct, tag="resume", tag_field="type", forbid_unknown_fields=True):
    seq: int
    req: Req = None


_decode_command = msgspec.json.Decoder(Hold | Release | SnapshotRequest | Resume).decode


# ---- one socket ----------------------------------------------------------------------------------
def text_frame(payload: bytes) -> bytes:
    """A server-to-client WebSocket text frame (RFC 6455 5.2: final, unmasked, uncompressed). Built
    here rather than by aiohttp's send_frame so that a tick's frames go out in one write, and
    the same bytes serve every viewer."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class SocketViewer:
    """Frames go straight to the socket while it keeps up: no queue, no task switch, which is what
    lets one process feed ten thousand viewers. A socket whose buffer fills up gets the rest
    through a bounded backlog drained by its own writer task; when even that overflows it is sent
    one fresh snapshot instead, and a socket that cannot keep up with that either is closed."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport, user_id: int | None,
                 hub: Hub, round_id: int):
        self.ws = ws
        self.user_id = user_id
        self._transport = transport
        self._hub = hub
        self._round_id = round_id
        self._backlog: list[bytes] = []
        self._backlog_bytes = 0
        self._wake = asyncio.Event()
        self._behind = False
        self._overflows = 0
        self._ending = False

    def push(self, frame: bytes) -> None:
        self._send(text_frame(frame))

    def push_batch(self, batch: Batch) -> None:
        self._send(batch.wire(text_frame))

    def end(self, frame: bytes) -> None:
        """The round is gone: this frame goes out after the backlog (never dropped for a snapshot,
        none is coming), then the writer closes the socket."""
        self._behind = False
        wire = text_frame(frame)
        self._backlog.append(wire)
        self._backlog_bytes += len(wire)
        self._ending = True
        self._wake.set()

    def _send(self, wire: bytes) -> None:
        if self._behind or self._transport.is_closing():
            return                              # a fresh snapshot is coming anyway, or nobody listens
        buffered = self._transport.get_write_buffer_size()
        if buffered + self._backlog_bytes + len(wire) > MAX_BACKLOG_BYTES:
            self._backlog.clear()
            self._backlog_bytes = 0
            self._behind = True
            self._overflows += 1
        elif not self._backlog and buffered < WRITE_BUFFER_HIGH:
            self._transport.write(wire)
            return
        else:
            self._backlog.append(wire)
            self._backlog_bytes += len(wire)
        self._wake.set()

    async def write(self) -> None:
        """The socket's writer task: works only while the socket is behind."""
        try:
            while not self.ws.closed:
                await self._wake.wait()
                self._wake.clear()
                await self._drained()
                if self._behind:
                    if self._overflows >= MAX_OVERFLOWS_IN_A_ROW:
                        await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
                        return
                    frame = self._hub.snapshot_frame(self._round_id, self)
                    self._behind = False        # from here on, deltas follow this snapshot
                    if frame is not None:
                        self._backlog.insert(0, text_frame(frame))
                elif not self._backlog:
                    self._overflows = 0         # caught up without overflowing again
                if self._backlog and not self._transport.is_closing():
                    wire, self._backlog, self._backlog_bytes = b"".join(self._backlog), [], 0
                    self._transport.write(wire)
                    self._wake.set()            # look again once this has drained
                elif self._ending:
                    await self.ws.close(code=ROUND_DELETED, message=b"round deleted")
                    return
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")

    async def _drained(self) -> None:
        """Until the socket's buffer is low again; only slow sockets ever wait here."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEND_TIMEOUT_SECONDS
        while self._transport.get_write_buffer_size() > WRITE_BUFFER_LOW and not self._transport.is_closing():
            if loop.time() > deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(DRAIN_POLL_SECONDS)


async def round_socket(request: web.Request) -> web.WebSocketResponse:
    round_id = path_id(request, "round_id")
    principal = await authenticate(request, OPTIONAL, token_in_query=True)
    services = request.app[SERVICES]
    await services.seating.layout(round_id)              # 404 before the upgrade, in the error shape
    await rate_limit(request, (WS_CONNECTS_PER_ADDRESS, WS_CONNECTS_PER_ACCOUNT), principal)     # 429, likewise
    ws = web.WebSocketResponse(heartbeat=25, compress=False, max_msg_size=64 * 1024)
    await ws.prepare(request)
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER)
    user_id = principal.user_id if principal else None
    viewer = SocketViewer(ws, request.transport, user_id, services.hub, round_id)
    request.app[SOCKETS].add(ws)
    writer = asyncio.create_task(viewer.write(), name=f"ws-writer-{round_id}")
    try:
        try:
            await services.hub.join(round_id, viewer)
        except (NoSuchRound, NotFound):      # deleted since the check above (another instance's, maybe)
            viewer.end(round_deleted_frame(round_id))
            await writer                     # it sends the frame and closes
            return ws
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _command(request, round_id, viewer, principal, message.data)
            elif message.type == WSMsgType.BINARY:
                viewer.push(error_frame({"code": "invalid_request", "message": "Send text frames.", "details": {}}))
    finally:
        await services.hub.leave(round_id, viewer)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    return ws


async def _command(request: web.Request, round_id: int, viewer: SocketViewer, principal: Principal | None,
                   data: str) -> None:
    services = request.app[SERVICES]
    try:
        command = _decode_command(data)
    except msgspec.DecodeError as exc:
        error = validation_error(exc) if isinstance(exc, msgspec.ValidationError) else \
            ApiError(f"Malformed frame: {exc}", code="invalid_request", details={"fields": []})
        viewer.push(error_frame(error.body()["error"]))
        return
    if isinstance(command, SnapshotRequest):
        frame = services.hub.snapshot_frame(round_id, viewer)
        if frame is not None:
            viewer.push(frame)
    elif isinstance(command, Resume):
        await _resume(services.hub, services.seating.engine, round_id, viewer, command.seq)
    else:
        try:
            if principal is None:
                raise Unauthorized("Sign in to hold seats: connect with ?token=<access_token>.")
            await still_valid(request, principal)         # the token may have been ended since the connect
            if isinstance(command, Hold):
                held = await services.seating.hold(round_id, viewer.user_id, command.seat_ids)
                frame = hold_result_frame(command.req, seat_ids=held.seat_ids, expires_at=held.expires_at)
            else:
                released = await services.seating.release(round_id, viewer.user_id, command.seat_ids)
                frame = hold_result_frame(command.req, seat_ids=released)
        except ApiError as exc:
            frame = hold_result_frame(command.req, error=exc.body()["error"])
        viewer.push(frame)


async def _resume(hub: Hub, engine, round_id: int, viewer: SocketViewer, seq: int) -> None:
    """Replay the deltas after `seq` up to what this socket has already been sent live, or send a
    snapshot when they are no longer kept. Clients skip deltas whose seq they have applied."""
    deltas = await engine.deltas_after(round_id, seq)
    current = hub.current_seq(round_id)
    replay = [d for d in deltas or () if current is not None and d.seq <= current]
    caught_up = current is not None and (seq >= current or (replay and replay[-1].seq == current))
    if deltas is None or not caught_up:
        frame = hub.snapshot_frame(round_id, viewer)
        if frame is not None:
            viewer.push(frame)
        return
    for delta in replay:
        viewer.push(delta_frame(delta, viewer.user_id))


async def close_sockets(app: web.Application) -> None:
    """On shutdown every socket gets a close frame (1001, going away) before the loop stops."""
    await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                           for ws in list(app[SOCKETS])), return_exceptions=True)


def setup(app: web.Application) -> None:
    app[SOCKETS] = weakref.WeakSet()
    app.router.add_get("/ws/rounds/{round_id}", round_socket)
    app.on_shutdown.append(close_sockets)
