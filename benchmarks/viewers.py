"""A load-generator process for benchmarks/fanout: COUNT seat-map viewers that only count what
they receive, so that thousands of them cost the generator little.

    python -m benchmarks.viewers PORT ROUND_ID COUNT

Prints `ready <open sockets>` once connected, then answers each `report` line on stdin with a JSON
line {"open", "bytes"}; exits on `quit` or end of input.
"""
from __future__ import annotations

import asyncio
import json
import sys

from tests.support.raw_ws import upgrade_request

CONNECTING_AT_ONCE = 200


class CountingViewer(asyncio.Protocol):
    def __init__(self, path: str):
        self.path = path
        self.bytes = 0
        self.open = False
        self.upgraded = asyncio.get_running_loop().create_future()
        self._head = b""

    def connection_made(self, transport) -> None:
        self.open = True
        transport.write(upgrade_request(self.path))

    def data_received(self, data: bytes) -> None:
        if not self.upgraded.done():
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.upgraded.set_result(self._head.startswith(b"HTTP/1.1 101"))
            data, self._head = self._head[end + 4:], b""
        self.bytes += len(data)

    def connection_lost(self, exc) -> None:
        self.open = False
        if not self.upgraded.done():
            self.upgraded.set_result(False)


async def main(port: int, round_id: int, count: int) -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    viewers: list[CountingViewer] = []

    async def connect() -> None:
        async with gate:
            _, viewer = await loop.create_connection(lambda: CountingViewer(f"/ws/rounds/{round_id}"),
                                                     "127.0.0.1", port)
            viewers.append(viewer)
            await viewer.upgraded
    await asyncio.gather(*(connect() for _ in range(count)))
    print("ready", sum(v.open for v in viewers), flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).strip():
        if line == b"quit":
            break
        print(json.dumps({"open": sum(v.open for v in viewers), "bytes": sum(v.bytes for v in viewers)}),
              flush=True)


if __name__ == "__main__":
    asyncio.run(main(*map(int, sys.argv[1:4])))
