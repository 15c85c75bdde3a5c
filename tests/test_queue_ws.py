"""The waiting room's socket: the place at once, the position as it moves, the admission when it
comes; closed to strangers; a sign of life that keeps the place."""
from __future__ import annotations

import aiohttp
import pytest

from tests.support.waiting import queued, set_sale


@pytest.fixture
def settings_overrides(seat_engine_settings):
    return {**seat_engine_settings, "waiting_room_step_seconds": 0.05}


async def frames_until(ws, condition, timeout=10):
    """Frames received until one meets `condition` (that one last)."""
    seen = []
    while True:
        frame = await ws.receive_json(timeout=timeout)
        seen.append(frame)
        if condition(frame):
            return seen


async def test_a_waiting_user_hears_their_place_move_and_their_admission(client, show):
    admin, round_id = show["admin"], show["round_id"]
    first, second = await queued(client, admin, round_id, 2, opens_in=3600, max_active=1)
    sockets = {token: await client.http.ws_connect(f"/ws/rounds/{round_id}/queue?token={token}")
               for token in (first, second)}
    for ws in sockets.values():
        frame = await ws.receive_json(timeout=10)
        assert (frame["type"], frame["status"], frame["position"]) == ("queue", "waiting", None)
        assert frame["opens_at"] and frame["server_time"]
        again = await ws.receive_json(timeout=5)                 # at least every 2 s while waiting
        assert again["status"] == "waiting"
    await set_sale(client, admin, round_id, 0)
    inside = outside = None
    for token, ws in sockets.items():
        last = (await frames_until(ws, lambda f: f["status"] == "admitted" or f["serving"] == 1))[-1]
        if last["status"] == "admitted":
            inside = token
            assert last["admitted_until"] is not None
        else:
            outside = token
            assert (last["position"], last["ahead"]) == (1, 0) and last["eta_seconds"] is not None
    assert inside and outside
    assert (await client.delete(f"/api/rounds/{round_id}/queue", token=inside)).status == 204
    admitted = (await frames_until(sockets[outside], lambda f: f["status"] == "admitted"))[-1]
    assert admitted["position"] is None and admitted["admitted_until"]
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=outside,
                              json={"seat_ids": show["seat_ids"][:1]})).status == 200
    for ws in sockets.values():
        await ws.close()


async def test_the_queue_socket_is_for_signed_in_users_of_a_round_that_exists(client, show):
    for path in (f"/ws/rounds/{show['round_id']}/queue", f"/ws/rounds/{show['round_id']}/queue?token=nonsense"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.http.ws_connect(path)
        assert refused.value.status == 401
    token = await client.token()
    with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
        await client.http.ws_connect(f"/ws/rounds/999999/queue?token={token}")
    assert missing.value.status == 404


async def test_an_open_socket_keeps_the_place_of_a_user_who_never_looks_again(client, show):
    admin, round_id = show["admin"], show["round_id"]
    tokens = await queued(client, admin, round_id, 2, opens_in=3600, max_active=1)
    ws = await client.http.ws_connect(f"/ws/rounds/{round_id}/queue?token={tokens[1]}")
    await ws.receive_json(timeout=10)
    room = await client.get(f"/api/rounds/{round_id}/waiting-room", token=admin)
    assert room.json["waiting"] == 2
    await ws.close()


async def test_a_socket_hears_what_another_tab_did_to_the_place(client, show):
    admin, round_id = show["admin"], show["round_id"]
    user, = await queued(client, admin, round_id, 1, max_active=1)
    ws = await client.http.ws_connect(f"/ws/rounds/{round_id}/queue?token={user}")
    await frames_until(ws, lambda f: f["status"] == "admitted")
    assert (await client.delete(f"/api/rounds/{round_id}/queue", token=user)).status == 204     # another tab
    await frames_until(ws, lambda f: f["status"] == "none")
    assert (await client.post(f"/api/rounds/{round_id}/queue", token=user)).status == 200      # and back
    await frames_until(ws, lambda f: f["status"] == "admitted")
    await ws.close()
