"""`GET /api/events`: a user's events over SSE with increasing ids, exact replay after
Last-Event-ID, heartbeats, a clean end on shutdown, delivery across instances through Redis, and a
`message` for the person in their language."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from server.app import create_app
from server.db.tables import users
from server.notify.sentences import SENTENCES, sentence
from server.outbox.routes import ROUTES, SSE
from server.wiring import DATABASE, DISPATCHER, TOKENS
from tests.support.backends import backend_url, settings_for
from tests.support.events import Stream, open_stream
from tests.support.outbox import SEOUL, booking, enqueue_one, make_user


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
    assert events[2]["data"] == {"coupon_id": 3, "name": "첫 예매 10%", "message": "첫 예매 10% 쿠폰이 발급되었습니다"}


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


# ---- the message, in the user's language ------------------------------------------------------------
async def test_each_user_reads_the_message_in_their_own_language(client, user):
    english = await make_user(user["db"], name="Jane")
    async with user["db"].begin() as conn:
        await conn.execute(users.update().where(users.c.id == english).values(language="en"))
    app = client.http.server.app
    korean_stream = await open_stream(client, user["token"])
    english_stream = await open_stream(client, app[TOKENS].issue(english, "user"))
    for user_id in (user["id"], english):
        await enqueue_one(user["db"], "reservation.confirmed", user_id, booking(9))
    [korean_event], [english_event] = await korean_stream.events(1), await english_stream.events(1)
    assert korean_event["data"]["message"] == "레미제라블 Les Misérables 예매가 확정되었습니다 (A구역 1열 3번, A구역 1열 4번)"
    assert english_event["data"]["message"] == ("Your booking for 레미제라블 Les Misérables is confirmed "
                                                "(section A, row 1, seat 3, section A, row 1, seat 4)")
    assert english_event["data"]["reservation_id"] == korean_event["data"]["reservation_id"] == 9   # the payload stays


async def test_a_language_change_applies_to_the_next_event_of_an_open_stream(client, user):
    stream = await open_stream(client, user["token"])
    await enqueue_one(user["db"], "payment.confirmed", user["id"], {"reservation_id": 12, "order_id": "o", "amount": 240000})
    assert (await stream.events(1))[0]["data"]["message"] == "240,000원 결제가 완료되었습니다 (예매 번호 TB-000012)"
    changed = await client.patch("/api/users/me", token=user["token"], json={"language": "en"})
    assert changed.status == 200 and changed.json["language"] == "en"
    await enqueue_one(user["db"], "payment.canceled", user["id"],
                      {"reservation_id": 12, "order_id": "o", "amount": 240000, "refund_amount": 240000})
    assert (await stream.events(1))[0]["data"]["message"] == \
        "Your payment was canceled and KRW 240,000 refunded (booking TB-000012)"
    # A replay words the old events in the language of now.
    replay = await open_stream(client, user["token"], headers={"Last-Event-ID": "0"})
    assert [e["data"]["message"] for e in await replay.events(2)] == [
        "Your payment of KRW 240,000 went through (booking TB-000012)",
        "Your payment was canceled and KRW 240,000 refunded (booking TB-000012)"]


def test_every_event_a_user_is_sent_has_a_sentence_in_both_languages():
    assert set(SENTENCES) == {event for event, channels in ROUTES.items() if SSE in channels}
    for detailed, plain in SENTENCES.values():
        assert all(said.ko and said.en and said.ko != said.en for said in (detailed, plain))


@pytest.mark.parametrize("event,payload,korean,english", [
    ("seat.available", {"round_id": 1, "seat_ids": [4]}, "관심 좌석이 다시 예매 가능합니다",
     "A seat you watch is available again"),
    ("coupon.issued", {"n": 1}, "쿠폰이 발급되었습니다", "You received a coupon"),
    ("reservation.canceled", {"reservation_id": "twelve"}, "예매가 취소되었습니다", "Your booking was canceled"),
    ("reminder.upcoming", {"performance_title": "햄릿", "starts_at": "2026-12-24T19:30:00+09:00"},
     "햄릿 공연이 곧 시작됩니다 (2026년 12월 24일 (목) 19:30)",
     "햄릿 is coming up soon (Thu 24 Dec 2026, 19:30 (KST))"),
    ("hold.expired", {"round_id": 1, "seat_ids": [4, 5]}, "좌석 선점 시간이 끝났습니다", "Your seat hold ran out"),
], ids=["seats-not-named", "no-coupon-name", "wrong-type", "reminder-named", "hold"])
def test_a_sentence_names_what_the_payload_tells_and_is_plain_without_it(event, payload, korean, english):
    assert sentence(event, payload, "ko", SEOUL) == korean and sentence(event, payload, "en", SEOUL) == english
