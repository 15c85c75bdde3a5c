"""The waiting room's page in a real browser (Chromium through Playwright) against the real server:
the countdown to the opening by the server's clock, the place as it moves, a refresh that keeps it,
the seat map once let in, and holds refused in words to those not let in.

Who stands where at the opening is the server's own draw (WaitingRoom.draw, a keyed hash of round and
user): a test reads it to know in advance who comes first.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from server.wiring import SERVICES
from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, seat, signed_in_context
from tests.support.factories import make_round
from tests.support.waiting import admitted, place_of, set_room, set_sale

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def settings_overrides() -> dict:
    return {"waiting_room_step_seconds": 0.1}


@pytest.fixture
async def live_show(api) -> dict:
    """A hall of 15 seats (A: 2 rows of 5, R grade; B: 1 row of 5, S grade), a performance, one round."""
    admin = await api.token(admin=True)
    return {**await make_round(api, admin), "admin": admin}


async def in_draw_order(server, api, round_id: int, how_many: int) -> list[dict]:
    """New accounts, in the order the pre-queue will put them at the opening."""
    users = [await api.user() for _ in range(how_many)]
    return sorted(users, key=lambda u: server.app[SERVICES].waiting_room.draw(round_id, u["user"]["id"]))


async def join(api, round_id: int, account: dict) -> dict:
    reply = await api.post(f"/api/rounds/{round_id}/queue", token=account["token"])
    assert reply.status == 200, reply.json
    return reply.json


async def leave(api, round_id: int, account: dict) -> None:
    assert (await api.delete(f"/api/rounds/{round_id}/queue", token=account["token"])).status == 204


async def one_inside_one_waiting(api, show: dict) -> tuple[dict, dict, dict]:
    """The round's waiting room lets one in at a time: someone is inside, someone waits; and me, not yet in line."""
    await set_room(api, show["admin"], show["round_id"], max_active=1)
    inside, ahead, me = await api.user(), await api.user(), await api.user()
    await join(api, show["round_id"], inside)
    await admitted(api, show["round_id"], inside["token"])
    await join(api, show["round_id"], ahead)
    return inside, ahead, me


def figure(page, label: str):
    """A number of the waiting screen (position, people ahead, expected wait) by its label."""
    return page.locator(".queue-figure").filter(has=page.get_by_text(label, exact=True)).locator("dd")


def the_place(place: dict) -> tuple:
    return place["status"], place["position"], place["ahead"], place["opens_at"], place["admitted_until"]


async def shots(page, name: str) -> None:
    """The page as it is, whole, on a laptop (1366×900) and on a phone (390×844); then at its own size again."""
    own = page.viewport_size
    await page.set_viewport_size(WIDE)
    await screenshot(page, f"{name}-desktop", full_page=True)
    await page.set_viewport_size(PHONE)
    await screenshot(page, f"{name}-phone", full_page=True)
    await page.set_viewport_size(own)


async def seconds_off_the_server_clock(api, page, where: str) -> float:
    """How far the clock shown at `where` ("HH:MM:SS") is from the server's time (GET /api/time)."""
    server_ms = (await api.get("/api/time")).json["epoch_ms"]
    shown = datetime.strptime(await page.locator(f"{where} time").text_content(), "%H:%M:%S")
    server = datetime.fromtimestamp(server_ms / 1000, ZoneInfo("Asia/Seoul"))

    def seconds(t):
        return t.hour * 3600 + t.minute * 60 + t.second
    off = seconds(shown) - seconds(server)
    return min(abs(off), 86400 - abs(off))            # across midnight


