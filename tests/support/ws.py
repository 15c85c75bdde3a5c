"""Seat-map WebSocket clients: `Socket`, which hands a test the frames it asks for, and `LiveViewer`,
which behaves as the page does: it applies the snapshot, then deltas whose seq follows exactly, and
asks for a fresh snapshot when it sees a gap. Tests compare its map with the REST snapshot and its
delta stream with other viewers'. (Bare sockets over TCP are in tests/support/raw_ws.py.)"""
from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import WSMsgType


class Socket:
    """A client socket; `next(type)` takes the first frame of that type, keeping the others in order."""

    def __init__(self, ws):
        self.ws = ws
        self.kept: list[dict] = []

    async def next(self, type_: str | None = None) -> dict:
        for i, frame in enumerate(self.kept):
            if type_ is None or frame["type"] == type_:
                return self.kept.pop(i)
        while True:
            message = await asyncio.wait_for(self.ws.receive(), 5)
            assert message.type == WSMsgType.TEXT, message
            frame = json.loads(message.data)
            if type_ is None or frame["type"] == type_:
                return frame
            self.kept.append(frame)

    async def send(self, frame) -> None:
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))


class LiveViewer:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.seq: int | None = None
        self.states: dict[int, str] = {}
        self.deltas: list[tuple[int, list]] = []     # (seq, changes), as applied
        self.snapshots = 0
        self.gaps = 0
        self.closed_with: int | None = None
        self.results: dict[object, dict] = {}         # hold_result frames by req
        self._reqs = 0
        self._progress = asyncio.Condition()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, http, round_id: int, token: str | None = None) -> "LiveViewer":
        """`http`: an aiohttp ClientSession with a base_url, or a test client."""
        path = f"/ws/rounds/{round_id}" + (f"?token={token}" if token else "")
        viewer = cls(await http.ws_connect(path))
        await viewer.until(lambda v: v.seq is not None)
        return viewer

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame["type"] == "snapshot":
                self.snapshots += 1
                self.seq = frame["seq"]
                self.states = {seat: state for state, seats in frame["seats"].items() for seat in seats}
            elif frame["type"] == "hold_result":
                self.results[frame["req"]] = frame
            elif frame["type"] == "delta" and self.seq is not None and frame["seq"] > self.seq:
                if frame["seq"] != self.seq + 1:
                    self.gaps += 1                       # our copy is stale: start again from a snapshot
                    await self.ws.send_str('{"type": "snapshot"}')
                    continue
                self.seq = frame["seq"]
                self.states.update((seat, state) for seat, state in frame["changes"])
                self.deltas.append((frame["seq"], frame["changes"]))
            async with self._progress:
                self._progress.notify_all()
        self.closed_with = self.ws.close_code
        async with self._progress:
            self._progress.notify_all()

    async def until(self, condition, timeout: float = 10) -> None:
        try:
            async with self._progress:
                await asyncio.wait_for(self._progress.wait_for(lambda: condition(self) or self._task.done()),
                                       timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"not reached in {timeout}s; at seq {self.seq}, {self.snapshots} snapshots, "
                                 f"{self.gaps} gaps, {len(self.deltas)} deltas") from None
        if not condition(self):
            raise AssertionError(f"socket closed ({self.closed_with}) before the condition held")

    async def until_seq(self, seq: int, timeout: float = 10) -> None:
        await self.until(lambda v: v.seq is not None and v.seq >= seq, timeout)  # seq {seq}

    async def command(self, type_: str, seat_ids: list[int]) -> dict:
        """Send a hold or release and wait for its hold_result."""
        self._reqs += 1
        req = self._reqs
        await self.ws.send_json({"type": type_, "req": req, "seat_ids": seat_ids})
        await self.until(lambda v: req in v.results)
        return self.results.pop(req)

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._task, return_exceptions=True)


def rest_states(seats_reply: dict) -> dict[int, str]:
    """`GET /api/rounds/{id}/seats` as {seat_id: status}, the shape LiveViewer.states has."""
    return {seat["id"]: seat["status"] for seat in seats_reply["seats"]}
