"""The WebSocket seat map: snapshot first, seq-exact deltas, hold/release/snapshot/resume."""
import asyncio
import json

import pytest
from aiohttp import WSMsgType


@pytest.fixture
def settings_overrides(seat_engine_settings):
    """These tests run on the in-process engine and on Redis."""
    return seat_engine_settings


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


@pytest.fixture
async def connect(client):
    opened = []

    async def open_(round_id, token=None):
        path = f"/ws/rounds/{round_id}" + (f"?token={token}" if token else "")
        ws = await client.http.ws_connect(path)
        opened.append(ws)
        return Socket(ws)
    yield open_
    for ws in opened:
        await ws.close()


async def test_snapshot_first_then_deltas_with_mine(client, show, connect):
    token = await client.token()
    watcher = await connect(show["round_id"])
    holder = await connect(show["round_id"], token)
    first = await watcher.next()
    assert first["type"] == "snapshot" and sorted(first["seats"]["available"]) == sorted(show["seat_ids"])
    assert (await holder.next())["type"] == "snapshot"

    s1, s2 = show["seat_ids"][:2]
    await holder.send({"type": "hold", "req": 5, "seat_ids": [s1, s2]})
    result = await holder.next("hold_result")
    assert result["req"] == 5 and result["ok"] is True and result["seat_ids"] == [s1, s2]
    seen = await watcher.next()
    assert seen == {"type": "delta", "round_id": show["round_id"], "seq": first["seq"] + 1,
                    "changes": [[s1, "held"], [s2, "held"]]}
    own = await holder.next("delta")
    assert own["seq"] == first["seq"] + 1 and own["changes"] == [[s1, "mine"], [s2, "mine"]]

    await holder.send({"type": "release", "req": 6, "seat_ids": [s1]})
    assert (await holder.next("hold_result"))["seat_ids"] == [s1]
    assert (await watcher.next()) == {"type": "delta", "round_id": show["round_id"], "seq": first["seq"] + 2,
                                      "changes": [[s1, "available"]]}


async def test_rest_changes_reach_the_socket(client, show, connect):
    watcher = await connect(show["round_id"])
    start = await watcher.next()
    token = await client.token()
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": show["seat_ids"][:1]})
    await client.post("/api/reservations", token=token,
                      json={"round_id": show["round_id"], "seat_ids": show["seat_ids"][:1]})
    held, sold = await watcher.next(), await watcher.next()
    assert (held["seq"], held["changes"]) == (start["seq"] + 1, [[show["seat_ids"][0], "held"]])
    assert (sold["seq"], sold["changes"]) == (start["seq"] + 2, [[show["seat_ids"][0], "sold"]])


async def test_holding_needs_a_token_and_errors_keep_the_socket_open(show, connect):
    socket = await connect(show["round_id"])
    await socket.next()
    await socket.send({"type": "hold", "req": "a", "seat_ids": show["seat_ids"][:1]})
    refused = await socket.next()
    assert refused["type"] == "hold_result" and refused["ok"] is False and refused["error"]["code"] == "unauthorized"
    for bad in ["{not json", json.dumps({"type": "dance"}), json.dumps({"type": "hold", "seat_ids": "x"}), "[]"]:
        await socket.send(bad)
        error = await socket.next()
        assert error["type"] == "error" and error["error"]["code"] == "invalid_request"
    await socket.send({"type": "snapshot"})
    assert (await socket.next())["type"] == "snapshot"


async def test_hold_result_carries_api_errors(client, show, connect):
    a, b = await client.token(), await client.token()
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=a, json={"seat_ids": show["seat_ids"][:1]})
    socket = await connect(show["round_id"], b)
    await socket.next()
    await socket.send({"type": "hold", "req": 1, "seat_ids": show["seat_ids"][:2]})
    result = await socket.next("hold_result")
    assert result["ok"] is False and result["error"]["code"] == "seat_unavailable"
    assert result["error"]["details"]["seat_ids"] == show["seat_ids"][:1]


async def test_resume_replays_what_was_missed(client, show, connect):
    token = await client.token()
    socket = await connect(show["round_id"], token)
    start = (await socket.next())["seq"]
    for seat in show["seat_ids"][:3]:
        await socket.send({"type": "hold", "seat_ids": [seat]})
        await socket.next("hold_result")
    deltas = [await socket.next("delta") for _ in range(3)]
    assert [d["seq"] for d in deltas] == [start + 1, start + 2, start + 3]
    await socket.send({"type": "resume", "seq": start + 1})
    assert [await socket.next() for _ in range(2)] == deltas[1:]
    await socket.send({"type": "resume", "seq": start - 5000})          # not kept: a snapshot
    snapshot = await socket.next()
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == start + 3
    assert sorted(snapshot["seats"]["mine"]) == sorted(show["seat_ids"][:3])


async def test_unknown_round_is_404_before_the_upgrade(client):
    reply = await client.get("/ws/rounds/999999")
    assert reply.status == 404 and reply.error_code() == "not_found"


async def test_shutdown_sends_a_close_frame(client, show, connect):
    socket = await connect(show["round_id"])
    await socket.next()
    await client.http.server.close()
    message = await asyncio.wait_for(socket.ws.receive(), 5)
    assert message.type == WSMsgType.CLOSE and message.data == 1001 and message.extra == "server shutdown"
