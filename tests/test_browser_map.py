"""The seat map on desktop (1366×900) and on a phone (390×844), in Korean and in English: tapping into a
section on the phone, the bottom bar, best seats, seat watch, the tooltip, the focus ring, labels that
fit, and no sideways scrolling on the phone.

Each test serves the real app (SQLite, in-process seat engine) and drives Chromium as a person would.
"""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, seat, signed_in_context
from tests.support.factories import make_round
from tests.test_browser import seat_id

DESKTOP = {"width": 1366, "height": 900}
HALL = [{"name": "VIP", "rows": 3, "seats_per_row": 12, "grade": "VIP"},
        {"name": "R", "rows": 5, "seats_per_row": 20, "grade": "R"},
        {"name": "Balcony", "rows": 3, "seats_per_row": 16, "grade": "S"}]
PRICES = {"VIP": 150000, "R": 120000, "S": 90000}


@pytest.fixture
async def show(api) -> dict:
    admin = await api.token(admin=True)
    return {**await make_round(api, admin, sections=HALL, prices=PRICES), "admin": admin}


def ko_seat(page, section: str, row: int, number: int):
    """A seat by its Korean name ("R구역 2열 8번, ...")."""
    return page.get_by_role("button", name=re.compile(rf"^{section}구역 {row}열 {number}번,"))


async def seat_size(locator) -> float:
    box = await locator.bounding_box()
    return min(box["width"], box["height"])


async def test_on_a_phone_a_tap_zooms_into_the_section_and_a_second_holds_the_seat(server, api, show, browser):
    page = await open_page(await signed_in_context(browser, await api.user(), PHONE, language=None),
                           f"{server.url}/#/rounds/{show['round_id']}")
    await expect(page.locator(".live-status")).to_have_text("실시간")
    await expect(ko_seat(page, "R", 3, 10)).to_have_attribute("aria-label", "R구역 3열 10번, R석, 120,000원, 예매 가능")
    assert await seat_size(ko_seat(page, "R", 3, 10)) < 24            # the whole hall: too small to tap
    assert await fits_the_phone(page)
    await screenshot(page, "map-phone-1-whole-hall")

    await ko_seat(page, "R", 3, 10).click()
    await expect(page.locator(".seatmap-wrap")).to_have_class(re.compile(r"\bzoomed\b"))
    await expect(ko_seat(page, "R", 3, 10)).to_have_attribute("data-state", "available")   # zoomed, not held
    assert await seat_size(ko_seat(page, "R", 3, 10)) >= 24
    assert await seat_size(ko_seat(page, "R", 3, 11)) >= 24
    await screenshot(page, "map-phone-2-zoomed")

    await ko_seat(page, "R", 3, 10).click()
    await expect(ko_seat(page, "R", 3, 10)).to_have_attribute("aria-label", "R구역 3열 10번, R석, 120,000원, 내가 선택")
    bar = page.locator(".basket-next")
    await expect(bar).to_have_text("1석 · 120,000원 · 다음")
    await expect(page.get_by_role("timer")).to_contain_text("남은 시간")
    assert await fits_the_phone(page)
    await screenshot(page, "map-phone-3-held")

    # The bar opens into the list of held seats; "전체 보기" goes back to the whole hall.
    await page.get_by_role("button", name="좌석 보기").click()
    await expect(page.locator(".basket-items")).to_contain_text("R구역 3열 10번 · R석 · 120,000원")
    await screenshot(page, "map-phone-4-basket-open")
    await page.get_by_role("button", name="접기").click()
    await page.get_by_role("button", name="전체 보기").click()
    await expect(page.locator(".seatmap-wrap")).not_to_have_class(re.compile(r"\bzoomed\b"))
    await bar.click()
    await expect(page).to_have_url(re.compile(rf"#/rounds/{show['round_id']}/checkout$"))
    assert page.errors == []


