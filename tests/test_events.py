"""`GET /api/events`: a user's events over SSE with increasing ids, exact replay after
Last-Event-ID, heartbeats, a clean end on shutdown, and delivery across instances through Redis."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from server.app import create_app
from server.outbox.routes import SSE
from server.wiring import DATABASE, DISPATCHER, TOKENS
from tests.support.backends import backend_url, settings_for
from tests.support.events import Stream, open_stream
from tests.support.outbox import booking, enqueue_one, make_user


@pytest.fixture
async def user(client) -> dict:
    """A user of the running application, with an access token and the database to enqueue in."""
    app = client.http.server.app
    user_id = await make_user(app[DATABASE])
    return {"id": user_id, "token": app[TOKENS].issue(user_id, "user"), "db": app[DATABASE]}


async def test_events_arrive_live_with_increasing_ids(client, user):
    stream = await open_stream(client, user["token"])
    sent = [await enqueue_one(user["db"], "reservation.created", user["id"], booking(5, status="pending")),
            await enqueue_one(user["db"], "payment.confirmed", user["id"], booking(5, status="confirmed")),
            await enqueue_one(user["db"], "coupon.issued", user["id"], {"coupon_id": 3, "name": "첫 예매 10%"})]
    events = await stream.events(3)
    assert [e["id"] for e in events] == [s[SSE] for s in sent] == sorted(s[SSE] for s in sent)
    assert [e["event"] for e in events] == ["reservation.created", "payment.confirmed", "coupon.issued"]
    assert events[0]["data"]["reservation_id"] == 5 and events[0]["data"]["seats"][0]["section"] == "A"
    assert events[2]["data"] == {"coupon_id": 3, "name": "첫 예매 10%"}


async def test_a_stream_needs_a_token_which_may_be_in_the_query(client, user):
    refused = await client.get("/api/events")
    assert refused.status == 401 and refused.error_code() == "unauthorized"
    stream = await open_stream(client, path=f"/api/events?token={user['token']}")
    sent = await enqueue_one(user["db"], "hold.expired", user["id"], {"round_id": 1, "seat_ids": [4]})
    assert (await stream.events(1))[0]["id"] == sent[SSE]


async def test_a_stream_carries_only_its_own_users_events(client, user):
    other = await make_user(user["db"])
    stream = await open_stream(client, user["token"])
    await enqueue_one(user["db"], "coupon.issued", other, {"coupon_id": 1})
    mine = await enqueue_one(user["db"], "coupon.issued", user["id"], {"coupon_id": 2})
    assert [e["id"] for e in await stream.events(1)] == [mine[SSE]]


async def test_last_event_id_replays_exactly_the_missed_events_then_goes_live(client, user):
    ids = [(await enqueue_one(user["db"], "coupon.issued", user["id"], {"n": n}))[SSE] for n in range(5)]
    stream = await open_stream(client, user["token"], headers={"Last-Event-ID": str(ids[1])})
    assert [e["id"] for e in await stream.events(3)] == ids[2:]
    later = (await enqueue_one(user["db"], "coupon.issued", user["id"], {"n": 5}))[SSE]
    assert [e["id"] for e in await stream.events(1)] == [later]
    # The query parameter works for a first connection; a browser's header (its latest id) wins.
    by_query = await open_stream(client, user["token"], path=f"/api/events?last_event_id={ids[3]}")
    assert [e["id"] for e in await by_query.events(2)] == [ids[4], later]
    both = await open_stream(client, user["token"], path=f"/api/events?last_event_id={ids[0]}",
                             headers={"Last-Event-ID": str(ids[4])})
    assert [e["id"] for e in await both.events(1)] == [later]


async def test_events_committed_while_a_stream_replays_come_neither_twice_nor_never(client, user):
    first = (await enqueue_one(user["db"], "coupon.issued", user["id"], {"n": 0}))[SSE]

    started = asyncio.Event()

    async def produce() -> list[int]:
        produced = []
        for n in range(1, 31):
            produced.append((await enqueue_one(user["db"], "coupon.issued", user["id"], {"n": n}))[SSE])
            started.set()                                       # the stream opens mid-production
        return produced
    producer = asyncio.create_task(produce())
    await started.wait()
    stream = await open_stream(client, user["token"], headers={"Last-Event-ID": str(first)})
    produced = await producer
    received = [e["id"] for e in await stream.events(len(produced))]
    assert received == produced
    with pytest.raises(asyncio.TimeoutError):                   # and nothing after them
        await stream.events(1, timeout=0.5)


async def test_a_bad_last_event_id_is_refused(client, user):
    reply = await client.get("/api/events", token=user["token"], headers={"Last-Event-ID": "yesterday"})
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["Last-Event-ID"]


@pytest.mark.parametrize("settings_overrides", [{"sse_heartbeat_seconds": 0.2}])
async def test_an_idle_stream_gets_heartbeat_comments(client, user):
    stream = await open_stream(client, user["token"])
    assert await stream.next(timeout=5) == ": ping"
    assert await stream.next(timeout=5) == ": ping"


async def test_streams_end_cleanly_when_the_server_shuts_down(aiohttp_server, settings):
    app = create_app(settings)
    server = await aiohttp_server(app)
    user_id = await make_user(app[DATABASE])
    async with aiohttp.ClientSession() as session:
        response = await session.get(server.make_url("/api/events"),
                                     headers={"Authorization": f"Bearer {app[TOKENS].issue(user_id, 'user')}"})
        stream = Stream(response)
        await enqueue_one(app[DATABASE], "coupon.issued", user_id, {"n": 1})
        await stream.events(1, timeout=0.5)
        await asyncio.wait_for(server.close(), 10)              # would wait for the stream if it did not end
        with pytest.raises(EOFError):
            await stream.next()


async def test_an_event_from_one_instance_reaches_a_stream_on_another_through_redis(
        tmp_path, database_url, aiohttp_client):
    """Two server processes sharing the database and Redis; the one holding the stream does not
    dispatch at all, so the event can only have come from the other instance, through Redis."""
    shared = dict(redis_url=backend_url("REDIS_URL"))
    producer = create_app(settings_for(tmp_path / "a", database_url, **shared))
    listener = create_app(settings_for(tmp_path / "b", database_url, **shared))
    await aiohttp_client(producer)
    listening = await aiohttp_client(listener)
    await listener[DISPATCHER].stop()
    user_id = await make_user(producer[DATABASE])
    response = await listening.get("/api/events",
                                   headers={"Authorization": f"Bearer {listener[TOKENS].issue(user_id, 'user')}"})
    stream = Stream(response)
    sent = await enqueue_one(producer[DATABASE], "reservation.confirmed", user_id, booking(9))
    [event] = await stream.events(1)
    assert (event["id"], event["event"], event["data"]["reservation_id"]) == (sent[SSE], "reservation.confirmed", 9)
