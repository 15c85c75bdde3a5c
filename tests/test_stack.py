"""The production topology, natively (scripts/stack): everything through nginx only.

A buyer signs up, watches a round over WebSockets held through nginx to each instance, holds a seat
(nginx's X-Upstream header says which instance served it) and sees the delta on the socket held by
the other instance, pays, and receives the SSE event through the proxy; then Prometheus's own HTTP
API shows both instances scraped. The stack runs on the suite's backends (scripts/test started them:
reused, never stopped) with its data apart from the tests'.
"""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import aiohttp
import pytest

from tests.support.api import ADMIN_KEY, MANY_ACCOUNTS, ApiClient, eventually
from tests.support.events import open_stream
from tests.support.factories import make_round, pay
from tests.support.ws import LiveViewer

ROOT = Path(__file__).resolve().parents[1]
# nginx on this port, the instances on the next two, Prometheus on +9 (scripts/stack.py); beside the
# suite's backends (1xxxx) and scripts/run's 8080.
STACK_PORT = int(os.environ.get("TB_STACK_PORT", "18100"))
CHEAP_ACCOUNTS = {"TICKETBLUE_ADMIN_SIGNUP_KEY": ADMIN_KEY, "TICKETBLUE_PASSWORD_HASH_TIME_COST": "1",
                  "TICKETBLUE_PASSWORD_HASH_MEMORY_KIB": "1024", "TICKETBLUE_LOG_LEVEL": "WARNING",
                  **{f"TICKETBLUE_{k.upper()}": str(v) for k, v in MANY_ACCOUNTS.items()}}


def stack_command(action: str, state: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **CHEAP_ACCOUNTS, "TB_STACK_PORT": str(STACK_PORT)}
    return subprocess.run([sys.executable, ROOT / "scripts" / "stack.py", action, "--state", state], env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def stack() -> dict[str, str]:
    """The stack's URLs by name (nginx, app1, app2, prometheus), as `scripts/stack up` prints them."""
    # In .backends/, where the records of the suite's backends are (the stack reuses them).
    state = ROOT / ".backends" / f"stack-test-{os.getpid()}.json"
    started = stack_command("up", state)
    try:
        assert started.returncode == 0, started.stderr[-4000:]
        yield dict(line.split() for line in started.stdout.splitlines())
    finally:
        stopped = stack_command("down", state)
        assert stopped.returncode == 0, stopped.stderr[-4000:]


def address(url: str) -> str:
    """host:port, as nginx's X-Upstream and Prometheus's instance label write an instance."""
    return urllib.parse.urlsplit(url).netloc


class Upstreams:
    """Which instance nginx handed each request to (its X-Upstream header), also for WebSocket handshakes."""

    def __init__(self):
        self.last: str | None = None
        self.config = aiohttp.TraceConfig()
        self.config.on_request_end.append(self._answered)

    async def _answered(self, session, context, params) -> None:
        self.last = params.response.headers.get("X-Upstream")


async def viewer_on_each_instance(http: aiohttp.ClientSession, upstreams: Upstreams, round_id: int
                                  ) -> dict[str, LiveViewer]:
    """Seat-map sockets through nginx until one is held by each instance (round robin: two or three)."""
    viewers: dict[str, LiveViewer] = {}
    for _ in range(6):
        viewer = await LiveViewer.connect(http, round_id)
        if upstreams.last in viewers:
            await viewer.ws.close()
        else:
            viewers[upstreams.last] = viewer
        if len(viewers) == 2:
            return viewers
    raise AssertionError(f"nginx sent six sockets to {set(viewers)} only")


async def test_a_booking_through_nginx_crosses_both_instances(stack):
    instances = {address(stack["app1"]), address(stack["app2"])}
    upstreams = Upstreams()
    async with aiohttp.ClientSession(base_url=stack["nginx"], trace_configs=[upstreams.config]) as http:
        api = ApiClient(http)
        admin = await api.token(admin=True)
        show = await make_round(api, admin)
        round_id, seat = show["round_id"], show["seat_ids"][0]
        buyer = await api.token()
        events = await open_stream(api, buyer)                      # SSE through the proxy
        viewers = await viewer_on_each_instance(http, upstreams, round_id)
        assert set(viewers) == instances

        held = await api.post(f"/api/rounds/{round_id}/holds", token=buyer, json={"seat_ids": [seat]})
        assert held.status == 200, held.json
        served_by = held.headers["X-Upstream"]
        (other,) = instances - {served_by}
        # The delta of a hold made on one instance, on the socket the other instance holds.
        await viewers[other].until(lambda v: v.states.get(seat) == "held")

        reserved = await api.post("/api/reservations", token=buyer, json={"round_id": round_id, "seat_ids": [seat]})
        assert reserved.status == 201, reserved.json
        _, paid = await pay(api, buyer, reserved.json)
        assert paid.status == 200, paid.json
        await viewers[other].until(lambda v: v.states.get(seat) == "sold")

        # The buyer's notifications, delivered by whichever instance's outbox sent them, through the proxy.
        kinds = [event["event"] for event in await events.events(2)]
        assert kinds == ["reservation.created", "reservation.confirmed"], kinds
        for viewer in viewers.values():
            await viewer.close()
        events.response.close()


async def prometheus_query(http: aiohttp.ClientSession, query: str) -> list[dict]:
    async with http.get("/api/v1/query", params={"query": query}) as resp:
        answer = await resp.json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


async def test_prometheus_scrapes_both_instances(stack):
    instances = {address(stack["app1"]), address(stack["app2"])}
    async with aiohttp.ClientSession(base_url=stack["prometheus"]) as http:
        async def scraped(query):
            return {r["metric"]["instance"] for r in await prometheus_query(http, query)} == instances
        # Both targets answered their last scrape (up is 1) ...
        await eventually(lambda: scraped('up{job="ticketblue"} == 1'), timeout=20, every=0.25)
        # ... with the server's own series (scripts/stack asked each instance's /readyz before Prometheus began).
        await eventually(lambda: scraped('ticketblue_http_requests_total{route="/readyz"}'), timeout=20, every=0.25)