@pytest.mark.parametrize("viewport, language", [(DESKTOP, "en"), (PHONE, None)], ids=["desktop-en", "phone-ko"])
async def test_best_seats_for_four_become_mine_together(server, api, show, browser, viewport, language):
    page = await open_page(await signed_in_context(browser, await api.user(), viewport, language=language),
                           f"{server.url}/#/rounds/{show['round_id']}")
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    form = page.locator(".best-seats")
    await form.locator("select[name=count]").select_option("4")
    await form.locator("select[name=grade]").select_option("R")
    await form.get_by_role("button").click()

    mine = page.locator('.seatmap .seat[data-state="mine"]')
    await expect(mine).to_have_count(4)
    names = [await el.get_attribute("aria-label") for el in await mine.all()]
    place = r"Section R, row (\d+), seat (\d+)" if language == "en" else r"R구역 (\d+)열 (\d+)번"
    seats = sorted((int(m[1]), int(m[2])) for m in (re.match(place, n) for n in names))
    assert len({row for row, _ in seats}) == 1                                    # one row,
    assert [n for _, n in seats] == list(range(seats[0][1], seats[0][1] + 4))     # side by side
    await expect(page.locator("#toasts")).to_contain_text("4 seats held for you" if language == "en" else "4석을 잡았습니다")
    if viewport is PHONE:
        await expect(page.locator(".basket-next")).to_have_text("4석 · 480,000원 · 다음")
        assert await fits_the_phone(page)
    else:
        await expect(page.locator(".basket")).to_contain_text("4 seats · 480,000 won")
    await screenshot(page, f"map-best-{'phone' if viewport is PHONE else 'desktop'}")

    # More than are left of a grade is refused in words.
    await form.locator("select[name=count]").select_option("8")
    await form.locator("select[name=grade]").select_option("VIP")
    vip = [s["id"] for s in show["seats"] if s["grade"] == "VIP"]
    blocked = await api.post(f"/api/rounds/{show['round_id']}/blocks", token=show["admin"], json={"seat_ids": vip[4:]})
    assert blocked.status == 200, blocked.json
    await form.get_by_role("button").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Fewer than 8 seats are left" if language == "en" else "남은 좌석이 8석보다 적습니다")
    assert page.errors == []


async def test_a_watched_seat_shows_a_bell_until_another_user_frees_it(server, api, show, browser):
    taken = seat_id(show, "VIP", 1, 6)
    holder = await api.user()
    assert (await api.post(f"/api/rounds/{show['round_id']}/holds", token=holder["token"],
                           json={"seat_ids": [taken]})).status == 200
    watcher = await api.user()
    page = await open_page(await signed_in_context(browser, watcher, DESKTOP, language=None),
                           f"{server.url}/#/rounds/{show['round_id']}")
    target = ko_seat(page, "VIP", 1, 6)
    await expect(target).to_have_attribute("data-state", "held")
    await target.click(force=True)
    await expect(page.get_by_role("alert")).to_contain_text("VIP구역 1열 6번 좌석은 지금 예매할 수 없습니다")
    await page.get_by_role("alert").get_by_role("button", name="빈자리 알림").click()
    await expect(target).to_have_attribute("aria-label", "VIP구역 1열 6번, VIP석, 150,000원, 다른 사람이 선택 중, 빈자리 알림 중")
    await expect(target.locator(".bell")).to_have_count(1)
    await expect(page.locator(".watch-bar")).to_contain_text("빈자리 알림 1건")
    watches = await api.get(f"/api/rounds/{show['round_id']}/watches", token=watcher["token"])
    assert [w["seat_id"] for w in watches.json] == [taken]
    await screenshot(page, "map-watch-desktop-1-bell")

    # The holder lets go: the seat turns available on the map and the bell goes (the seat is free).
    assert (await api.delete(f"/api/rounds/{show['round_id']}/holds", token=holder["token"],
                             json={"seat_ids": [taken]})).status == 204
    await expect(target).to_have_attribute("data-state", "available")
    await expect(target.locator(".bell")).to_have_count(0)
    await screenshot(page, "map-watch-desktop-2-freed")
    # The SSE event `seat.available` names the seat in one toast.
    await expect(page.locator("#toasts .toast").filter(has_text="빈자리 알림")).to_have_count(1)
    await expect(page.locator("#toasts")).to_contain_text("빈자리 알림: VIP구역 1열 6번 좌석을 지금 예매할 수 있습니다.")

    # Stop all: the server has no watch left.
    await page.get_by_role("button", name="알림 모두 끄기").click()
    await expect(page.locator(".watch-bar")).to_be_hidden()
    assert (await api.get(f"/api/rounds/{show['round_id']}/watches", token=watcher["token"])).json == []
    assert page.errors == []


