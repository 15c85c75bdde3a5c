"""Server-pushed WebSockets at scale: opening them, a bounded writer per socket, and closing them all on
shutdown. Used by every socket that mostly listens (the live seat map; the waiting room's next).

Frames go straight to a socket while it keeps up: no queue, no task switch, which is what lets one
process feed ten thousand sockets. A socket whose buffer fills up gets the rest through a bounded
backlog drained by a writer task of its own, which runs only while the socket is behind (an idle
task per socket would cost ~1.2 KiB of the ~20 each takes); when even that overflows, the backlog is
dropped and the socket is sent one fresh frame of the whole state instead (`resync`), and a socket
that cannot keep up with that either is closed. Memory per socket stays bounded whatever a slow client does.
"""
from __future__ import annotations

import asyncio
import socket
import weakref
from typing import Callable

from aiohttp import WSCloseCode, web

from seatmap.frames import Batch, text_frame
from server.metrics import Metrics

WRITE_BUFFER_HIGH = 64 * 1024      # above this a socket is behind: frames wait in its backlog
WRITE_BUFFER_LOW = 16 * 1024       # ...until its buffer is down to this
MAX_BACKLOG_BYTES = 256 * 1024     # a socket further behind gets a fresh frame instead (bounded memory)
SOCKET_SEND_BUFFER = 128 * 1024    # the kernel's share, fixed: autotuning lets one stalled socket take MBs
DRAIN_POLL_SECONDS = 0.01
SEND_TIMEOUT_SECONDS = 10
MAX_OVERFLOWS_IN_A_ROW = 3
MAX_MESSAGE_BYTES = 64 * 1024      # from the client; a larger one closes the socket (1009)
HEARTBEAT_SECONDS = 25
SOCKETS = web.AppKey("pushed_sockets", weakref.WeakSet)


async def open_socket(request: web.Request) -> web.WebSocketResponse:
    """Upgrade, with the kernel's send buffer fixed, registered for the close on shutdown."""
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, compress=False, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER)
    request.app[SOCKETS].add(ws)
    return ws


class SocketWriter:
    """One socket's outgoing frames (see the module's doc). `resync` makes the fresh frame of the whole
    state that replaces a dropped backlog (None: nothing to send); frames pushed meanwhile are dropped,
    as they are in it."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport, *,
                 resync: Callable[[], bytes | None], metrics: Metrics, user_id: int | None = None):
        self.ws = ws
        self._metrics = metrics
        self.user_id = user_id
        self._transport = transport
        self._resync = resync
        self._backlog: list[bytes] = []
        self._backlog_bytes = 0
        self._writer: asyncio.Task | None = None    # only while behind, or ending
        self._behind = False
        self._overflows = 0
        self._closing_with: tuple[int, bytes] | None = None

    def push(self, frame: bytes) -> None:
        self._send(text_frame(frame))

    def push_batch(self, batch: Batch) -> None:
        self._send(batch.wire)

    def end(self, frame: bytes, code: int, reason: bytes = b"") -> None:
        """A last frame, after the backlog (never dropped for a resync: none is coming), then the
        writer closes the socket with `code` and `reason`."""
        self._behind = False
        wire = text_frame(frame)
        self._backlog.append(wire)
        self._backlog_bytes += len(wire)
        self._closing_with = code, reason
        self._wake()

    async def ended(self) -> None:
        """After `end`: until the last frame has gone and the socket is closed."""
        if self._writer is not None:
            await self._writer

    async def stop(self) -> None:
        """Stop writing (the socket's handler, as it leaves)."""
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)

    def _send(self, wire: bytes) -> None:
        if self._behind or self._transport.is_closing():
            return                              # a fresh frame is coming anyway, or nobody listens
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
        self._wake()

    def _wake(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_behind())

    async def _write_behind(self) -> None:
        """The socket's writer task, from when it fell behind (or is ending) until it has caught up.
        (What is pushed while it runs waits in the backlog, and it looks again.)"""
        try:
            while not self.ws.closed:
                await self._drained()
                if self._behind:
                    if self._overflows >= MAX_OVERFLOWS_IN_A_ROW:
                        await self._drop()
                        return
                    frame = self._resync()
                    self._behind = False        # from here on, frames follow this one
                    if frame is not None:
                        self._backlog.insert(0, text_frame(frame))
                elif not self._backlog:
                    self._overflows = 0         # caught up without overflowing again
                if self._backlog and not self._transport.is_closing():
                    wire, self._backlog, self._backlog_bytes = b"".join(self._backlog), [], 0
                    self._transport.write(wire)        # (and look again once this has drained)
                elif self._closing_with is not None:
                    code, reason = self._closing_with
                    await self.ws.close(code=code, message=reason)
                    return
                else:
                    return                             # caught up: frames go straight out again
        except asyncio.TimeoutError:
            await self._drop()
        except (ConnectionError, RuntimeError):          # the peer went away meanwhile
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")

    async def _drop(self) -> None:
        """Close a socket that does not keep up."""
        self._metrics.slow_socket_dropped()
        await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")

    async def _drained(self) -> None:
        """Until the socket's buffer is low again; only slow sockets ever wait here."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEND_TIMEOUT_SECONDS
        while self._transport.get_write_buffer_size() > WRITE_BUFFER_LOW and not self._transport.is_closing():
            if loop.time() > deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(DRAIN_POLL_SECONDS)


async def close_sockets(app: web.Application) -> None:
    """On shutdown every socket gets a close frame (1001, going away) before the loop stops."""
    await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                           for ws in list(app[SOCKETS])), return_exceptions=True)


def setup(app: web.Application) -> None:
    app[SOCKETS] = weakref.WeakSet()
    app.on_shutdown.append(close_sockets)
