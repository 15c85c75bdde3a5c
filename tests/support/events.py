"""A client's view of `GET /api/events`: the server-sent event stream read as events and comments."""
from __future__ import annotations

import asyncio
import json

import aiohttp


class Stream:
    """A client's view of one event stream: events as dicts, comments as strings."""

    def __init__(self, response: aiohttp.ClientResponse):
        self.response = response

    async def next(self, timeout: float = 10.0) -> dict | str:
        fields: dict = {}
        while True:
            line = (await asyncio.wait_for(self.response.content.readline(), timeout)).decode()
            if not line:
                raise EOFError("the stream ended")
            line = line.rstrip("\n")
            if line.startswith(":"):
                return line
            if not line:
                if fields:
                    return fields
                continue
            name, _, value = line.partition(": ")
            fields[name] = json.loads(value) if name == "data" else int(value) if name == "id" else value

    async def events(self, count: int, timeout: float = 10.0) -> list[dict]:
        """The next `count` events, skipping heartbeats."""
        found = []
        while len(found) < count:
            item = await self.next(timeout)
            if isinstance(item, dict):
                found.append(item)
        return found


async def open_stream(client, token: str | None = None, *, path: str = "/api/events", headers=None) -> Stream:
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.http.get(path, headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return Stream(response)
