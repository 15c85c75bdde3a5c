"""Every admin view on a phone (390x844), in Korean: nothing needs sideways scrolling — the menu scrolls
in its own row, a list's rows are cards — with a screenshot of each at both sizes; and the header above
them is two rows, in either language."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, signed_in_context
from tests.support.factories import make_round, pay, reserve

WIDE = {"width": 1366, "height": 900}


async def test_every_admin_view_fits_a_phone(server, api, browser):
    admin = await api.user(admin=True)
    show = await make_round(api, admin["token"])
    buyer = await api.user()
    _, paid = await pay(api, buyer["token"], await reserve(api, show, buyer["token"]))
    assert paid.status == 200
    views = {"halls": "#/halls", "performers": "#/performers", "performances": "#/performances",
             "rounds": f"#/rounds/{show['performance_id']}", "seats": f"#/seats/{show['round_id']}",
             "coupons": "#/coupons", "bookings": "#/bookings", "sales": f"#/sales/{show['round_id']}"}
    page = await open_page(await signed_in_context(browser, admin, PHONE, language=None), f"{server.url}/admin")
    for name, view in views.items():
        await page.goto(f"{server.url}/admin{view}")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await expect(page.locator("main")).not_to_contain_text("불러오는 중")
        assert await fits_the_phone(page), (name, await page.evaluate("""[...document.querySelectorAll('main *')]
            .filter((e) => e.getBoundingClientRect().right > 390).slice(0, 8)
            .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""))
        # A list's rows are cards on a phone: every row's buttons and links are on the screen, none past
        # the right edge of a table that would have to scroll in its box to show them.
        assert await page.evaluate("""[...document.querySelectorAll('main table button, main table a')]
            .every((e) => { const r = e.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth; })"""), name
        await screenshot(page, f"admin-phone-{name}", full_page=True)
        await page.set_viewport_size(WIDE)
        await screenshot(page, f"admin-desktop-{name}")
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
async def test_the_admin_header_is_two_rows_on_a_phone(server, api, browser, language):
    """The brand, the door's check-in link, log out and the language switch share the first row; the
    menu is the second. (The switch used to wrap onto a row of its own, pushing the page down.)"""
    admin = await api.user(admin=True)
    page = await open_page(await signed_in_context(browser, admin, PHONE, language=language), f"{server.url}/admin#/halls")
    await expect(page.locator("#admin-nav")).to_be_visible()
    await expect(page.locator(".check-in-link")).to_be_visible()
    first_row = [await page.locator(selector).bounding_box() for selector in (".brand", "#account", "#language-switch")]
    nav = await page.locator("#admin-nav").bounding_box()
    assert max(box["y"] for box in first_row) < min(box["y"] + box["height"] for box in first_row), first_row
    assert nav["y"] >= max(box["y"] + box["height"] for box in first_row) - 1, (nav, first_row)
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in first_row)
    await screenshot(page, f"admin-header-phone-{language}")
    assert page.errors == []
