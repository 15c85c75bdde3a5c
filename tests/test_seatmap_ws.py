"""The WebSocket seat map: snapshot first, seq-exact deltas, hold/release/snapshot/resume."""
import asyncio
import json

import pytest
from aiohttp import WSMsgType

from server.app import create_app
from server.wiring import SEAT_ENGINE
from tests.support.api import ApiClient, full_width
from tests.support.raw_ws import RawSocket
from tests.support.ws import Socket


@pytest.fixture
def settings_overrides(request, seat_engine_settings):
    """These tests run on the in-process engine and on Redis (plus what a test parametrizes)."""
    return {**seat_engine_settings, **getattr(request, "param", {})}


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


async def test_a_round_id_of_other_digits_than_ascii_is_404_before_the_upgrade(client, show):
    for raw in ("²", "①", full_width(show["round_id"]), "٣"):
        reply = await client.get(f"/ws/rounds/{raw}")
        assert (reply.status, reply.error_code()) == (404, "not_found"), (raw, reply.status)


async def test_deleting_the_round_tells_its_sockets_and_closes_them(client, show, connect):
    token = await client.token()
    watcher, holder = await connect(show["round_id"]), await connect(show["round_id"], token)
    await watcher.next("snapshot")
    await holder.next("snapshot")
    await holder.send({"type": "hold", "req": 1, "seat_ids": show["seat_ids"][:1]})
    assert (await holder.next("hold_result"))["ok"]
    assert (await client.delete(f"/api/rounds/{show['round_id']}", token=show["admin"])).status == 204
    for socket in (watcher, holder):
        assert await socket.next("round_deleted") == {"type": "round_deleted", "round_id": show["round_id"]}
        closing = await asyncio.wait_for(socket.ws.receive(), 5)
        assert (closing.type, closing.data, closing.extra) == (WSMsgType.CLOSE, 4404, "round deleted")
    again = await client.get(f"/ws/rounds/{show['round_id']}")
    assert again.status == 404


@pytest.mark.parametrize("seat_engine_settings", ["redis", "cluster"], indirect=True)    # two instances share Redis
async def test_a_socket_opened_where_the_deleted_round_is_still_cached_is_told_and_closed(
        client, aiohttp_client, settings, show):
    other = ApiClient(await aiohttp_client(create_app(settings)))        # a second instance, same backends
    assert (await client.get(f"/api/rounds/{show['round_id']}/seats")).status == 200   # cached here
    assert (await other.delete(f"/api/rounds/{show['round_id']}", token=show["admin"])).status == 204
    ws = await client.http.ws_connect(f"/ws/rounds/{show['round_id']}")
    assert await ws.receive_json(timeout=5) == {"type": "round_deleted", "round_id": show["round_id"]}
    closing = await ws.receive(timeout=5)
    assert (closing.type, closing.data) == (WSMsgType.CLOSE, 4404)


async def test_shutdown_sends_a_close_frame(client, show, connect):
    socket = await connect(show["round_id"])
    await socket.next()
    await client.http.server.close()
    message = await asyncio.wait_for(socket.ws.receive(), 5)
    assert message.type == WSMsgType.CLOSE and message.data == 1001 and message.extra == "server shutdown"


@pytest.mark.parametrize("settings_overrides", [{"hold_seconds": 1}], indirect=True)
async def test_an_expired_hold_comes_back_to_every_viewer(client, show, connect):
    """End to end: the background sweeper expires the hold and the delta reaches the sockets."""
    token = await client.token()
    watcher, holder = await connect(show["round_id"]), await connect(show["round_id"], token)
    start = await watcher.next("snapshot")
    await holder.next("snapshot")
    seat = show["seat_ids"][0]
    await holder.send({"type": "hold", "req": 1, "seat_ids": [seat]})
    assert (await holder.next("hold_result"))["ok"]
    assert (await watcher.next("delta"))["changes"] == [[seat, "held"]]
    expired = await watcher.next("delta")                  # about a second later, from the sweeper
    assert expired == {"type": "delta", "round_id": show["round_id"], "seq": start["seq"] + 2,
                       "changes": [[seat, "available"]]}
    assert (await holder.next("delta"))["changes"] == [[seat, "mine"]]
    assert (await holder.next("delta"))["changes"] == [[seat, "available"]]


async def test_sockets_that_keep_up_have_no_writer_task(client, show, connect):
    """Frames go straight out while a socket keeps up; only one that falls behind gets a task to drain
    its backlog (an idle task per socket is ~1.2 KiB of the ~20 KiB a viewer takes)."""
    def writer_tasks() -> int:
        return sum("SocketWriter" in task.get_coro().__qualname__ for task in asyncio.all_tasks())

    viewers = [await connect(show["round_id"]) for _ in range(10)]
    for viewer in viewers:
        assert (await viewer.next())["type"] == "snapshot"
    token = await client.token()
    await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": show["seat_ids"][:1]})
    for viewer in viewers:
        assert (await viewer.next())["changes"] == [[show["seat_ids"][0], "held"]]
    assert writer_tasks() == 0


@pytest.mark.parametrize("seat_engine_settings", [{}])    # the in-process engine is fast enough to flood it
async def test_a_viewer_that_stops_reading_gets_a_snapshot_instead_of_a_backlog(client, show):
    """Memory stays bounded: what a stalled socket missed is dropped, not queued, and once it reads
    again it is sent one fresh snapshot and then seq-exact deltas."""
    round_id, seat = show["round_id"], show["seat_ids"][0]
    engine = client.http.server.app[SEAT_ENGINE]
    stalled = await RawSocket.connect(client.http.port, f"/ws/rounds/{round_id}", receive_buffer=4096)
    assert (await stalled.next_frame())["type"] == "snapshot"
    changes = 40_000                                  # ~2.8 MB of frames, ten times the backlog limit
    for _ in range(changes // 2):
        await engine.block(round_id, [seat])
        await engine.unblock(round_id, [seat])
        await asyncio.sleep(0)                        # let the hub send as it would between requests
    final = (await engine.snapshot(round_id)).seq

    frames = [await stalled.next_frame()]
    while frames[-1].get("seq") != final:
        assert frames[-1]["type"] in ("snapshot", "delta"), frames[-1]
        frames.append(await stalled.next_frame())
    stalled.close()
    snapshots = [i for i, f in enumerate(frames) if f["type"] == "snapshot"]
    assert snapshots, ("the stalled socket was never resynced", len(frames), frames[:2], frames[-1])
    assert len(frames) < changes / 4                  # the backlog was dropped, not delivered late
    after = frames[snapshots[-1]:]
    assert [f["seq"] for f in after] == list(range(after[0]["seq"], final + 1))


@pytest.mark.parametrize("settings_overrides", [{"hold_seconds": 1}], indirect=True)
async def test_the_holder_is_told_over_sse_when_a_hold_expires(client, show):
    token = await client.token()
    seat = show["seat_ids"][0]
    async with client.http.get(f"/api/events?token={token}") as events:
        assert events.status == 200
        held = await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": [seat]})
        assert held.status == 200
        async with asyncio.timeout(10):
            while (line := (await events.content.readline()).decode().strip()) != "event: hold.expired":
                assert line != "" or not events.content.at_eof()
            data = (await events.content.readline()).decode()
    assert json.loads(data.removeprefix("data:")) == {"round_id": show["round_id"], "seat_ids": [seat],
                                                      "message": "좌석 선점 시간이 끝났습니다"}   # (a Korean account)
