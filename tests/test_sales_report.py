"""A round's live on-sale figures for the box office: seats by grade, money in and out, sales per minute."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.factories import hold_and_reserve, pay


def sales_path(round_id: int) -> str:
    return f"/api/admin/rounds/{round_id}/sales"


async def sales(client, show) -> dict:
    reply = await client.get(sales_path(show["round_id"]), token=show["admin"])
    assert reply.status == 200, reply.json
    return reply.json


def grades(report: dict) -> dict[str, dict]:
    return {g["grade"]: {k: v for k, v in g.items() if k != "grade"} for g in report["by_grade"]}


def grade(price: int, seats: int, sold=0, held=0, blocked=0) -> dict:
    return {"price": price, "seats": seats, "sold": sold, "held": held, "blocked": blocked,
            "available": seats - sold - held - blocked}


def minute_of(time: str) -> datetime:
    return datetime.fromisoformat(time).replace(second=0, microsecond=0)


def busy_minutes(report: dict) -> dict[datetime, dict]:
    return {datetime.fromisoformat(m["minute"]): {"seats": m["seats"], "revenue": m["revenue"]}
            for m in report["per_minute"] if m["seats"] or m["revenue"]}


async def test_an_untouched_round_has_every_seat_available_and_an_hour_of_empty_minutes(client, show):
    report = await sales(client, show)
    assert report["round_id"] == show["round_id"]
    assert grades(report) == {"R": grade(120000, 10), "S": grade(90000, 5)}
    assert (report["sold_seats"], report["revenue"], report["refunds"]) == (0, 0, 0)
    minutes = [datetime.fromisoformat(m["minute"]) for m in report["per_minute"]]
    assert len(minutes) == 60 and all(b - a == timedelta(minutes=1) for a, b in zip(minutes, minutes[1:]))
    updated = datetime.fromisoformat(report["updated_at"])
    assert minutes[-1] == updated.replace(second=0, microsecond=0) and updated.utcoffset() == timedelta(hours=9)
    assert busy_minutes(report) == {}


async def test_holds_bookings_payments_refunds_and_blocks_by_grade(client, show):
    r_seats, s_seats = show["seat_ids"][:10], show["seat_ids"][10:]
    holder, payer = await client.token(), await client.token()
    assert (await client.post(f"/api/rounds/{show['round_id']}/holds", token=holder,
                              json={"seat_ids": s_seats[:1]})).status == 200
    booked = await hold_and_reserve(client, payer, show["round_id"], r_seats[:2])
    assert booked.status == 201
    blocked = await client.post(f"/api/rounds/{show['round_id']}/blocks", token=show["admin"],
                                json={"seat_ids": s_seats[4:]})
    assert blocked.status == 200

    # A booking awaiting payment is held, not sold: no money has come in.
    report = await sales(client, show)
    assert grades(report) == {"R": grade(120000, 10, held=2), "S": grade(90000, 5, held=1, blocked=1)}
    assert (report["sold_seats"], report["revenue"], busy_minutes(report)) == (0, 0, {})

    _, paid = await pay(client, payer, booked.json)
    assert paid.status == 200
    report = await sales(client, show)
    assert grades(report) == {"R": grade(120000, 10, sold=2), "S": grade(90000, 5, held=1, blocked=1)}
    assert (report["sold_seats"], report["revenue"], report["refunds"]) == (2, 240000, 0)
    assert busy_minutes(report) == {minute_of(paid.json["approved_at"]): {"seats": 2, "revenue": 240000}}

    # Canceled: refunded, the seats on sale again, and the sale gone from its minute.
    canceled = await client.post(f"/api/reservations/{booked.json['id']}/cancel", token=payer)
    assert canceled.status == 200 and canceled.json["status"] == "canceled"
    report = await sales(client, show)
    assert grades(report) == {"R": grade(120000, 10), "S": grade(90000, 5, held=1, blocked=1)}
    assert (report["sold_seats"], report["revenue"], report["refunds"]) == (0, 0, 240000)
    assert busy_minutes(report) == {}


async def test_only_admins_and_only_rounds_that_exist(client, show):
    path = sales_path(show["round_id"])
    assert (await client.get(path)).status == 401
    user = await client.get(path, token=await client.token())
    assert user.status == 403 and user.error_code() == "forbidden"
    for unknown in (show["round_id"] + 1000, "abc"):
        missing = await client.get(sales_path(unknown), token=show["admin"])
        assert missing.status == 404 and missing.error_code() == "not_found", unknown
    assert (await client.delete(f"/api/rounds/{show['round_id']}", token=show["admin"])).status == 204
    assert (await client.get(path, token=show["admin"])).status == 404
