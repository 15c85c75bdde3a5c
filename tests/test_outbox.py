"""The outbox: rows written in the caller's transaction, claimed by exactly one of several racing
dispatchers, retried with exponential backoff, dead-lettered, purged. On SQLite and MariaDB."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import msgspec
import pytest
import redis.asyncio
import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import outbox
from server.notify.events import REDIS_CHANNEL, RedisBus, SseChannel
from server.notify.mail import MailChannel, SmtpMailer
from server.notify.slack import SlackChannel, SlackWebhook
from server.outbox import enqueue
from server.outbox.dispatch import Dispatcher, Policy
from server.outbox.routes import CHANNELS, MAIL, ROUTES, SLACK, SSE
from server.redis_client import connect, namespace
from tests.support.api import eventually
from tests.support.backends import backend_url
from tests.support.outbox import SEOUL, Clock, booking, enqueue_one, make_user, outbox_rows


# ---- helpers -------------------------------------------------------------------------------------------
async def doorbells_heard(listener, *, quiet_seconds: float) -> list[int]:
    """The event ids rung on the SSE bus's Redis channel, until it has been quiet for a while."""
    heard = []
    while (message := await listener.get_message(timeout=quiet_seconds)) is not None:
        if message["type"] == "message":
            heard.append(msgspec.json.decode(message["data"])[1])
    return heard


# ---- writing -------------------------------------------------------------------------------------------
def test_every_event_of_the_api_has_a_route_and_sse_gets_them_all():
    assert set(ROUTES) == {"reservation.created", "reservation.confirmed", "reservation.canceled",
                           "reservation.expired", "payment.confirmed", "payment.canceled", "hold.expired",
                           "seat.available", "coupon.issued", "reminder.upcoming", "reminder.review"}
    assert all(SSE in channels for channels in ROUTES.values())


async def test_enqueue_writes_one_row_per_channel_in_the_callers_transaction(db):
    user = await make_user(db)
    ids = await enqueue_one(db, "reservation.confirmed", user, booking(7))
    assert set(ids) == {SSE, MAIL, SLACK}
    rows = await outbox_rows(db, ids.values())
    assert {r.channel for r in rows.values()} == {SSE, MAIL, SLACK}
    assert all(r.status == "pending" and r.attempts == 0 and r.user_id == user and r.event == "reservation.confirmed"
               and r.payload == msgspec.to_builtins(booking(7)) for r in rows.values())
    assert set((await enqueue_one(db, "hold.expired", user, {"round_id": 3, "seat_ids": [1, 2]}))) == {SSE}
    assert set(await enqueue_one(db, "reservation.canceled", None, channels=[SLACK])) == {SLACK}

    with pytest.raises(RuntimeError):              # the change fails: its messages were never sent
        async with db.begin() as conn:
            await enqueue(conn, event="coupon.issued", user_id=user, payload={"coupon_id": 1})
            raise RuntimeError("the change failed")
    async with db.read_own_writes() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                   .where(outbox.c.event == "coupon.issued"))).scalar() == 0


async def test_enqueue_refuses_what_it_cannot_deliver(db):
    user = await make_user(db)
    async with db.begin() as conn:
        with pytest.raises(ValueError, match="unknown outbox event"):
            await enqueue(conn, event="reservation.teleported", user_id=user, payload={})
        with pytest.raises(ValueError, match="need a user_id"):
            await enqueue(conn, event="reservation.confirmed", user_id=None, payload={})
        with pytest.raises(ValueError, match="unknown outbox channels"):
            await enqueue(conn, event="reservation.confirmed", user_id=user, payload={}, channels=["fax"])


async def test_one_users_events_commit_in_id_order(db):
    """A second transaction enqueueing for the same user waits for the first to commit, so its
    event gets the higher id and is never visible before the lower one (SSE reads "after id N")."""
    user = await make_user(db)
    first_enqueued = asyncio.Event()
    commit_first = asyncio.Event()

    async def first() -> int:
        async with db.begin() as conn:
            ids = await enqueue(conn, event="coupon.issued", user_id=user, payload={"n": 1})
            first_enqueued.set()
            await commit_first.wait()
        return ids[SSE]

    first_task = asyncio.create_task(first())
    await first_enqueued.wait()
    second_task = asyncio.create_task(enqueue_one(db, "coupon.issued", user, {"n": 2}))
    await asyncio.sleep(0.3)
    assert not second_task.done()                 # waiting for the first transaction
    commit_first.set()
    first_id, second = await first_task, await second_task
    assert second[SSE] > first_id