async def test_the_pre_queue_counts_down_by_the_server_clock_then_the_place_moves_to_the_seat_map(
        server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_sale(api, admin, round_id, 3600)
    await set_room(api, admin, round_id, max_active=1)
    first, second, me = await in_draw_order(server, api, round_id, 3)
    for account in (first, second):
        await join(api, round_id, account)

    # The device's clock is three hours fast: the page's clock and countdown go by the server's.
    context = await signed_in_context(browser, me, WIDE)
    await context.clock.set_system_time(datetime.now(timezone.utc) + timedelta(hours=3))
    page = await open_page(context, f"{server.url}/#/rounds/{round_id}")
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}/queue$"))
    await expect(page.get_by_role("heading", name="You're in the waiting room")).to_be_visible()
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^The sale opens in (59:[0-5]\d|1:00:00)$"))
    await expect(figure(page, "Your position")).to_have_text("After the opening")
    await expect(page.locator(".queue-lead")).to_contain_text(
        "Everyone who joins before the opening gets a place in a random order")
    await expect(page.locator(".keep-tab")).to_have_text("Don't close this tab — a refresh keeps your place.")
    assert await seconds_off_the_server_clock(api, page, ".topbar .server-clock") <= 2
    assert await seconds_off_the_server_clock(api, page, ".waiting-room .server-clock") <= 2
    faces = await page.evaluate("[...document.querySelectorAll('.server-clock time')].map((t) => t.textContent)")
    assert len(faces) == 2 and faces[0] == faces[1]                     # the header's and the screen's agree
    assert the_place(await place_of(api, round_id, me["token"]))[:2] == ("waiting", None)
    await shots(page, "queue-before-opening")

    # The opening: the first of the draw is let in, I am second in line behind the other.
    await set_sale(api, admin, round_id, 0)
    await admitted(api, round_id, first["token"])
    await expect(figure(page, "Your position")).to_have_text("2")
    await expect(figure(page, "People ahead of you")).to_have_text("1")
    await expect(figure(page, "Expected wait")).to_have_text("under a minute")
    await expect(page.get_by_role("timer")).to_be_hidden()
    assert (await place_of(api, round_id, me["token"]))["position"] == 2

    await leave(api, round_id, first)
    await admitted(api, round_id, second["token"])
    await expect(figure(page, "Your position")).to_have_text("1")
    await expect(figure(page, "People ahead of you")).to_have_text("Nobody — you're next")
    assert await page.locator(".queue-progress progress").evaluate("bar => bar.value") > 0

    # My turn: the page moves on to the seat map by itself and says how long the turn lasts.
    await leave(api, round_id, second)
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}$"))
    until = (await admitted(api, round_id, me["token"]))["admitted_until"]
    assert timedelta(minutes=9) < datetime.fromisoformat(until) - datetime.now(timezone.utc) <= timedelta(minutes=10)
    await expect(page.get_by_role("timer")).to_have_text(
        re.compile(r"^Your turn to choose seats ends in (9:[0-5]\d|10:00)$"))
    assert page.errors == []


