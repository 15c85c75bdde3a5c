"""Tickets: a paid booking has one per seat, whose QR code (decoded by a real QR reader) carries a
code that the door checks in once; staff accounts may check in, users may not."""
from __future__ import annotations

import asyncio

from tests.support.api import PASSWORD
from tests.support.factories import confirmed_reservation, pay, reserve
from tests.support.qr import decoded


async def log_in(client, email: str) -> str:
    reply = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert reply.status == 200, reply.json
    return reply.json["access_token"]


async def staff_token(client, admin) -> str:
    """A new account made staff by the admin, signed in again (its old tokens ended)."""
    user = await client.signup()
    changed = await client.put(f"/api/admin/users/{user['id']}/role", token=admin, json={"role": "staff"})
    assert changed.status == 200 and changed.json["role"] == "staff"
    return await log_in(client, user["email"])


async def test_a_paid_booking_has_a_ticket_per_seat_whose_qr_checks_in_once(client, show):
    buyer = await client.token()
    reservation = await reserve(client, show, buyer, seats=2)
    assert reservation["tickets"] == [] and reservation["booking_number"] == f"TB-{reservation['id']:06d}"
    _, paid = await pay(client, buyer, reservation)
    assert paid.status == 200
    booking = (await client.get(f"/api/reservations/{reservation['id']}", token=buyer)).json
    assert [t["seat_id"] for t in booking["tickets"]] == sorted(reservation["seat_ids"])
    first = booking["tickets"][0]
    svg = await client.http.get(first["qr_url"], headers={"Authorization": f"Bearer {buyer}"})
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    code = decoded(await svg.read())
    assert code == first["code"] and len({t["code"] for t in booking["tickets"]}) == 2

    door = await staff_token(client, show["admin"])
    checked = await client.post("/api/tickets/check-in", token=door, json={"code": code})
    assert checked.status == 200
    assert (checked.json["ticket_id"], checked.json["booking_number"], checked.json["holder_name"]) == \
        (first["id"], booking["booking_number"], "Tester")
    assert {checked.json[k] for k in ("section", "row", "number")} and checked.json["checked_in_at"]
    again = await client.post("/api/tickets/check-in", token=door, json={"code": code.lower()})
    assert (again.status, again.error_code()) == (409, "already_checked_in")
    assert again.json["error"]["details"]["checked_in_at"] == checked.json["checked_in_at"]
    mine = (await client.get(f"/api/reservations/{reservation['id']}", token=buyer)).json
    assert mine["status"] == "attended" and mine["tickets"][0]["checked_in_at"] == checked.json["checked_in_at"]


async def test_two_scans_at_once_check_a_ticket_in_once(client, show):
    buyer = await client.token()
    reservation = await confirmed_reservation(client, show, buyer)
    code = (await client.get(f"/api/reservations/{reservation['id']}", token=buyer)).json["tickets"][0]["code"]
    door = await staff_token(client, show["admin"])
    replies = await asyncio.gather(*(client.post("/api/tickets/check-in", token=door, json={"code": code})
                                     for _ in range(10)))
    assert sorted(r.status for r in replies) == [200] + [409] * 9


async def test_forged_foreign_and_canceled_tickets_are_refused(client, show):
    buyer, other = await client.token(), await client.token()
    reservation = await confirmed_reservation(client, show, buyer)
    ticket = (await client.get(f"/api/reservations/{reservation['id']}", token=buyer)).json["tickets"][0]
    door = await staff_token(client, show["admin"])
    ticket_id, secret, signature = ticket["code"].split(".")
    for forged in (f"{ticket_id}.{secret}.AAAAAAAAAAAAAAAA", f"{int(ticket_id) + 1}.{secret}.{signature}", "nonsense"):
        reply = await client.post("/api/tickets/check-in", token=door, json={"code": forged})
        assert (reply.status, reply.error_code()) == (404, "not_found"), forged
    assert (await client.post("/api/tickets/check-in", token=buyer, json={"code": ticket["code"]})).status == 403
    assert (await client.get(ticket["qr_url"], token=other)).status == 404
    assert (await client.post(f"/api/reservations/{reservation['id']}/cancel", token=buyer)).status == 200
    canceled = await client.post("/api/tickets/check-in", token=door, json={"code": ticket["code"]})
    assert (canceled.status, canceled.error_code()) == (409, "ticket_canceled")


async def test_roles_are_given_by_admins_and_end_the_old_tokens(client, show):
    user = await client.signup()
    token = await log_in(client, user["email"])
    assert (await client.put(f"/api/admin/users/{user['id']}/role", token=token, json={"role": "staff"})).status == 403
    bad = await client.put(f"/api/admin/users/{user['id']}/role", token=show["admin"], json={"role": "admin"})
    assert bad.status == 400
    missing = await client.put("/api/admin/users/999999/role", token=show["admin"], json={"role": "staff"})
    assert missing.status == 404
    assert (await client.put(f"/api/admin/users/{user['id']}/role", token=show["admin"],
                             json={"role": "staff"})).status == 200
    assert (await client.get("/api/users/me", token=token)).status == 401           # signed in as a user: ended