# ---- claiming ------------------------------------------------------------------------------------------
async def test_racing_claims_are_disjoint_and_cover_everything(database_url, db):
    user = await make_user(db)
    ids = {(await enqueue_one(db, "reservation.canceled", user, booking(n), channels=[SLACK]))[SLACK]
           for n in range(60)}
    instances = [Database(database_url) for _ in range(3)]          # three servers, two dispatchers each
    dispatchers = [Dispatcher(d, {SLACK: SlackChannel(None, zone=SEOUL)}, Policy(batch_size=7))
                   for d in instances for _ in range(2)]
    claimed: list[int] = []
    try:
        while True:
            rounds = await asyncio.gather(*(d.claim(SLACK) for d in dispatchers))
            batch = [m.id for messages in rounds for m in messages]
            if not batch:
                break
            claimed += batch
    finally:
        for d in instances:
            await d.close()
    assert sorted(claimed) == sorted(ids)                           # each row claimed exactly once


async def test_two_dispatchers_racing_deliver_each_message_once_per_channel(database_url, db, slack, smtp_server):
    user = await make_user(db)
    count = 40
    for n in range(1, count + 1):
        await enqueue_one(db, "reservation.confirmed", user, booking(n))
    doorbells = redis.asyncio.from_url(backend_url("REDIS_URL"))
    listener = doorbells.pubsub()
    await listener.subscribe(namespace(doorbells) + REDIS_CHANNEL)

    async def instance():
        database, http = Database(database_url), aiohttp.ClientSession()
        bus = RedisBus(connect(backend_url("REDIS_URL")))
        channels = {SSE: SseChannel(bus),
                    MAIL: MailChannel(database, SmtpMailer(smtp_server.url, timeout=10), mail_from="tb@example.com",
                                      zone=SEOUL),
                    SLACK: SlackChannel(SlackWebhook(http, slack.url, timeout=10), zone=SEOUL)}
        return Dispatcher(database, channels, Policy(batch_size=6)), (database, http, bus)

    (a, a_parts), (b, b_parts) = await instance(), await instance()

    async def work(dispatcher: Dispatcher) -> int:
        handled = 0
        while n := sum(await asyncio.gather(*(dispatcher.run_once(c) for c in CHANNELS))):
            handled += n
        return handled
    try:
        handled = await asyncio.gather(work(a), work(b))
        published = await doorbells_heard(listener, quiet_seconds=0.5)
    finally:
        for database, http, bus in (a_parts, b_parts):
            await bus.close()
            await http.close()
            await database.close()
        await listener.aclose()
        await doorbells.aclose()

    assert handled[0] > 0 and handled[1] > 0 and sum(handled) == 3 * count      # both really worked
    async with db.read_own_writes() as conn:
        rows = (await conn.execute(sa.select(outbox))).all()
    assert len(rows) == 3 * count and all(r.status == "delivered" and r.attempts == 1 for r in rows)
    assert sorted(published) == sorted(r.id for r in rows if r.channel == SSE)
    assert sorted(int(text.split("#")[1].split(" ")[0]) for text in slack.posted) == list(range(1, count + 1))
    mail_ids = sorted(m["Message-ID"] for m in smtp_server.received)
    assert mail_ids == sorted(f"<outbox-{r.id}@example.com>" for r in rows if r.channel == MAIL)


async def test_a_dead_dispatchers_claim_is_taken_over_after_its_lease(db):
    user = await make_user(db)
    ids = await enqueue_one(db, "reservation.canceled", user, booking(), channels=[SLACK])
    clock, policy = Clock(), Policy(timeout_seconds=5)
    channels = {SLACK: SlackChannel(None, zone=SEOUL)}
    crashed, survivor = Dispatcher(db, channels, policy, clock=clock), Dispatcher(db, channels, policy, clock=clock)
    assert [m.id for m in await crashed.claim(SLACK)] == [ids[SLACK]]      # ...and never reports back
    assert await survivor.claim(SLACK) == []
    clock.advance(policy.lease_seconds + 1)
    taken = await survivor.claim(SLACK)
    assert [(m.id, m.attempts) for m in taken] == [(ids[SLACK], 2)]