async def test_the_map_names_the_seat_rings_the_focus_in_blue_and_keeps_its_labels_inside(server, api, show, browser):
    page = await open_page(await signed_in_context(browser, await api.user(), DESKTOP),
                           f"{server.url}/#/rounds/{show['round_id']}")
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    await seat(page, "R", 2, 8).click()
    await expect(seat(page, "R", 2, 8)).to_have_attribute("data-state", "mine")

    # Hovering a seat names it in a tooltip.
    await seat(page, "R", 2, 9).hover()
    tip = page.locator(".seat-tip")
    await expect(tip).to_have_text("Section R, row 2, seat 9, R grade, 120,000 won, available")
    await screenshot(page, "map-desktop-tooltip")

    # The keyboard's seat has a blue ring, not the gold of a seat held for you.
    await seat(page, "R", 2, 9).focus()
    await page.keyboard.press("ArrowLeft")
    await expect(page.locator(".focus-ring")).to_have_attribute("visibility", "visible")
    await expect(tip).to_have_text("Section R, row 2, seat 8, R grade, 120,000 won, held for you")
    ring = await page.evaluate("getComputedStyle(document.querySelector('.focus-ring')).stroke")
    gold = await page.evaluate("getComputedStyle(document.querySelector('.seat[data-state=mine] .seat-shape')).fill")
    assert ring == "rgb(11, 87, 208)" and gold == "rgb(255, 200, 61)"
    await screenshot(page, "map-desktop-focus")

    # Section labels, row labels and the stage are inside the map as it first shows.
    await page.get_by_role("button", name="Whole hall").click()
    outside = await page.evaluate("""() => {
        const svg = document.querySelector('.seatmap');
        const [x, y, w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
        return [...svg.querySelectorAll('.section-labels text, .row-labels text, .stage text')].filter((t) => {
            const b = t.getBBox();
            return b.x < x || b.y < y || b.x + b.width > x + w || b.y + b.height > y + h;
        }).map((t) => t.textContent); }""")
    assert outside == []
    assert await page.locator(".section-labels text").all_text_contents() == ["VIP", "R", "Balcony"]
    assert await page.locator(".stage text").text_content() == "STAGE"

    # Rows are numbered at both ends; the legend's "available" swatch is coloured like an available seat.
    assert (await page.locator(".row-labels text").all_text_contents())[:2] == ["1", "1"]
    fills = await page.evaluate("""() => [
        getComputedStyle(document.querySelector('.legend .swatch[data-state=available] .seat-shape')).fill,
        getComputedStyle(document.querySelector('.seat[data-state=available] .seat-shape')).fill]""")
    assert fills[0] == fills[1]
    assert page.errors == []


async def test_the_admin_preview_colours_grades_as_the_buyer_map_does(server, api, show, browser):
    buyer = await open_page(await signed_in_context(browser, None, DESKTOP), f"{server.url}/#/rounds/{show['round_id']}")
    await expect(buyer.locator(".seatmap .seat").first).to_be_visible()
    colour = """(grade) => getComputedStyle(document.querySelector(`.seatmap .seat[aria-label*="${grade} grade"] .seat-shape`)).fill"""
    buyer_colours = [await buyer.evaluate(colour, g) for g in ("VIP", "R", "S")]
    assert len(set(buyer_colours)) == 3

    admin = await api.get("/api/users/me", token=show["admin"])
    context = await signed_in_context(browser, {"token": show["admin"], "user": admin.json}, DESKTOP)
    page = await open_page(context, f"{server.url}/admin#/halls")
    for n, (name, grade) in enumerate([("A", "VIP"), ("B", "R"), ("C", "S")]):
        if n:
            await page.get_by_role("button", name="Add section").click()
        await page.get_by_label("Section name").nth(n).fill(name)
        await page.get_by_label("Grade").nth(n).fill(grade)
    await expect(page.locator(".preview .seatmap .seat")).to_have_count(150)
    preview_colours = [await page.evaluate(colour.replace(".seatmap", ".preview .seatmap"), g) for g in ("VIP", "R", "S")]
    assert preview_colours == buyer_colours
    assert page.errors == [] and buyer.errors == []


async def test_the_help_speaks_of_taps_on_a_touch_screen_and_of_keys_elsewhere(server, api, show, browser):
    for touch, viewport, says, never in ((True, PHONE, "구역을 누르면 확대됩니다", "방향키"),
                                         (False, {"width": 1366, "height": 900}, "방향키로 좌석을", "두 손가락")):
        page = await open_page(await signed_in_context(browser, None, viewport, language=None, touch=touch),
                               f"{server.url}/#/rounds/{show['round_id']}")
        help_text = page.locator("#seatmap-help")
        await expect(help_text).to_contain_text(says)
        await expect(help_text).not_to_contain_text(never)
        if touch:                      # a tap (not a click) on a small seat zooms into its section
            await ko_seat(page, "R", 3, 10).tap()
            await expect(page.locator(".seatmap-wrap")).to_have_class(re.compile(r"\bzoomed\b"))
            assert await seat_size(ko_seat(page, "R", 3, 10)) >= 24
            await screenshot(page, "map-touch-phone")
        assert page.errors == []
