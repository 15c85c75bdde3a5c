"""Best seats for me: together in a row nearest the stage, no single seat left between taken ones
when another choice exists, then across the fewest rows, then the nearest; atomic like any hold,
and two hundred people asking at once, on one instance or on two, get disjoint seats and nobody is
refused while seats remain."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.support.factories import make_round
from tests.support.instances import instance_clients


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


async def test_a_row_further_back_wins_when_the_front_rows_seats_are_off_to_the_side(client):
    # A look stops at the rows that cannot beat what it has found; the front row's only pair (at its
    # end, 4 seats off the centre) must still lose to the next row's centre, and that to no row behind.
    seats, round_id, by_label = await one_section(client, 4, 10)
    someone = await client.token()
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=someone, json={"seat_ids": [
        by_label[(1, n)] for n in range(3, 11)]})).status == 200
    pair = await best(client, round_id, await client.token(), count=2)
    assert pair.status == 200 and labels(seats, pair.json["seat_ids"]) == [("A", 2, 5), ("A", 2, 6)]
    front = await best(client, round_id, await client.token(), count=2, section="A")
    assert labels(seats, front.json["seat_ids"]) in ([("A", 2, 3), ("A", 2, 4)], [("A", 2, 7), ("A", 2, 8)])


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


async def test_seats_across_two_rows_are_one_behind_the_other_not_at_opposite_ends(client):
    seats, round_id, by_label = await one_section(client, 2, 6)
    free = {(1, 6), (2, 1), (2, 6)}          # row 1's last seat; row 2's first and last
    taken = [seat_id for label, seat_id in by_label.items() if label not in free]
    for some in (taken[:5], taken[5:]):                  # (by two people: at most 8 seats each)
        assert (await client.post(f"/api/rounds/{round_id}/holds", token=await client.token(),
                                  json={"seat_ids": some})).status == 200
    pair = await best(client, round_id, await client.token(), count=2)
    assert pair.status == 200, pair.json
    # (1, 6) with (2, 1) is nearer the stage's centre on average, but those two are a row's width apart
    assert labels(seats, pair.json["seat_ids"]) == [("A", 1, 6), ("A", 2, 6)]


async def two_hundred_ask_at_once(clients: list, round_id: int) -> None:
    """Two hundred people (taking turns over `clients`) ask for two seats at once of a 300-seat round:
    150 get them, none twice, and the 50 others hear there are not enough seats, never that they lost."""
    asking = [(clients[i % len(clients)], await clients[i % len(clients)].token()) for i in range(200)]
    replies = await asyncio.gather(*(best(c, round_id, t, count=2) for c, t in asking))
    outcomes = Counter((r.status, r.error_code() if r.status != 200 else None) for r in replies)
    assert outcomes == {(200, None): 150, (409, "not_enough_seats"): 50}, outcomes
    held = [s for r in replies if r.status == 200 for s in r.json["seat_ids"]]
    assert len(held) == len(set(held)) == 300                       # every seat, none twice


async def test_two_hundred_people_asking_at_once_get_disjoint_seats(client):
    _, round_id, _ = await one_section(client, 10, 30)
    await two_hundred_ask_at_once([client], round_id)


@pytest.fixture
async def two_instances(tmp_path, empty_mysql_url, empty_redis_url):
    async with instance_clients(2, tmp_path, database_url=empty_mysql_url, redis_url=empty_redis_url,
                                max_seats_per_user=8, rate_limit_holds_per_account="") as clients:
        yield clients


async def test_two_hundred_people_asking_at_once_on_two_instances_get_disjoint_seats(two_instances):
    """Each instance picks for its own askers one at a time, but both pick at once: the loser of a seat
    looks again, and keeps looking while seats remain."""
    _, round_id, _ = await one_section(two_instances[0], 10, 30)
    await two_hundred_ask_at_once(two_instances, round_id)
