"""Best seats for me: together in a row nearest the stage, no single seat left between taken ones
when another choice exists, then across the fewest rows, then the nearest; atomic like any hold,
and two hundred people asking at once get disjoint seats."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.support.factories import make_round


@pytest.fixture
def settings_overrides(seat_engine_settings):
    return {**seat_engine_settings, "max_seats_per_user": 8, "rate_limit_holds_per_account": ""}


async def best(client, round_id, token, **body):
    return await client.post(f"/api/rounds/{round_id}/holds/best", token=token, json=body)


def labels(hall, seat_ids):
    by_id = {s["id"]: s for s in hall}
    return sorted((by_id[s]["section"], by_id[s]["row"], by_id[s]["number"]) for s in seat_ids)


async def one_section(client, rows: int, seats_per_row: int) -> tuple[list[dict], int, dict]:
    """A round of a hall with one section of R seats: its seats, its id, and seat ids by (row, number)."""
    admin = await client.token(admin=True)
    show = await make_round(client, admin, sections=[{"name": "A", "rows": rows, "seats_per_row": seats_per_row,
                                                      "grade": "R"}], prices={"R": 100000})
    return show["seats"], show["round_id"], {(s["row"], s["number"]): s["id"] for s in show["seats"]}


async def test_the_best_seats_are_together_near_the_stage_and_leave_no_single_seat(client):
    seats, round_id, by_label = await one_section(client, 3, 6)
    someone = await client.token()
    # Row 1: 1 2 _ _ 5 6 taken → only 3-4 are free there; row 2 all free; row 3 all free.
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=someone, json={"seat_ids": [
        by_label[(1, n)] for n in (1, 2, 5, 6)]})).status == 200
    buyer = await client.token()
    pair = await best(client, round_id, buyer, count=2)
    assert pair.status == 200 and labels(seats, pair.json["seat_ids"]) == [("A", 1, 3), ("A", 1, 4)]
    # Three together: row 1 is full now, row 2 is nearest; its middle would leave single seats.
    trio = await best(client, round_id, await client.token(), count=3)
    chosen = labels(seats, trio.json["seat_ids"])
    assert [r for _, r, _ in chosen] == [2, 2, 2]
    numbers = [n for _, _, n in chosen]
    assert numbers in ([1, 2, 3], [4, 5, 6])            # 2-4 or 3-5 would strand seat 1 or 6 alone


async def test_when_no_row_has_room_the_seats_span_the_fewest_rows_then_the_nearest(client):
    seats, round_id, by_label = await one_section(client, 2, 4)
    someone = await client.token()
    await client.post(f"/api/rounds/{round_id}/holds", token=someone,
                      json={"seat_ids": [by_label[(1, 1)], by_label[(2, 4)]]})
    four = await best(client, round_id, await client.token(), count=4)
    assert four.status == 200
    assert {r for _, r, _ in labels(seats, four.json["seat_ids"])} == {1, 2}
    refused = await best(client, round_id, await client.token(), count=3)
    assert (refused.status, refused.error_code()) == (409, "not_enough_seats")
    assert (await best(client, round_id, await client.token(), count=0)).status == 400
    assert (await best(client, round_id, await client.token(), count=9)).status == 400     # over the per-user cap
    assert (await best(client, round_id, await client.token(), count=1, grade="S")).error_code() == "not_enough_seats"


async def test_two_hundred_people_asking_at_once_get_disjoint_seats(client):
    _, round_id, _ = await one_section(client, 10, 30)
    tokens = [await client.token() for _ in range(200)]
    replies = await asyncio.gather(*(best(client, round_id, t, count=2) for t in tokens))
    outcomes = Counter(r.status for r in replies)
    assert outcomes == {200: 150, 409: 50}, outcomes                 # nobody refused while two seats remained
    held = [s for r in replies if r.status == 200 for s in r.json["seat_ids"]]
    assert len(held) == len(set(held)) == 300                       # every seat, none twice
    assert all(r.error_code() == "not_enough_seats" for r in replies if r.status != 200)
