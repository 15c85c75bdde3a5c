"""Seat watch: a user hears (SSE `seat.available`) when a watched seat, or a seat of a watched grade,
is available again — after the map's delta, never before it — and the watch ends when they hold it."""
from __future__ import annotations

import pytest

from tests.support.events import open_stream
from tests.support.ws import LiveViewer


@pytest.fixture
def settings_overrides(seat_engine_settings):
    return {**seat_engine_settings, "seat_watches_per_user": 3}


def path(show, what):
    return f"/api/rounds/{show['round_id']}{what}"


async def next_event(stream, name):
    while True:
        event = (await stream.events(1))[0]
        if event["event"] == name:
            return event


async def test_a_watcher_hears_of_a_freed_seat_after_the_map_does(client, show):
    holder, watcher = await client.token(), await client.token()
    seat = show["seat_ids"][0]
    assert (await client.post(path(show, "/holds"), token=holder, json={"seat_ids": [seat]})).status == 200
    watched = await client.post(path(show, "/watches"), token=watcher, json={"seat_ids": [seat]})
    assert watched.status == 201 and [(w["seat_id"], w["grade"]) for w in watched.json] == [(seat, None)]
    stream = await open_stream(client, watcher)
    viewer = await LiveViewer.connect(client.http, show["round_id"])
    assert (await client.delete(path(show, "/holds"), token=holder, json={"seat_ids": [seat]})).status == 204
    event = await next_event(stream, "seat.available")
    place = show["seats"][0]
    assert event["data"] == {
        "round_id": show["round_id"], "seat_ids": [seat], "performance_title": "Test Show",
        "seats": [{k: place[k] for k in ("section", "row", "number", "grade")}],
        "message": f"Test Show 관심 좌석이 다시 예매 가능합니다 ({place['section']}구역 {place['row']}열 {place['number']}번)"}
    assert viewer.states[seat] == "available"          # the map had it first (the viewer got the delta already)
    assert (await client.post(path(show, "/holds"), token=watcher, json={"seat_ids": [seat]})).status == 200
    assert (await client.get(path(show, "/watches"), token=watcher)).json == []        # held: the watch ended
    await viewer.close()


async def test_a_grade_watch_hears_of_any_seat_of_the_grade_and_not_of_others(client, show):
    holder, watcher = await client.token(), await client.token()
    r_seat, s_seat = show["seat_ids"][0], show["seat_ids"][-1]            # grades R and S
    for seat in (r_seat, s_seat):
        assert (await client.post(path(show, "/holds"), token=holder, json={"seat_ids": [seat]})).status == 200
    assert (await client.post(path(show, "/watches"), token=watcher, json={"grade": "S"})).status == 201
    stream = await open_stream(client, watcher)
    await client.delete(path(show, "/holds"), token=holder, json={"seat_ids": [r_seat]})
    await client.delete(path(show, "/holds"), token=holder, json={"seat_ids": [s_seat]})
    event = await next_event(stream, "seat.available")
    assert event["data"]["seat_ids"] == [s_seat]                          # the R seat was not told


async def test_watches_are_checked_capped_and_ended(client, show):
    watcher = await client.token()
    for bad in ({}, {"seat_ids": [show["seat_ids"][0]], "grade": "R"}, {"grade": "VIP"}, {"seat_ids": [999999]}):
        reply = await client.post(path(show, "/watches"), token=watcher, json=bad)
        assert (reply.status, reply.error_code()) == (400, "invalid_request"), bad
    assert (await client.post(path(show, "/watches"), json={"grade": "R"})).status == 401
    assert (await client.post("/api/rounds/999999/watches", token=watcher, json={"grade": "R"})).status == 404
    assert (await client.post(path(show, "/watches"), token=watcher, json={"seat_ids": show["seat_ids"][:3]})).status == 201
    again = await client.post(path(show, "/watches"), token=watcher, json={"seat_ids": show["seat_ids"][:1]})
    assert again.status == 201 and len(again.json) == 3                   # the same seat again: no new watch
    over = await client.post(path(show, "/watches"), token=watcher, json={"grade": "S"})
    assert (over.status, over.error_code(), over.json["error"]["details"]) == (409, "watch_limit_exceeded",
                                                                               {"limit": 3, "current": 3})
    assert (await client.delete(path(show, "/watches"), token=watcher)).status == 204
    assert (await client.get(path(show, "/watches"), token=watcher)).json == []
