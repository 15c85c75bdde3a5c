"""Waiting users' queue sockets (`/ws/rounds/{id}/queue`), cheap enough for thousands in one process:
each frame is timed from its `server_time` to its arrival (the same machine's clock), and the socket
says when its user's wait is over (admitted, or closed). Used by benchmarks/queue (this module's
command) and by the waiting-room race (benchmarks/loadgen.py).

    python -m benchmarks.queue_watchers < SPEC

SPEC, the first line of stdin: {"port", "round_id", "tokens": [...], "source": "127.0.0.x"}; one
socket per token, from that loopback source address (so that many processes do not run out of
ephemeral ports). Prints `ready <open sockets>` once connected; then reads commands on stdin: `mark`
starts the measurement afresh, `report` answers one JSON line (see `Tally.report`), `quit` ends.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from datetime import datetime

from tests.support.raw_ws import split_frames, upgrade_request

CONNECTING_AT_ONCE = 200
# A waiting socket hears its position at least every 2 s (docs/websocket.md); over 3 s it missed a beat.
QUIET_LIMITS_SECONDS = (2, 3)
SETTLED = ("admitted", "closed")


def pong_frame(payload: bytes) -> bytes:
    """A client's pong (RFC 6455 5.5.3), masked as client frames must be, with a zero mask: the bytes stay
    as they are. A ping's payload is at most 125 bytes."""
    return bytes((0x8A, 0x80 | len(payload))) + bytes(4) + payload


class Tally:
    """What the sockets of one process received since the last `mark`."""

    def __init__(self):
        self.since = time.time()
        self.frames = 0
        self.waiting_frames = 0                    # frames telling a waiting user their position
        self.latency_ms: Counter = Counter()       # rounded to 0.1 ms: mergeable across processes
        self.server_times: set[str] = set()        # a tick's frames share theirs: one per tick

    def report(self, sockets: list["QueueSocket"]) -> dict:
        now = time.time()
        quiet = [s.longest_quiet(now) for s in sockets if s.open]
        return {"open": sum(s.open for s in sockets), "frames": self.frames, "seconds": now - self.since,
                "waiting_frames": self.waiting_frames, "waiting_seconds": sum(s.waited(now) for s in sockets),
                "latency_ms": list(self.latency_ms.items()), "server_times": sorted(self.server_times),
                "quiet_over": {limit: sum(q > limit for q in quiet) for limit in QUIET_LIMITS_SECONDS},
                "longest_quiet_s": max(quiet, default=0),
                "statuses": Counter(s.status for s in sockets)}


class QueueSocket(asyncio.Protocol):
    def __init__(self, path: str, tally: Tally):
        self.path = path
        self.tally = tally
        self.open = False
        self.status: str | None = None
        self.upgraded = asyncio.get_running_loop().create_future()
        self.heard = asyncio.get_running_loop().create_future()     # the place, told at once on connect
        # The first admitted or closed frame; None if the socket closed before.
        self.settled = asyncio.get_running_loop().create_future()
        self._buffer = b""
        self._last_at: float | None = None        # of the last frame, and the longest quiet spell while waiting
        self._longest_quiet = 0.0
        self._waited = 0.0                         # seconds spent waiting since the tally's mark
        self._transport = None

    def connection_made(self, transport) -> None:
        self.open, self._transport = True, transport
        transport.write(upgrade_request(self.path))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buffer += data
        if not self.upgraded.done():
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.upgraded.set_result(self._buffer.startswith(b"HTTP/1.1 101"))
            self._buffer = self._buffer[end + 4:]
        frames, self._buffer = split_frames(self._buffer)
        for opcode, payload in frames:
            if opcode == 0x1:
                self._frame(json.loads(payload), now)
            elif opcode == 0x9:        # the server's heartbeat: a browser answers it, or the server hangs up
                self._transport.write(pong_frame(payload))

    def _frame(self, frame: dict, now: float) -> None:
        tally = self.tally
        if self.status == "waiting" and self._last_at is not None:
            quiet = now - max(self._last_at, tally.since)
            self._longest_quiet = max(self._longest_quiet, quiet)
            self._waited += quiet
        self.status, self._last_at = frame["status"], now
        tally.frames += 1
        tally.waiting_frames += self.status == "waiting"
        tally.latency_ms[round((now - datetime.fromisoformat(frame["server_time"]).timestamp()) * 1000, 1)] += 1
        tally.server_times.add(frame["server_time"])
        if not self.heard.done():
            self.heard.set_result(True)
        if self.status in SETTLED and not self.settled.done():
            self.settled.set_result(frame)

    def longest_quiet(self, now: float) -> float:
        """The longest spell without a frame while waiting, since the tally's mark (up to now)."""
        return max(self._longest_quiet, self._waiting_for(now))

    def waited(self, now: float) -> float:
        """Seconds spent waiting since the tally's mark (up to now)."""
        return self._waited + self._waiting_for(now)

    def _waiting_for(self, now: float) -> float:
        if self.status != "waiting" or self._last_at is None or not self.open:
            return 0.0
        return now - max(self._last_at, self.tally.since)

    def reset(self) -> None:
        self._longest_quiet = self._waited = 0.0

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc) -> None:
        self.open = False
        for future in (self.upgraded, self.heard):
            if not future.done():
                future.set_result(False)
        if not self.settled.done():
            self.settled.set_result(None)


async def watch(host: str, port: int, round_id: int, token: str, tally: Tally, source: str | None = None) -> QueueSocket:
    """One user's queue socket, once it heard the user's place (ConnectionError if the server refused or
    closed it first)."""
    _, sock = await asyncio.get_running_loop().create_connection(
        lambda: QueueSocket(f"/ws/rounds/{round_id}/queue?token={token}", tally), host, port,
        local_addr=(source, 0) if source else None)
    if not await sock.upgraded:
        raise ConnectionError("the queue socket was refused")
    if not await sock.heard:
        raise ConnectionError("the queue socket closed before it told the place")
    return sock


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)          # the spec carries thousands of tokens
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    spec = json.loads(await reader.readline())
    tally = Tally()
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def connect(token: str) -> QueueSocket | None:
        async with gate:
            try:
                return await watch("127.0.0.1", spec["port"], spec["round_id"], token, tally, spec.get("source"))
            except (ConnectionError, OSError):
                return None
    sockets = [s for s in await asyncio.gather(*(connect(t) for t in spec["tokens"])) if s is not None]
    print("ready", sum(s.open for s in sockets), flush=True)
    while line := (await reader.readline()).strip():
        if line == b"quit":
            break
        if line == b"mark":
            tally = Tally()
            for s in sockets:
                s.tally = tally
                s.reset()
        elif line == b"report":
            print(json.dumps(tally.report(sockets)), flush=True)
    for s in sockets:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