async def test_the_waiting_room_speaks_korean_and_fits_a_phone(server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_sale(api, admin, round_id, 3600)
    await set_room(api, admin, round_id, max_active=1)
    first, me = await in_draw_order(server, api, round_id, 2)
    await join(api, round_id, first)
    page = await open_page(await signed_in_context(browser, me, PHONE, language=None),
                           f"{server.url}/#/rounds/{round_id}/queue")
    await expect(page.get_by_role("heading", name="대기실에 입장했습니다")).to_be_visible()
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^판매 시작까지 (59:[0-5]\d|1:00:00)$"))
    await expect(figure(page, "나의 대기 순서")).to_have_text("판매 시작 후")
    await expect(page.locator(".queue-lead")).to_contain_text("판매 시작 전에 들어온 모든 분은 시작하는 순간 무작위 순서로")
    await expect(page.locator(".keep-tab")).to_have_text("이 창을 닫지 마세요 — 새로고침해도 순서는 유지됩니다.")
    await expect(page.locator(".live-status")).to_have_text("실시간")
    assert await fits_the_phone(page)
    await shots(page, "queue-before-opening-ko")

    # The opening: the other is let in first, I am next.
    await set_sale(api, admin, round_id, 0)
    await admitted(api, round_id, first["token"])
    await expect(figure(page, "나의 대기 순서")).to_have_text("1")
    await expect(figure(page, "내 앞 대기 인원")).to_have_text("없음 — 다음 차례입니다")
    await expect(figure(page, "예상 대기 시간")).to_have_text(re.compile(r"^(1분 이내|약 \d+분)$"))
    # (2 if the page saw the line before the other was let in, else 1)
    await expect(page.locator(".queue-progress-note")).to_have_text(re.compile(r"^[12]번에서 시작했습니다\.$"))
    assert await fits_the_phone(page)
    await shots(page, "queue-waiting-ko")
    assert page.errors == []


async def test_a_refresh_keeps_the_place_and_its_progress(server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    inside, ahead, me = await one_inside_one_waiting(api, live_show)

    page = await open_page(await signed_in_context(browser, me, WIDE), f"{server.url}/#/rounds/{round_id}/queue")
    await expect(figure(page, "Your position")).to_have_text("2")
    await expect(figure(page, "People ahead of you")).to_have_text("1")
    await expect(page.locator(".queue-progress-note")).to_have_text("You started at number 2.")
    before = await place_of(api, round_id, me["token"])

    await page.reload()
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    await expect(figure(page, "Your position")).to_have_text("2")
    assert the_place(await place_of(api, round_id, me["token"])) == the_place(before)
    room = await api.get(f"/api/rounds/{round_id}/waiting-room", token=admin)
    assert (room.json["waiting"], room.json["active"]) == (2, 1)         # not a second place for me

    # The line moves; the progress counts from where I first stood, across a reload too.
    await leave(api, round_id, inside)
    await admitted(api, round_id, ahead["token"])
    await expect(figure(page, "Your position")).to_have_text("1")
    await page.reload()
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    await expect(figure(page, "Your position")).to_have_text("1")
    await expect(page.locator(".queue-progress-note")).to_have_text("You started at number 2.")
    assert await page.locator(".queue-progress progress").evaluate("bar => bar.value") == 50
    await shots(page, "queue-waiting")
    assert page.errors == []


async def test_while_the_socket_is_down_the_page_asks_for_the_place_then_reconnects(server, api, live_show, browser):
    round_id = live_show["round_id"]
    inside, ahead, me = await one_inside_one_waiting(api, live_show)

    # The page's queue sockets go through the test: passed on to the server, or refused while `down`.
    context = await signed_in_context(browser, me, PHONE)
    sockets, down = [], {"now": False}

    async def route(ws):
        if down["now"]:
            await ws.close(code=1011)
        else:
            sockets.append(ws)
            ws.connect_to_server()
    await context.route_web_socket(re.compile(r"/ws/rounds/\d+/queue"), route)
    page = await open_page(context, f"{server.url}/#/rounds/{round_id}/queue")
    status = page.locator(".live-status")
    await expect(status).to_have_attribute("data-status", "live")
    await expect(figure(page, "Your position")).to_have_text("2")
    await page.evaluate("window.sameDocument = true")

    down["now"] = True
    for ws in sockets:
        await ws.close(code=1011)
    await expect(status).to_have_attribute("data-status", "reconnecting")
    await expect(status).to_have_text("Connection lost — reconnecting (your place is kept)…")
    await leave(api, round_id, inside)
    await admitted(api, round_id, ahead["token"])
    await expect(figure(page, "Your position")).to_have_text("1")            # asked for, without a socket

    down["now"] = False
    await expect(status).to_have_attribute("data-status", "live", timeout=20_000)
    await leave(api, round_id, ahead)
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}$"))
    assert await page.evaluate("window.sameDocument") is True               # no reload on the way
    assert page.errors == []


async def test_an_admitted_user_lands_on_the_seat_map_and_holds_a_seat(server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_room(api, admin, round_id, max_active=5)
    me = await api.user()
    page = await open_page(await signed_in_context(browser, me, WIDE), f"{server.url}/#/rounds/{round_id}")

    # The round's page sends me to the waiting room, which takes my place; I am let in at once.
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}$"))
    await expect(page.get_by_role("timer")).to_have_text(
        re.compile(r"^Your turn to choose seats ends in (9:[0-5]\d|10:00)$"))
    assert (await place_of(api, round_id, me["token"]))["status"] == "admitted"
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    await seat(page, "A", 1, 3).click()
    await expect(seat(page, "A", 1, 3)).to_have_attribute("data-state", "mine")
    seats = (await api.get(f"/api/rounds/{round_id}/seats", token=me["token"])).json["seats"]
    assert [(s["section"], s["row"], s["number"]) for s in seats if s["status"] == "mine"] == [("A", 1, 3)]
    await expect(page.locator(".turn-banner")).to_contain_text("It goes on while you hold seats.")
    await shots(page, "seatmap-turn")
    assert page.errors == []


async def test_when_the_turn_runs_out_the_page_says_so_and_offers_a_new_place(server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_room(api, admin, round_id, max_active=5, session_seconds=3)
    me = await api.user()
    page = await open_page(await signed_in_context(browser, me, WIDE), f"{server.url}/#/rounds/{round_id}")
    await expect(page.get_by_role("heading", name="Your turn has ended")).to_be_visible(timeout=20_000)
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}/queue$"))
    place = await place_of(api, round_id, me["token"])
    assert (place["status"], place["reason"]) == ("closed", "expired")
    await page.get_by_role("button", name="Join the line again").click()
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}$"))
    assert page.errors == []


