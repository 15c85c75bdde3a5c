"""A real server process's log (access log at INFO included) never holds an access token, though
WebSocket and SSE clients send theirs in the query string."""
from __future__ import annotations

import aiohttp

from tests.support.api import ApiClient
from tests.support.factories import make_round
from tests.support.instances import ServerProcess


async def test_query_tokens_are_redacted_in_every_log_line(tmp_path):
    server = ServerProcess(tmp_path, log_level="INFO", admin_signup_key="test-admin-key").start()
    try:
        await server.wait_ready()
        async with aiohttp.ClientSession(server.url) as http:
            api = ApiClient(http)     # type: ignore[arg-type]
            show = await make_round(api, await api.token(admin=True))
            token = await api.token()
            async with http.ws_connect(f"/ws/rounds/{show['round_id']}?token={token}") as ws:
                assert (await ws.receive_json())["type"] == "snapshot"
            async with http.get(f"/api/events?last_event_id=0&token={token}") as events:
                assert events.status == 200
            async with http.get(f"/api/events?access_token={token}&token=not-a-jwt") as refused:
                assert refused.status == 401
    finally:
        assert server.stop() == 0
    log = server.log_path.read_text()
    assert "GET /ws/rounds/" in log and "GET /api/events?" in log          # the access log is there...
    assert token not in log and "not-a-jwt" not in log                      # ...without the tokens
    assert log.count("token=[redacted]") >= 3


async def test_start_up_ends_with_the_address_it_listens_on_and_keeps_chatter_for_debug(tmp_path):
    logs = {}
    for level in ("INFO", "DEBUG"):
        server = ServerProcess(tmp_path / level, log_level=level).start()
        try:
            await server.wait_ready()
        finally:
            assert server.stop() == 0
        logs[level] = server.log_path.read_text().splitlines()
        first_request = next(i for i, line in enumerate(logs[level]) if "aiohttp.access" in line)
        start_up = [line for line in logs[level][:first_request] if " DEBUG " not in line]
        listening = [line for line in start_up if "listening on" in line]
        assert listening == [start_up[-1]] and start_up[-1].endswith(f"listening on {server.url}")
    info = logs["INFO"]
    assert not [line for line in info if "alembic.runtime.plugins" in line or "Context impl" in line
                or "starting with" in line]
    assert [line for line in info if "http://" in line and "aiohttp.access" not in line] == [
        line for line in info if "listening on" in line]                       # no other address, as if ours
    assert any("Running upgrade" in line and " INFO " in line for line in info)   # what changed is still said
    debug = logs["DEBUG"]
    assert any(" DEBUG alembic.runtime.plugins: setup plugin" in line for line in debug)
    assert any(" DEBUG server: starting with {" in line for line in debug)
