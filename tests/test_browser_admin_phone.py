"""Every admin view on a phone (390x844), in Korean and in English: nothing needs sideways scrolling — the menu scrolls
in its own row, a list's rows are cards — with a screenshot of each at both sizes; and the header above
them is two rows, in either language."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, signed_in_context
from tests.support.factories import make_round, pay, reserve

WIDE = {"width": 1366, "height": 900}


LOADING = {"ko": "불러오는 중", "en": "Loading"}


@pytest.mark.parametrize("language", ["ko", "en"])
async def test_every_admin_view_fits_a_phone(server, api, browser, language):
    admin = await api.user(admin=True)
    show = await make_round(api, admin["token"])
    buyer = await api.user()
    _, paid = await pay(api, buyer["token"], await reserve(api, show, buyer["token"]))
    assert paid.status == 200
    views = {"halls": "#/halls", "performers": "#/performers", "performances": "#/performances",
             "rounds": f"#/rounds/{show['performance_id']}", "seats": f"#/seats/{show['round_id']}",
             "coupons": "#/coupons", "bookings": "#/bookings", "sales": f"#/sales/{show['round_id']}"}
    page = await open_page(await signed_in_context(browser, admin, PHONE, language=language), f"{server.url}/admin")
    for name, view in views.items():
        await page.goto(f"{server.url}/admin{view}")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await expect(page.locator("main")).not_to_contain_text(LOADING[language])
        assert await fits_the_phone(page), (name, await page.evaluate("""[...document.querySelectorAll('main *')]
            .filter((e) => e.getBoundingClientRect().right > 390).slice(0, 8)
            .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""))
        # A list's rows are cards on a phone: every row's buttons and links are on the screen, none past
        # the right edge of a table that would have to scroll in its box to show them.
        off_screen = await page.evaluate("""[...document.querySelectorAll('main table button, main table a')]
            .filter((e) => {
                const r = e.getBoundingClientRect(), box = e.closest('.table-wrap')?.getBoundingClientRect();
                return r.left < 0 || r.right > innerWidth || (box && (r.left < box.left - .5 || r.right > box.right + .5)); })
            .map((e) => e.textContent + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert off_screen == [], name
        suffix = "" if language == "ko" else f"-{language}"
        await screenshot(page, f"admin-phone-{name}{suffix}", full_page=True)
        await page.set_viewport_size(WIDE)
        await screenshot(page, f"admin-desktop-{name}{suffix}")
        await page.set_viewport_size(PHONE)
    nav = await page.locator("#admin-nav").bounding_box()
    assert nav["x"] >= 0 and nav["x"] + nav["width"] <= PHONE["width"]      # the menu scrolls in its own row
    assert page.errors == []


async def test_the_gate_says_how_to_get_in_and_fits_a_phone(server, browser):
    for size, viewport in (("phone", PHONE), ("desktop", WIDE)):
        page = await open_page(await signed_in_context(browser, None, viewport, language=None), f"{server.url}/admin")
        await expect(page.get_by_role("heading", level=1, name="관리자")).to_be_visible()
        await expect(page.locator(".gate-how-to")).to_contain_text("서버를 시작한 터미널")       # the demo run's way in
        await expect(page.locator(".gate-how-to")).to_contain_text("관리자 가입 키")             # and everyone else's
        if viewport is PHONE:
            assert await fits_the_phone(page)
        await screenshot(page, f"admin-gate-{size}")
        assert page.errors == []


@pytest.mark.parametrize("language", ["ko", "en"])
async def test_the_admin_header_is_one_row_wide_and_two_on_a_phone(server, api, browser, language):
    """At 1366 px everything in the header is on one row, the server's clock included; on a phone the
    brand, the door's check-in link, log out and the language switch share the first row and the menu
    is the second. (In English the clock used to wrap onto a row of its own, and on a phone the switch.)"""
    admin = await api.user(admin=True)
    page = await open_page(await signed_in_context(browser, admin, WIDE, language=language), f"{server.url}/admin#/halls")
    await expect(page.locator("#admin-nav")).to_be_visible()
    await expect(page.locator(".check-in-link")).to_be_visible()
    await expect(page.locator(".topbar .server-clock")).to_be_visible()

    async def boxes(*selectors: str) -> list[dict]:
        return [await page.locator(selector).bounding_box() for selector in selectors]

    def one_row(row: list[dict]) -> bool:
        return max(box["y"] for box in row) < min(box["y"] + box["height"] for box in row)

    wide = await boxes(".brand", "#admin-nav", "#account", "#language-switch", ".topbar .server-clock")
    assert one_row(wide), wide
    await screenshot(page, f"admin-header-desktop-{language}")

    await page.set_viewport_size(PHONE)
    first_row, (nav,) = await boxes(".brand", "#account", "#language-switch"), await boxes("#admin-nav")
    assert one_row(first_row), first_row
    assert nav["y"] >= max(box["y"] + box["height"] for box in first_row) - 1, (nav, first_row)
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in first_row)
    await screenshot(page, f"admin-header-phone-{language}")
    assert page.errors == []
