"""The seat-picking page in a real browser (Chromium through Playwright) against the real server.

Each test serves the app from the real factory on a real port (SQLite, in-process seat engine) and
drives the page as a person would: clicks, keys, and what the page shows and says.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from playwright.async_api import expect

from server.app import create_app
from server.wiring import SERVICES
from tests.support.backends import settings_for, sqlite_copy
from tests.support.browser import DESKTOP, PHONE, open_page, screenshot, seat, signed_in_context
from tests.support.factories import make_round
from tests.support.qr import decoded

HALL = [{"name": "VIP", "rows": 3, "seats_per_row": 12, "grade": "VIP"},
        {"name": "R", "rows": 5, "seats_per_row": 16, "grade": "R"},
        {"name": "S", "rows": 4, "seats_per_row": 20, "grade": "S"}]
PRICES = {"VIP": 150000, "R": 120000, "S": 90000}


@pytest.fixture
async def live_show(api) -> dict:
    """The show on the live server: a hall of 176 seats in three grades, a performance and one round."""
    admin = await api.token(admin=True)
    return {**await make_round(api, admin, sections=HALL, prices=PRICES), "admin": admin}


def seat_id(show: dict, section: str, row: int, number: int) -> int:
    return next(s["id"] for s in show["seats"] if (s["section"], s["row"], s["number"]) == (section, row, number))


async def test_a_hold_in_one_browser_shows_as_held_in_another(server, api, live_show, browser):
    alice, bob = await api.user(), await api.user()
    round_url = f"{server.url}/#/rounds/{live_show['round_id']}"
    desk = await open_page(await signed_in_context(browser, alice, DESKTOP), round_url)
    phone = await open_page(await signed_in_context(browser, bob, PHONE), round_url)
    for page in (desk, phone):
        await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    await seat(desk, "R", 2, 8).click()
    await expect(seat(desk, "R", 2, 8)).to_have_attribute(
        "aria-label", "Section R, row 2, seat 8, R grade, 120,000 won, held for you")
    await expect(seat(desk, "R", 2, 8)).to_have_attribute("aria-pressed", "true")
    await expect(seat(phone, "R", 2, 8)).to_have_attribute(
        "aria-label", "Section R, row 2, seat 8, R grade, 120,000 won, held by someone else")
    await expect(seat(phone, "R", 2, 8)).to_have_attribute("data-state", "held")
    await expect(desk.get_by_role("timer")).to_contain_text(re.compile(r"Held for [45]:\d\d"))

    # A seat bought elsewhere turns sold on both pages without a reload.
    carol = await api.user()
    vip = seat_id(live_show, "VIP", 1, 6)
    assert (await api.post(f"/api/rounds/{live_show['round_id']}/holds", token=carol["token"],
                           json={"seat_ids": [vip]})).status == 200
    assert (await api.post("/api/reservations", token=carol["token"],
                           json={"round_id": live_show["round_id"], "seat_ids": [vip]})).status == 201
    for page in (desk, phone):
        await expect(seat(page, "VIP", 1, 6)).to_have_attribute("aria-label", re.compile(r", sold$"))

    # Bob cannot take Alice's seat (it is aria-disabled, which a mouse does not care about: force the
    # click past Playwright's "enabled" check); he is told so in words.
    # (On the phone the whole hall's seats are too small to tap: the first tap zooms into the section.)
    await seat(phone, "R", 2, 8).click(force=True)
    await expect(phone.locator(".seatmap-wrap")).to_have_class(re.compile(r"\bzoomed\b"))
    await seat(phone, "R", 2, 8).click(force=True)
    await expect(phone.get_by_role("alert")).to_contain_text("Section R, row 2, seat 8 is not available")

    await seat(desk, "R", 2, 9).click()
    await expect(seat(desk, "R", 2, 9)).to_have_attribute("data-state", "mine")
    await expect(seat(phone, "R", 2, 9)).to_have_attribute("data-state", "held")
    await phone.get_by_role("button", name="Whole hall").click()
    await seat(phone, "S", 1, 10).click()
    await seat(phone, "S", 1, 10).click()
    await expect(seat(desk, "S", 1, 10)).to_have_attribute("data-state", "held")
    await expect(phone.get_by_role("timer")).to_be_visible()
    await screenshot(desk, "seatmap-desktop")
    await screenshot(phone, "seatmap-phone")

    # Released: available again for Bob.
    await desk.get_by_role("button", name="Release Section R, row 2, seat 8").click()
    await expect(seat(phone, "R", 2, 8)).to_have_attribute(
        "aria-label", "Section R, row 2, seat 8, R grade, 120,000 won, available")
    assert desk.errors == [] and phone.errors == []


async def test_full_purchase_from_the_seat_list_to_the_confirmation(server, api, live_show, browser):
    coupon = await api.post("/api/coupons", token=live_show["admin"], json={
        "name": "Welcome", "discount_type": "amount", "discount": 10000, "quantity": 10,
        "starts_at": "2020-01-01T00:00:00+09:00", "ends_at": "2099-01-01T00:00:00+09:00"})
    assert coupon.status == 201, coupon.json
    page = await open_page(await signed_in_context(browser, None, DESKTOP), server.url + "/")

    # Catalogue → performance → round, then the list view instead of the map.
    await page.get_by_role("link", name="Choose a date for Test Show").click()
    await page.get_by_role("link", name=re.compile(r"^Pick seats")).click()
    await page.get_by_role("button", name="Seat list").click()
    await page.get_by_role("button", name="Section S, row 1, seat 4, S grade, 90,000 won, available").click()

    # Choosing a seat signed out asks to sign in; signing up goes on to hold the seat.
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Log in or sign up to hold seats.")
    await dialog.get_by_role("button", name="Sign up").click()
    await dialog.get_by_label("Name").fill("Min-ji")
    await dialog.get_by_label("Email").fill("minji@example.com")
    await dialog.get_by_label("Password").fill("correct horse battery")
    await dialog.locator("#auth-submit").click()
    await expect(page.locator("#account")).to_contain_text("Min-ji")
    await expect(page.get_by_role("button", name="Section S, row 1, seat 4, S grade, 90,000 won, held for you")) \
        .to_have_attribute("aria-pressed", "true")
    await expect(page.locator(".basket")).to_contain_text("1 seat · 90,000 won")
    await page.get_by_role("button", name="Continue to payment").click()

    # Checkout: take the coupon, apply it, reserve.
    await page.get_by_role("button", name="Get coupon Welcome").click()
    await page.get_by_label("Welcome (10,000 won off)").check()
    await expect(page.locator(".summary .total")).to_have_text("80,000 won")
    await screenshot(page, "checkout-desktop")
    # One step: the button reserves and pays (the sandbox); the confirmation with the ticket and the SSE toast follow.
    await page.get_by_role("button", name="Pay 80,000 won").click()
    await expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    await expect(page.locator("#toasts")).to_contain_text("Booking confirmed")
    ticket = page.locator(".ticket")
    await expect(ticket).to_have_count(1)
    await expect(ticket).to_contain_text("Section S, row 1, seat 4 · S grade · 90,000 won")
    await expect(ticket).to_contain_text("Blue Hall")
    qr = ticket.get_by_role("img", name="QR code of the ticket for Section S, row 1, seat 4")
    await expect(qr).to_be_visible()
    src = await qr.get_attribute("src")
    code = decoded(unquote(src.split(",", 1)[1]).encode())
    await expect(ticket).to_contain_text(code)

    # The door scans it: in once, refused the second time.
    admin = live_show["admin"]
    first = await api.post("/api/tickets/check-in", token=admin, json={"code": code})
    assert first.status == 200 and (first.json["section"], first.json["row"], first.json["number"]) == ("S", 1, 4)
    again = await api.post("/api/tickets/check-in", token=admin, json={"code": code})
    assert again.status == 409 and again.json["error"]["code"] == "already_checked_in"
    await screenshot(page, "confirmation-desktop")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "confirmation-phone")

    token = await page.evaluate("JSON.parse(localStorage.getItem('ticketblue.session')).token")
    mine = await api.get("/api/reservations", token=token)
    assert [(r["status"], r["amount"], r["discount"], r["seat_ids"]) for r in mine.json["items"]] == \
        [("attended", 80000, 10000, [seat_id(live_show, "S", 1, 4)])]
    assert page.errors == []


async def test_the_page_catches_up_after_the_server_drops_its_socket(server, api, live_show, browser):
    viewer = await api.user()
    page = await open_page(await signed_in_context(browser, viewer, PHONE),
                           f"{server.url}/#/rounds/{live_show['round_id']}")
    status = page.locator(".live-status")
    await expect(status).to_have_attribute("data-status", "live")
    await page.evaluate("window.sameDocument = true")

    # The server goes away (its sockets get a close frame and the port closes): the page notices.
    await server.stop()
    await expect(status).to_have_attribute("data-status", "reconnecting")
    await expect(status).to_have_text("Connection lost — reconnecting…")

    # While the page cannot connect, seats change; the new server listens only after that.
    blocked = [seat_id(live_show, "VIP", 1, 1), seat_id(live_show, "VIP", 1, 2)]

    async def block(app):
        await app[SERVICES].seating.block(live_show["round_id"], blocked)
    await server.start(before_listening=block)

    await expect(status).to_have_attribute("data-status", "live", timeout=20_000)
    for number in (1, 2):
        await expect(seat(page, "VIP", 1, number)).to_have_attribute(
            "aria-label", f"Section VIP, row 1, seat {number}, VIP grade, 150,000 won, not for sale")
    await expect(seat(page, "VIP", 1, 3)).to_have_attribute("data-state", "available")
    assert await page.evaluate("window.sameDocument") is True          # caught up without a reload

    # And it is live again: a hold made now shows at once.
    other = await api.user()
    assert (await api.post(f"/api/rounds/{live_show['round_id']}/holds", token=other["token"],
                           json={"seat_ids": [seat_id(live_show, "VIP", 2, 5)]})).status == 200
    await expect(seat(page, "VIP", 2, 5)).to_have_attribute("data-state", "held")
    assert page.errors == []


async def test_the_page_says_so_and_stops_when_its_round_is_deleted(server, api, live_show, browser):
    page = await open_page(await signed_in_context(browser, await api.user(), DESKTOP),
                           f"{server.url}/#/rounds/{live_show['round_id']}")
    status = page.locator(".live-status")
    await expect(status).to_have_attribute("data-status", "live")
    assert (await api.delete(f"/api/rounds/{live_show['round_id']}", token=live_show["admin"])).status == 204
    await expect(status).to_have_attribute("data-status", "gone")
    await expect(status).to_have_text("This show time has been removed: its seats are no longer on sale.")
    assert page.errors == []


async def test_seats_can_be_picked_with_the_keyboard_alone(server, api, live_show, browser):
    someone = await api.user()
    taken = seat_id(live_show, "VIP", 1, 2)
    assert (await api.post(f"/api/rounds/{live_show['round_id']}/holds", token=someone["token"],
                           json={"seat_ids": [taken]})).status == 200
    page = await open_page(await signed_in_context(browser, await api.user(), DESKTOP),
                           f"{server.url}/#/rounds/{live_show['round_id']}")
    await expect(seat(page, "VIP", 1, 2)).to_have_attribute("data-state", "held")

    async def focused() -> str:
        return await page.evaluate("document.activeElement.getAttribute('aria-label') || document.activeElement.textContent")

    # Tab into the map: the whole map is one tab stop, landing on the first seat.
    for _ in range(20):
        await page.keyboard.press("Tab")
        if (await focused()).startswith("Section "):
            break
    assert await focused() == "Section VIP, row 1, seat 1, VIP grade, 150,000 won, available"

    await page.keyboard.press("ArrowRight")
    assert await focused() == "Section VIP, row 1, seat 2, VIP grade, 150,000 won, held by someone else"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Section VIP, row 1, seat 2 is not available")

    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowRight")
    assert await focused() == "Section VIP, row 2, seat 3, VIP grade, 150,000 won, available"
    await page.keyboard.press("Space")
    await expect(seat(page, "VIP", 2, 3)).to_have_attribute("aria-pressed", "true")
    assert await focused() == "Section VIP, row 2, seat 3, VIP grade, 150,000 won, held for you"
    await expect(page.locator("#announcer")).to_have_text(
        "Section VIP, row 2, seat 3 is held for you for 5 minutes.")
    await expect(page.locator(".basket")).to_contain_text("Section VIP, row 2, seat 3 · VIP · 150,000 won")

    # Down past the section's last row lands in the next section, then Enter again releases.
    for _ in range(2):
        await page.keyboard.press("ArrowDown")
    assert (await focused()).startswith("Section R, row 1, seat ")
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Enter")
    await expect(seat(page, "VIP", 2, 3)).to_have_attribute("aria-pressed", "false")
    assert page.errors == []


@pytest.mark.parametrize("overrides, expected", [
    ({}, {"payments": "sandbox", "toss_client_key": None}),
    ({"toss_client_key": "test_ck_browser", "toss_secret_key": "test_sk_browser"},
     {"payments": "toss", "toss_client_key": "test_ck_browser"}),
    ({"toss_secret_key": "test_sk_browser"}, {"payments": "none", "toss_client_key": None}),
])
async def test_the_pages_learn_how_to_take_payments_from_the_public_config(
        aiohttp_client, tmp_path, sqlite_template, overrides, expected):
    settings = settings_for(tmp_path, sqlite_copy(sqlite_template, tmp_path), hold_seconds=120, **overrides)
    client = await aiohttp_client(create_app(settings))
    reply = await client.get("/api/config")
    assert reply.status == 200
    assert await reply.json() == {**expected, "hold_seconds": 120, "max_seats_per_user": 8,
                                  "payment_window_seconds": 600, "timezone": "Asia/Seoul"}
    assert "toss_secret_key" not in await reply.text() and "test_sk_browser" not in await reply.text()
    page = await client.get("/")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-cache"
    assert "tosspayments" not in await page.text()     # the widget's script is loaded only by checkout, with a key
