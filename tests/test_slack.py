"""Slack delivery against a server that speaks Slack's incoming-webhook protocol: what is posted,
what is retried (5xx, 429 with Retry-After, no answer) and what is dead at once (other 4xx)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from server.app import create_app
from server.db.database import Database
from server.db.types import utcnow
from server.notify.slack import SlackChannel, SlackWebhook
from server.outbox.dispatch import Dispatcher, Policy
from server.outbox.routes import SLACK
from server.wiring import DATABASE
from tests.support.backends import settings_for
from tests.support.outbox import SEOUL, Clock, booking, enqueue_one, make_user, outbox_rows, settled
from tests.support.peers.slack import SlackPeer


@dataclass
class Setup:
    db: Database
    peer: SlackPeer
    dispatcher: Dispatcher            # only the Slack channel, on a clock the test moves
    clock: Clock

    async def row(self, reservation_id: int = 42, event: str = "reservation.confirmed", **changes) -> int:
        user = await make_user(self.db)
        row_id = (await enqueue_one(self.db, event, user, booking(reservation_id, **changes)))[SLACK]
        self.clock.now = utcnow()             # the row is due from now on
        return row_id

    async def status(self, row_id: int):
        return (await outbox_rows(self.db, [row_id]))[row_id]


@pytest.fixture
async def delivery(db, slack):
    """A dispatcher of the Slack channel alone, posting to the peer, on a clock the test moves."""
    clock = Clock()
    async with aiohttp.ClientSession() as http:
        channel = SlackChannel(SlackWebhook(http, slack.url, timeout=0.5), zone=SEOUL)
        yield Setup(db, slack, Dispatcher(db, {SLACK: channel}, Policy(max_attempts=5, backoff_seconds=10),
                                          clock=clock), clock)


async def test_the_app_posts_confirmed_and_canceled_bookings(tmp_path, database_url, aiohttp_client, slack):
    app = create_app(settings_for(tmp_path, database_url, slack_webhook_url=slack.url))
    await aiohttp_client(app)
    db = app[DATABASE]
    user = await make_user(db)
    confirmed = await enqueue_one(db, "reservation.confirmed", user, booking(42))
    canceled = await enqueue_one(db, "reservation.canceled", user, booking(43, refund_amount=240000))
    await settled(db, [confirmed[SLACK], canceled[SLACK]])
    assert sorted(slack.posted) == [
        ":white_check_mark: 예매 확정 (booking confirmed) #42 · 레미제라블 Les Misérables · "
        "2026년 12월 24일 (목) 19:30 · A구역 1열 3번 (R석), A구역 1열 4번 (R석) · 240,000원",
        ":x: 예매 취소 (booking canceled) #43 · 레미제라블 Les Misérables · "
        "2026년 12월 24일 (목) 19:30 · A구역 1열 3번 (R석), A구역 1열 4번 (R석) · 240,000원 · 환불 240,000원"]


async def test_server_errors_are_retried_until_slack_takes_the_message(delivery):
    row_id = await delivery.row()
    delivery.peer.fail(500, "rollup_error")
    delivery.peer.fail(503, "service_unavailable")
    for wait in (10, 20):
        assert await delivery.dispatcher.run_once(SLACK) == 1
        assert (await delivery.status(row_id)).status == "pending"
        delivery.clock.advance(wait)
    assert await delivery.dispatcher.run_once(SLACK) == 1
    row = await delivery.status(row_id)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    assert delivery.peer.requests == 3 and len(delivery.peer.posted) == 1 and "#42" in delivery.peer.posted[0]


async def test_rate_limited_posts_come_back_after_retry_after(delivery):
    row_id = await delivery.row()
    delivery.peer.fail(429, "rate_limited", retry_after=3)
    assert await delivery.dispatcher.run_once(SLACK) == 1
    row = await delivery.status(row_id)
    assert row.status == "pending" and row.next_attempt_at == delivery.clock.now + timedelta(seconds=3)  # not 10 s
    delivery.clock.advance(3)
    assert await delivery.dispatcher.run_once(SLACK) == 1
    assert (await delivery.status(row_id)).status == "delivered"


@pytest.mark.parametrize("status, body", [(404, "no_service"), (410, "channel_is_archived"),
                                          (403, "action_prohibited"), (400, "invalid_payload")])
async def test_permanent_refusals_are_dead_letters_at_once(delivery, status, body):
    row_id = await delivery.row()
    delivery.peer.fail(status, body)
    assert await delivery.dispatcher.run_once(SLACK) == 1
    row = await delivery.status(row_id)
    assert (row.status, row.attempts) == ("dead", 1) and str(status) in row.last_error and body in row.last_error


async def test_a_revoked_webhook_is_a_dead_letter(delivery):
    delivery.peer.path += "-revoked"             # the webhook was removed on Slack's side
    row_id = await delivery.row()
    await delivery.dispatcher.run_once(SLACK)
    row = await delivery.status(row_id)
    assert row.status == "dead" and "no_service" in row.last_error and delivery.peer.posted == []


async def test_no_answer_in_time_is_retried(delivery):
    row_id = await delivery.row()
    delivery.peer.hold()
    assert await delivery.dispatcher.run_once(SLACK) == 1
    row = await delivery.status(row_id)
    assert (row.status, row.attempts) == ("pending", 1) and "Timeout" in row.last_error
    delivery.peer.release()
    delivery.clock.advance(10)
    assert await delivery.dispatcher.run_once(SLACK) == 1
    assert (await delivery.status(row_id)).status == "delivered"


async def test_unreachable_slack_is_retried(delivery):
    async with aiohttp.ClientSession() as http:
        webhook = SlackWebhook(http, f"http://127.0.0.1:{unused_port()}/services/gone", timeout=2)
        dispatcher = Dispatcher(delivery.db, {SLACK: SlackChannel(webhook, zone=SEOUL)}, Policy())
        row_id = await delivery.row()
        await dispatcher.run_once(SLACK)
    row = await delivery.status(row_id)
    assert row.status == "pending" and "Connect" in row.last_error


async def test_without_a_webhook_slack_is_off(delivery):
    dispatcher = Dispatcher(delivery.db, {SLACK: SlackChannel(None, zone=SEOUL)}, Policy())
    row_id = await delivery.row()
    assert await dispatcher.run_once(SLACK) == 1
    assert (await delivery.status(row_id)).status == "delivered" and delivery.peer.requests == 0
