"""/metrics tells the story of an on-sale: each series moves when its event happens, driven through the
public API and the real backends, and read back by parsing the text a Prometheus server would scrape.
Every family is described, and no label carries an id."""
from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta

import pytest
import redis.asyncio
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from prometheus_client.parser import text_string_to_metric_families

from server.db.tables import outbox
from server.db.types import utcnow
from server.outbox.routes import CHANNELS
from server.wiring import DATABASE, SEAT_ENGINE
from tests.support.api import MANY_ACCOUNTS, PASSWORD, eventually
from tests.support.backends import backend_url
from tests.support.factories import pay, reserve
from tests.support.peers.toss import QUICK_TOSS_CLIENT
from tests.support.raw_ws import RawSocket
from tests.support.waiting import queued, set_room, set_sale
from tests.support.ws import LiveViewer
from tests.test_replicas import app_client


class Scrape:
    """One /metrics answer, parsed."""

    def __init__(self, text: str):
        self.text = text
        self.families = list(text_string_to_metric_families(text))
        self.samples = {(s.name, frozenset(s.labels.items())): s.value for f in self.families for s in f.samples}

    def __call__(self, name: str, **labels) -> float:
        """A series' value; 0 when it is absent."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str, **labels) -> bool:
        return (name, frozenset(labels.items())) in self.samples


async def scrape(client) -> Scrape:
    reply = await client.http.get("/metrics")
    assert reply.status == 200
    return Scrape(await reply.text())


async def hold(client, show, token, seat_ids):
    return await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": seat_ids})


@pytest.fixture
def settings_overrides(request) -> dict:
    """Toss's failures scriptable, its client quick to give up; a test's own on top ("redis": the
    single Redis, emptied)."""
    overrides = {**QUICK_TOSS_CLIENT, "toss_sandbox_faults": True, "jobs_scheduled": False,
                 **getattr(request, "param", {})}
    if overrides.get("redis_url") == "redis":
        overrides["redis_url"] = request.getfixturevalue("empty_redis_url")
    return overrides


# ---- holds and releases ------------------------------------------------------------------------------
async def test_holds_count_by_outcome(client, show):
    holds = "ticketblue_holds_total"
    before = await scrape(client)
    first, second = await client.token(), await client.token()
    assert (await hold(client, show, first, show["seat_ids"][:2])).status == 200
    assert (await hold(client, show, second, show["seat_ids"][1:3])).status == 409        # one is taken
    assert (await hold(client, show, second, show["seat_ids"][3:12])).status == 409       # over 8 a person
    after = await scrape(client)
    assert after(holds, outcome="granted") == before(holds, outcome="granted") + 1
    assert after(holds, outcome="unavailable") == before(holds, outcome="unavailable") + 1
    assert after(holds, outcome="limit") == before(holds, outcome="limit") + 1

    await set_sale(client, show["admin"], show["round_id"], opens_in=3600)
    assert (await hold(client, show, second, show["seat_ids"][5:6])).json["error"]["code"] == "sale_not_open"
    await set_sale(client, show["admin"], show["round_id"], opens_in=None)
    await set_room(client, show["admin"], show["round_id"])
    assert (await hold(client, show, second, show["seat_ids"][5:6])).json["error"]["code"] == "not_admitted"
    last = await scrape(client)
    assert last(holds, outcome="sale_not_open") == 1 and last(holds, outcome="not_admitted") == 1
    assert last(holds, outcome="granted") == after(holds, outcome="granted")


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_holds_per_account": "2/minute"}], indirect=True)
async def test_holds_over_the_rate_count_as_rate_limited(client, show):
    token = await client.token()
    for seat in show["seat_ids"][:2]:
        assert (await hold(client, show, token, [seat])).status == 200
    assert (await hold(client, show, token, show["seat_ids"][2:3])).status == 429
    after = await scrape(client)
    assert after("ticketblue_holds_total", outcome="rate_limited") == 1
    assert after("ticketblue_rate_limited_total", limit="holds_per_account") == 1


async def test_releases_count_seats_by_reason(client, show):
    token = await client.token()
    seats = show["seat_ids"]
    assert (await hold(client, show, token, seats[:3])).status == 200
    reply = await client.delete(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": seats[:2]})
    assert reply.status == 204
    blocked = await client.post(f"/api/rounds/{show['round_id']}/blocks", token=show["admin"],
                                json={"seat_ids": seats[2:5]})              # one of them held
    assert blocked.status == 200
    after = await scrape(client)
    assert after("ticketblue_releases_total", reason="released") == 2
    assert after("ticketblue_releases_total", reason="blocked") == 1
    assert after("ticketblue_releases_total", reason="expired") == 0


@pytest.mark.parametrize("settings_overrides", [{"hold_seconds": 1, "max_hold_seconds": 2}], indirect=True)
async def test_holds_the_sweeper_ends_count_as_expired(client, show):
    token = await client.token()
    assert (await hold(client, show, token, show["seat_ids"][:2])).status == 200

    async def expired():
        return (await scrape(client))("ticketblue_releases_total", reason="expired") == 2
    await eventually(expired, timeout=10)


# ---- reservations, payments, revenue, Toss --------------------------------------------------------------
async def test_a_booking_paid_and_canceled_moves_reservations_payments_and_money(client, show):
    token = await client.token()
    reservation = await reserve(client, show, token, seats=2)
    created = await scrape(client)
    assert created("ticketblue_reservations_total", outcome="created") == 1
    assert created("ticketblue_revenue_won_total") == 0
    _, paid = await pay(client, token, reservation)
    assert paid.status == 200
    confirmed = await scrape(client)
    assert confirmed("ticketblue_reservations_total", outcome="confirmed") == 1
    assert confirmed("ticketblue_payments_total", outcome="confirmed") == 1
    assert confirmed("ticketblue_revenue_won_total") == reservation["amount"] == 240000
    assert confirmed("ticketblue_toss_request_duration_seconds_count", operation="confirm") == 1
    canceled = await client.post(f"/api/reservations/{reservation['id']}/cancel", token=token)
    assert canceled.status == 200, canceled.json
    after = await scrape(client)
    assert after("ticketblue_reservations_total", outcome="canceled") == 1
    assert after("ticketblue_payments_total", outcome="canceled") == 1
    assert after("ticketblue_refunds_won_total") == 240000
    assert after("ticketblue_revenue_won_total") == 240000            # revenue counts what came in
    assert after("ticketblue_toss_request_duration_seconds_count", operation="cancel") == 1
    assert after("ticketblue_toss_errors_total", operation="confirm", kind="provider") == 0


async def test_a_declined_card_counts_a_failed_payment(client, show):
    token = await client.token()
    reservation = await reserve(client, show, token)
    await fail_next(client, reservation["order_id"], {"kind": "error", "code": "REJECT_CARD_PAYMENT"})
    _, paid = await pay(client, token, reservation)
    assert paid.status == 402
    after = await scrape(client)
    assert after("ticketblue_payments_total", outcome="failed") == 1
    assert after("ticketblue_payments_total", outcome="confirmed") == 0
    assert after("ticketblue_toss_errors_total", operation="confirm", kind="provider") == 0   # the buyer's card


async def test_toss_errors_count_by_kind(client, show):
    token = await client.token()
    reservation = await reserve(client, show, token)
    await fail_next(client, reservation["order_id"], {"kind": "error", "code": "PROVIDER_ERROR"})
    _, paid = await pay(client, token, reservation)
    assert paid.status == 502
    # The client tries twice (QUICK_TOSS_CLIENT: one retry) before it gives up on an answer, and then
    # reads the payment back (whatever it finds, the two attempts failed).
    await fail_next(client, reservation["order_id"], {"kind": "timeout", "seconds": 2}, {"kind": "disconnect"})
    await pay(client, token, reservation)
    after = await scrape(client)
    assert after("ticketblue_toss_errors_total", operation="confirm", kind="provider") == 1
    assert after("ticketblue_toss_errors_total", operation="confirm", kind="timeout") == 1
    assert after("ticketblue_toss_errors_total", operation="confirm", kind="network") == 1


async def fail_next(client, order_id: str, *failures: dict) -> None:
    reply = await client.post("/sandbox/toss/failures", json={"order_id": order_id, "failures": list(failures)})
    assert reply.status == 204, reply.json


# ---- sockets and the hub ----------------------------------------------------------------------------------
async def test_seat_map_sockets_viewers_deltas_and_frames(client, show):
    assert (await scrape(client))("ticketblue_seatmap_viewers") == 0
    viewer = await LiveViewer.connect(client.http, show["round_id"])
    opened = await scrape(client)
    assert opened("ticketblue_seatmap_viewers") == 1
    assert opened("ticketblue_frames_sent_total") == 1                      # its snapshot
    token = await client.token()
    assert (await hold(client, show, token, show["seat_ids"][:1])).status == 200
    await viewer.until(lambda v: v.deltas)
    held = await scrape(client)
    assert held("ticketblue_deltas_published_total") == 1
    assert held("ticketblue_frames_sent_total") == 2
    assert held("ticketblue_hub_sends_total") == 1                        # one viewer, one write
    assert held("ticketblue_hub_send_seconds_total") > 0
    await viewer.close()

    async def closed():
        return (await scrape(client))("ticketblue_seatmap_viewers") == 0
    await eventually(closed)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_socket_that_stops_reading_is_dropped_and_counted(client, show, app):
    """It overflows its backlog (frames dropped, a snapshot owed) and then cannot drain within the send
    timeout (10 s): closed, and counted."""
    round_id, seat = show["round_id"], show["seat_ids"][0]
    engine = app[SEAT_ENGINE]
    stalled = await RawSocket.connect(client.http.port, f"/ws/rounds/{round_id}", receive_buffer=4096)
    for _ in range(10_000):                               # ~700 KB of frames, past the backlog's limit
        await engine.block(round_id, [seat])
        await engine.unblock(round_id, [seat])
        await asyncio.sleep(0)

    async def dropped():
        return (await scrape(client))("ticketblue_slow_sockets_dropped_total") == 1
    await eventually(dropped, timeout=30)
    stalled.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("settings_overrides", [{"redis_url": "redis"}], indirect=True)
async def test_a_lost_subscription_resyncs_the_hub(client, show, settings):
    viewer = await LiveViewer.connect(client.http, show["round_id"])
    assert (await scrape(client))("ticketblue_hub_resyncs_total") == 0
    async with redis.asyncio.from_url(settings.redis_url) as admin:     # the server's subscriptions cut
        assert await admin.client_kill_filter(_type="pubsub") >= 1

    async def resynced():
        return (await scrape(client))("ticketblue_hub_resyncs_total") >= 1
    await eventually(resynced)
    await viewer.until(lambda v: v.snapshots >= 2)
    await viewer.close()


@pytest.mark.parametrize("settings_overrides", [MANY_ACCOUNTS], indirect=True)
async def test_queue_sockets_waiting_and_admitted(client, show):
    admin, round_id = show["admin"], show["round_id"]
    tokens = await queued(client, admin, round_id, 3, opens_in=3600, max_active=2)
    before = await scrape(client)
    assert before("ticketblue_waiting_room_waiting") == 3
    assert before("ticketblue_waiting_room_admitted_total") == 0
    ws = await client.http.ws_connect(f"/ws/rounds/{round_id}/queue?token={tokens[0]}")
    await ws.receive()                                                        # its first place

    assert (await scrape(client))("ticketblue_queue_sockets") == 1
    await set_sale(client, admin, round_id, opens_in=None)

    async def admitted():
        figures = await scrape(client)
        return figures("ticketblue_waiting_room_admitted_total") == 2 and figures("ticketblue_waiting_room_waiting") == 1
    await eventually(admitted)
    await ws.close()

    async def closed():
        return (await scrape(client))("ticketblue_queue_sockets") == 0
    await eventually(closed)


# ---- states read at scrape: the outbox -------------------------------------------------------------------
async def test_outbox_backlog_oldest_age_and_dead_letters_per_channel(client, app):
    quiet = await scrape(client)
    assert {quiet("ticketblue_outbox_backlog", channel=c) for c in CHANNELS} == {0}
    assert all(quiet.has("ticketblue_outbox_dead_letters", channel=c) for c in CHANNELS)
    now = utcnow()
    row = {"event": "reminder.upcoming", "payload": {}, "attempts": 3}
    async with app[DATABASE].begin() as conn:
        await conn.execute(outbox.insert(), [
            {**row, "channel": "mail", "status": "pending", "next_attempt_at": now + timedelta(hours=1),
             "created_at": now - timedelta(minutes=5)},
            {**row, "channel": "mail", "status": "pending", "next_attempt_at": now + timedelta(hours=1),
             "created_at": now - timedelta(minutes=1)},
            {**row, "channel": "slack", "status": "dead", "next_attempt_at": now, "created_at": now}])
    after = await scrape(client)
    assert after("ticketblue_outbox_backlog", channel="mail") == 2
    assert 300 <= after("ticketblue_outbox_oldest_age_seconds", channel="mail") < 400
    assert after("ticketblue_outbox_backlog", channel="slack") == 0
    assert after("ticketblue_outbox_dead_letters", channel="slack") == 1
    assert after("ticketblue_outbox_oldest_age_seconds", channel="slack") == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_state_that_cannot_be_read_is_left_out_not_a_failure(client, app, caplog):
    async with app[DATABASE].begin() as conn:                    # the outbox's table gone missing
        await conn.execute(sa.text("ALTER TABLE outbox RENAME TO outbox_away"))
    broken = await scrape(client)
    again = await scrape(client)
    assert not any(f.name.startswith("ticketblue_outbox") and f.samples for f in broken.families)
    assert broken.has("ticketblue_waiting_room_waiting") and again.has("ticketblue_instance_info",
                                                                        **instance_labels(again))
    assert len([r for r in caplog.records if "the outbox could not be read" in r.getMessage()]) == 1   # once
    async with app[DATABASE].begin() as conn:
        await conn.execute(sa.text("ALTER TABLE outbox_away RENAME TO outbox"))
    assert (await scrape(client)).has("ticketblue_outbox_backlog", channel="mail")


def instance_labels(scraped: Scrape) -> dict:
    [family] = [f for f in scraped.families if f.name == "ticketblue_instance_info"]
    return family.samples[0].labels


# ---- jobs, rate limits, replicas, the instance ------------------------------------------------------------
async def test_a_job_run_is_counted_and_timed(client):
    admin = await client.token(admin=True)
    started = await client.post("/api/admin/jobs/expired-reservations/run", token=admin)
    assert started.status == 202

    async def finished():
        figures = await scrape(client)
        return figures if figures("ticketblue_job_runs_total", job="expired-reservations",
                                  status="succeeded") == 1 else None
    figures = await eventually(finished)
    assert figures("ticketblue_job_duration_seconds_count", job="expired-reservations") == 1
    assert figures("ticketblue_job_runs_total", job="dormant-users", status="succeeded") == 0


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login_per_address": "2/minute"}], indirect=True)
async def test_refusals_count_by_limit(client):
    user = await client.signup()
    answers = [(await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})).status
               for _ in range(3)]
    assert answers == [200, 200, 429]
    assert (await scrape(client))("ticketblue_rate_limited_total", limit="login_per_address") == 1


async def test_the_instance_says_who_it_is_and_no_replica_lag_without_replicas(client, settings):
    figures = await scrape(client)
    labels = instance_labels(figures)
    assert labels["instance_id"].endswith(f":{settings.port}/{os.getpid()}") and labels["version"]
    assert figures("ticketblue_instance_info", **labels) == 1
    assert not any(s.name == "ticketblue_replica_lag_seconds" for f in figures.families for s in f.samples)


async def test_replica_lag_is_shown_per_replica(aiohttp_client, tmp_path, empty_mysql_url):
    replica = make_url(backend_url("MYSQL_REPLICA_URL"))
    client = await app_client(aiohttp_client, tmp_path, empty_mysql_url,
                              replica.set(database=make_url(empty_mysql_url).database)
                              .render_as_string(hide_password=False))
    name = f"{replica.host}:{replica.port}"

    async def measured():
        return (await scrape(client)).has("ticketblue_replica_lag_seconds", replica=name)
    await eventually(measured)
    assert 0 <= (await scrape(client))("ticketblue_replica_lag_seconds", replica=name) < 5


# ---- what every series looks like --------------------------------------------------------------------------
ID_LABELS = re.compile(r"(^|_)(id|ids)$")


async def test_every_family_is_described_and_no_label_is_an_id(client, show):
    token = await client.token()
    await LiveViewer.connect(client.http, show["round_id"])
    reservation = await reserve(client, show, token)
    await pay(client, token, reservation)
    await client.get(f"/api/rounds/{show['round_id']}/seats")
    figures = await scrape(client)
    assert "_created" not in figures.text
    names = {f.name for f in figures.families}
    assert {"ticketblue_holds", "ticketblue_payments", "ticketblue_outbox_backlog", "ticketblue_seatmap_viewers",
            "ticketblue_toss_request_duration_seconds", "ticketblue_http_requests"} <= names
    for family in figures.families:
        assert family.name.startswith("ticketblue_"), family.name
        assert family.documentation.strip(), f"{family.name} has no HELP"
        for sample in family.samples:
            for label, value in sample.labels.items():
                assert not ID_LABELS.search(label) or label == "instance_id", (family.name, label)
                if label not in ("status", "le", "instance_id", "version", "replica"):
                    assert not re.search(r"\d", value), f"{family.name}{{{label}={value!r}}} looks like an id"
    routes = {s.labels["route"] for f in figures.families if f.name == "ticketblue_http_requests" for s in f.samples}
    assert "/api/rounds/{round_id}/seats" in routes                  # the pattern, not the round

