"""A bare WebSocket client over a plain socket, for what aiohttp's client hides: a reader that
does not read (a slow viewer), and thousands of cheap viewers in the benchmarks (whose viewer
processes import it: the standard library only)."""
from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections import deque

KEY = "dGhlIHNhbXBsZSBub25jZQ=="      # any 16 bytes, base64; the server's answer is not checked here


def upgrade_request(path: str, host: str = "127.0.0.1") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


def split_frames(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Complete server frames (opcode, payload) at the start of `buffer`, and what is left."""
    frames, i = [], 0
    while len(buffer) - i >= 2:
        opcode, n = buffer[i] & 0x0F, buffer[i + 1] & 0x7F
        head = 2
        if n == 126:
            if len(buffer) - i < 4:
                break
            n, head = struct.unpack_from("!H", buffer, i + 2)[0], 4
        elif n == 127:
            if len(buffer) - i < 10:
                break
            n, head = struct.unpack_from("!Q", buffer, i + 2)[0], 10
        if len(buffer) - i < head + n:
            break
        frames.append((opcode, buffer[i + head:i + head + n]))
        i += head + n
    return frames, buffer[i:]


class RawSocket:
    """One connection; `next_frame()` reads as far as the next text or close frame."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self._rest = b""
        self._frames: deque[tuple[int, bytes]] = deque()

    @classmethod
    async def connect(cls, port: int, path: str, *, receive_buffer: int | None = None) -> "RawSocket":
        sock = socket.socket()
        if receive_buffer:          # before connecting, so the TCP window starts small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        # The stream stops reading the socket when its buffer passes twice `limit`: a small receive
        # buffer must mean a small limit too, or the "stalled" reader would swallow megabytes.
        reader, writer = await asyncio.open_connection(sock=sock, limit=receive_buffer or 1 << 22)
        writer.write(upgrade_request(path))
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def next_frame(self, timeout: float = 10) -> dict:
        while True:
            while self._frames:
                opcode, payload = self._frames.popleft()
                if opcode == 0x1:
                    return json.loads(payload)
                if opcode == 0x8:
                    return {"type": "close", "code": struct.unpack("!H", payload[:2])[0] if payload else None}
            chunk = await asyncio.wait_for(self.reader.read(1 << 20), timeout)
            if not chunk:
                return {"type": "eof"}
            frames, self._rest = split_frames(self._rest + chunk)
            self._frames.extend(frames)

    def close(self) -> None:
        self.writer.close()
