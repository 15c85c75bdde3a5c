"""A real server process's log (access log at INFO included) never holds an access token, though
WebSocket and SSE clients send theirs in the query string; it says where it listens; in JSON it is
one object per line, and every line written for a request, or for delivering what the request
enqueued, carries the request's id (which the response also says)."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import re

import aiohttp

from server import request_ids
from server.background import Background
from server.kept_reads import KeptReads
from server.logs import prepare
from tests.support.api import ApiClient, eventually
from tests.support.factories import make_round, reserve
from tests.support.instances import ServerProcess
from tests.support.peers.toss import checkout

MADE_ID = re.compile(r"[0-9a-f]{32}")


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
    assert re.search(r" INFO aiohttp\.access \[[0-9a-f]{32}\]: .*GET /api/events\?", log)   # the request's id


async def test_start_up_names_its_event_loop_ends_with_the_address_it_listens_on_and_keeps_chatter_for_debug(
        tmp_path):
    logs = {}
    loops = {"INFO": "uvloop", "DEBUG": "asyncio"}           # (and the event loop each runs on)
    for level in ("INFO", "DEBUG"):
        server = ServerProcess(tmp_path / level, log_level=level, event_loop=loops[level]).start()
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
    assert any(line.endswith(" INFO server.http_server: event loop: uvloop.Loop") for line in info)
    debug = logs["DEBUG"]
    assert any(" INFO server.http_server: event loop: asyncio.unix_events._UnixSelectorEventLoop" in line
               for line in debug)
    assert any(" DEBUG alembic.runtime.plugins: setup plugin" in line for line in debug)
    assert any(" DEBUG server: starting with {" in line for line in debug)


async def test_json_lines_carry_the_request_id_from_the_request_to_its_mail(tmp_path):
    server = ServerProcess(tmp_path, log_level="INFO", log_format="json", admin_signup_key="test-admin-key").start()
    try:
        await server.wait_ready()
        async with aiohttp.ClientSession(server.url) as http:
            api = ApiClient(http)     # type: ignore[arg-type]
            show = await make_round(api, await api.token(admin=True))
            token = await api.token()
            reservation = await reserve(api, show, token)
            payment_key, _ = await checkout(api, reservation["amount"], reservation["order_id"])
            confirmed = await api.post("/api/payments/confirm", token=token, headers={"X-Request-Id": "pay-7.a:b_c"},
                                       json={"payment_key": payment_key, "order_id": reservation["order_id"],
                                             "amount": reservation["amount"]})
            assert confirmed.status == 200 and confirmed.headers["X-Request-Id"] == "pay-7.a:b_c"
            for insane in ("two words", "x" * 65, "-starts-with-a-dash", "ünicode"):
                refused = await api.get("/api/no-such-thing", headers={"X-Request-Id": insane})
                assert refused.status == 404 and MADE_ID.fullmatch(refused.headers["X-Request-Id"]), insane
            made = refused.headers["X-Request-Id"]
            async with http.get(f"/api/events?token={token}&last_event_id=0") as events:
                assert events.status == 200 and MADE_ID.fullmatch(events.headers["X-Request-Id"])

            def lines() -> list[dict]:
                return [json.loads(line) for line in server.log_path.read_text().splitlines()]
            mails = await eventually(lambda: [e for e in lines() if e["message"].startswith("mail to ")])
    finally:
        assert server.stop() == 0
    entries = lines()                   # every line is one JSON object: json.loads took each
    assert all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", e["time"]) for e in entries)
    listening = next(e for e in entries if e["message"].startswith("listening on"))
    assert listening["level"] == "INFO" and listening["request_id"] is None
    access = {e["request_id"]: e["message"] for e in entries if e["logger"] == "aiohttp.access"}
    assert "POST /api/payments/confirm" in access["pay-7.a:b_c"] and "GET /api/no-such-thing" in access[made]
    assert "token=[redacted]" in next(m for m in access.values() if "/api/events" in m) and token not in str(entries)
    # The confirmation mail was delivered by the outbox's dispatcher, outside any request: it carries
    # the id of the request that confirmed the payment.
    assert [m["request_id"] for m in mails] == ["pay-7.a:b_c"] and mails[0]["logger"] == "server.notify.mail"


async def test_a_json_line_holds_the_exception_redacted_and_the_id_of_its_request():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    prepare(handler, "INFO", "json")
    log = logging.getLogger("tests.logs.json")
    log.addHandler(handler)

    async def handle_a_request() -> None:
        request_ids.REQUEST_ID.set("req-42")
        try:
            raise ValueError("bad call to /ws/rounds/1?token=eyJ.secret.sig")
        except ValueError:
            log.exception("failed on %s", "/api/events?access_token=eyJ.other.sig")
    try:
        await asyncio.create_task(handle_a_request())      # a task: its context, as a request's
        log.warning("outside any request\nsecond line")
    finally:
        log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["level"] == "ERROR" and inside["logger"] == "tests.logs.json" and inside["request_id"] == "req-42"
    assert inside["message"] == "failed on /api/events?access_token=[redacted]"
    assert "Traceback" in inside["exception"] and "ValueError: bad call to /ws/rounds/1?token=[redacted]" in inside["exception"]
    assert "secret" not in stream.getvalue() and "other" not in stream.getvalue()
    assert outside["request_id"] is None and outside["message"] == "outside any request\nsecond line"
    assert "exception" not in outside


async def test_work_a_request_starts_for_everyone_does_not_carry_its_id():
    # A listener loop or a shared read that one request happens to start serves every request after
    # it: its log lines name none of them. The request's own tasks keep its id.
    seen: dict[str, str | None] = {}
    listening = asyncio.Event()

    async def listener(stopping: asyncio.Event) -> None:
        seen["listener"] = request_ids.current()
        listening.set()
        await stopping.wait()

    async def read(key: str) -> str:
        seen["shared read"] = request_ids.current()
        return key

    async def own() -> None:
        seen["own task"] = request_ids.current()

    loops, reads = Background(), KeptReads(read, ttl_seconds=60)

    async def handle_a_request() -> None:
        request_ids.REQUEST_ID.set("req-1")
        loops.spawn("listener", listener)
        assert await reads.get("round") == "round"
        await asyncio.create_task(own())
        await listening.wait()
    try:
        await asyncio.create_task(handle_a_request())
    finally:
        await loops.stop()
    assert seen == {"listener": None, "shared read": None, "own task": "req-1"}