async def test_stop_ends_the_dispatcher_even_when_woken_at_the_same_moment(db):
    """A wake-up (a commit elsewhere) racing the cancel of stop() must not keep the loop alive:
    on Python 3.11 asyncio.wait_for lost such a cancel and the server's shutdown hung."""
    dispatcher = Dispatcher(db, {SLACK: SlackChannel(None, zone=SEOUL)}, Policy(poll_seconds=30))
    dispatcher.start()
    wake = dispatcher._wakes[SLACK]
    while not wake._waiters:              # until the loop idles on its doorbell (an empty outbox)
        await asyncio.sleep(0)
    dispatcher.wake()
    await asyncio.wait_for(dispatcher.stop(), 10)
    assert dispatcher._tasks == []


async def test_stop_lets_the_batch_under_way_finish_and_record_its_outcome(db):
    """Cancelled mid-batch, a loop left its claim to the lease and, on SQLite, its write lock to the busy
    timeout (a 30 s shutdown). stop() lets the batch finish within the delivery timeout instead."""
    started, release = asyncio.Event(), asyncio.Event()

    class Slow:
        async def deliver(self, message):
            started.set()
            await release.wait()

    user = await make_user(db)
    ids = await enqueue_one(db, "reservation.canceled", user, booking(), channels=[SLACK])
    dispatcher = Dispatcher(db, {SLACK: Slow()}, Policy(poll_seconds=0.05, timeout_seconds=10))
    dispatcher.start()
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(dispatcher.stop())
    await eventually(lambda: dispatcher._stopping)     # stop() has begun: now it waits for the batch
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 10)
    row = (await outbox_rows(db, [ids[SLACK]]))[ids[SLACK]]
    assert (row.status, row.claimed_by) == ("delivered", None)


# ---- retries -------------------------------------------------------------------------------------------
def test_backoff_doubles_up_to_the_cap():
    policy = Policy(backoff_seconds=10, backoff_max_seconds=100)
    assert [policy.backoff(n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]


async def test_failures_are_retried_on_the_backoff_schedule_then_dead_lettered(db, slack):
    user = await make_user(db)
    row_id = (await enqueue_one(db, "reservation.confirmed", user, booking(), channels=[SLACK]))[SLACK]
    slack.fail(500, "rollup_error", times=99)
    clock = Clock()
    async with aiohttp.ClientSession() as http:
        dispatcher = Dispatcher(db, {SLACK: SlackChannel(SlackWebhook(http, slack.url, timeout=5), zone=SEOUL)},
                                Policy(max_attempts=4, backoff_seconds=10, backoff_max_seconds=25), clock=clock)
        for attempt, wait in [(1, 10), (2, 20), (3, 25)]:
            assert await dispatcher.run_once(SLACK) == 1
            row = (await outbox_rows(db, [row_id]))[row_id]
            assert (row.status, row.attempts) == ("pending", attempt)
            assert row.next_attempt_at == clock.now + timedelta(seconds=wait)
            assert "500" in row.last_error and "rollup_error" in row.last_error
            clock.advance(wait - 1)
            assert await dispatcher.run_once(SLACK) == 0          # not due yet
            clock.advance(1)
        assert await dispatcher.run_once(SLACK) == 1
        row = (await outbox_rows(db, [row_id]))[row_id]
        assert (row.status, row.attempts, row.delivered_at) == ("dead", 4, None)
        clock.advance(10_000)
        assert await dispatcher.run_once(SLACK) == 0              # the dead stay dead
    assert slack.requests == 4 and slack.posted == []


async def test_purge_forgets_old_delivered_messages_and_keeps_the_rest(db):
    user = await make_user(db)
    ids = [(await enqueue_one(db, "coupon.issued", user, {"n": n}))[SSE] for n in range(3)]
    async with db.begin() as conn:
        await conn.execute(outbox.update().where(outbox.c.id == ids[0]).values(status="delivered"))
        await conn.execute(outbox.update().where(outbox.c.id == ids[1]).values(status="dead"))
    clock = Clock()
    dispatcher = Dispatcher(db, {}, Policy(keep_hours=48), clock=clock)
    clock.advance(47 * 3600)
    assert await dispatcher.purge() == 0                          # SSE replay still reaches them
    clock.advance(2 * 3600)
    assert await dispatcher.purge() == 1
    assert sorted(await outbox_rows(db, ids)) == ids[1:]