async def test_a_user_not_let_in_is_sent_to_the_waiting_room_and_their_hold_is_refused_in_words(
        server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_room(api, admin, round_id, max_active=1)
    inside = await api.user()
    await join(api, round_id, inside)
    await admitted(api, round_id, inside["token"])

    # Signed in, the seat map's address leads to the waiting room.
    waiting = await api.user()
    page = await open_page(await signed_in_context(browser, waiting, PHONE), f"{server.url}/#/rounds/{round_id}")
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}/queue$"))
    await expect(figure(page, "Your position")).to_have_text("1")

    # Signed out, the map can be watched; signing in to hold a seat is refused, in words, with the way on.
    viewer = await open_page(await signed_in_context(browser, None, WIDE), f"{server.url}/#/rounds/{round_id}")
    await expect(viewer.locator(".live-status")).to_have_attribute("data-status", "live")
    await seat(viewer, "B", 1, 2).click()
    dialog = viewer.get_by_role("dialog")
    await dialog.get_by_role("button", name="Sign up").click()
    await dialog.get_by_label("Name").fill("Ji-ho")
    await dialog.get_by_label("Email").fill("jiho@example.com")
    await dialog.get_by_label("Password").fill("correct horse battery")
    await dialog.locator("#auth-submit").click()
    alert = viewer.locator(".seat-message")
    await expect(alert).to_have_text("Seats of this show are sold through a waiting room: you can hold them when it is "
                                     "your turn. Go to the waiting room")
    await expect(seat(viewer, "B", 1, 2)).to_have_attribute("data-state", "available")
    seats = (await api.get(f"/api/rounds/{round_id}/seats")).json["seats"]
    assert {s["status"] for s in seats} == {"available"}
    await alert.get_by_role("link", name="Go to the waiting room").click()
    await expect(figure(viewer, "Your position")).to_have_text("2")
    assert page.errors == [] and viewer.errors == []


async def test_sold_out_is_said_plainly_and_the_line_goes_on_when_seats_come_back(server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_room(api, admin, round_id, max_active=5)
    blocked = await api.post(f"/api/rounds/{round_id}/blocks", token=admin, json={"seat_ids": live_show["seat_ids"]})
    assert blocked.status == 200, blocked.json
    me = await api.user()
    page = await open_page(await signed_in_context(browser, me, WIDE), f"{server.url}/#/rounds/{round_id}")
    await expect(page.get_by_role("heading", name="Sold out")).to_be_visible()
    await expect(page.locator(".queue-lead")).to_contain_text(
        "All the seats of this show time are sold or being paid for.")
    place = await place_of(api, round_id, me["token"])
    assert (place["status"], place["reason"]) == ("closed", "sold_out")
    await shots(page, "queue-sold-out")

    unblocked = await api.delete(f"/api/rounds/{round_id}/blocks", token=admin,
                                 json={"seat_ids": live_show["seat_ids"][:2]})
    assert unblocked.status == 204
    await expect(page).to_have_url(re.compile(rf"#/rounds/{round_id}$"))
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^Your turn to choose seats ends in"))
    assert page.errors == []


async def test_before_the_sale_the_map_says_when_it_opens_and_a_hold_is_told_the_same(server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    opens = await set_sale(api, admin, round_id, 2 * 3600)
    page = await open_page(await signed_in_context(browser, await api.user(), WIDE),
                           f"{server.url}/#/rounds/{round_id}")
    banner = page.locator(".sale-banner")
    await expect(banner).to_contain_text("Until then you can look at the seats.")
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^The sale opens in (1:59:[0-5]\d|2:00:00)$"))
    await seat(page, "A", 2, 1).click()
    opens_at = datetime.fromisoformat(opens["sale_opens_at"]).astimezone(ZoneInfo("Asia/Seoul"))
    await expect(page.locator(".seat-message")).to_have_text(
        re.compile(rf"^The sale opens at [^:]+ {opens_at:%H:%M}: you can hold seats from then\.$"))
    await expect(seat(page, "A", 2, 1)).to_have_attribute("data-state", "available")
    assert page.errors == []


async def test_before_the_waiting_room_opens_the_page_counts_down_and_then_joins_by_itself(
        server, api, live_show, browser):
    admin, round_id = live_show["admin"], live_show["round_id"]
    await set_sale(api, admin, round_id, 30 * 60 + 6)
    await set_room(api, admin, round_id, prequeue_minutes=30)
    me = await api.user()
    page = await open_page(await signed_in_context(browser, me, WIDE), f"{server.url}/#/rounds/{round_id}/queue")
    await expect(page.get_by_role("heading", name="The waiting room opens soon")).to_be_visible()
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^The waiting room opens in 0:0[0-6]$"))
    assert (await place_of(api, round_id, me["token"]))["status"] == "none"

    await expect(page.get_by_role("heading", name="You're in the waiting room")).to_be_visible(timeout=20_000)
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^The sale opens in (29:5\d|30:0\d)$"))
    assert (await place_of(api, round_id, me["token"]))["status"] == "waiting"
    assert page.errors == []
