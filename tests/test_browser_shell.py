"""The shell of the pages in Chromium: the sign-in dialog's fields and toggle, the admin page to a
visitor, and an unknown address inside the page — in Korean (the default) and English."""
from __future__ import annotations

from playwright.async_api import expect

from tests.support.browser import PHONE, open_page, screenshot, signed_in_context

WIDE = {"width": 1366, "height": 900}


async def test_the_log_in_dialog_hides_name_until_sign_up_and_shows_the_chosen_mode(server, browser):
    for size, viewport in (("desktop", WIDE), ("phone", PHONE)):
        page = await open_page(await signed_in_context(browser, None, viewport), server.url + "/")
        await page.locator("#account button").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_label("Name")).to_be_hidden()
        await expect(dialog.get_by_label("Email")).to_be_visible()
        log_in = dialog.locator("[data-mode=login]")
        sign_up = dialog.locator("[data-mode=signup]")
        await expect(log_in).to_have_attribute("aria-pressed", "true")
        chosen = await log_in.evaluate("b => getComputedStyle(b).backgroundColor")
        other = await sign_up.evaluate("b => getComputedStyle(b).backgroundColor")
        assert chosen != other                                   # the selected side looks selected
        await sign_up.click()
        await expect(dialog.get_by_label("Name")).to_be_visible()
        assert await sign_up.evaluate("b => getComputedStyle(b).backgroundColor") == chosen
        await screenshot(page, f"shell-signup-{size}")
        assert page.errors == []


async def test_the_admin_page_shows_a_visitor_no_menu_and_no_key_field(server, browser):
    page = await open_page(await signed_in_context(browser, None, WIDE), server.url + "/admin")
    await expect(page.get_by_text("Log in with an admin account.")).to_be_visible()
    await expect(page.locator("#admin-nav")).to_be_hidden()
    await expect(page.locator("input[name=admin_key]")).to_be_hidden()
    await page.get_by_role("main").get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("dialog").get_by_label("Email")).to_be_visible()
    await expect(page.locator("input[name=admin_key]")).to_be_hidden()        # log-in mode: no key
    await screenshot(page, "shell-admin-visitor-desktop")
    assert page.errors == []


async def test_an_unknown_address_in_the_page_says_not_found_with_a_way_home(server, browser):
    page = await open_page(await signed_in_context(browser, None, PHONE, language=None), server.url + "/#/nope")
    await expect(page.get_by_role("heading", name="페이지를 찾을 수 없습니다")).to_be_visible()
    await expect(page).to_have_url(server.url + "/#/nope")                   # not sent away silently
    await screenshot(page, "shell-hash-not-found-phone")
    await page.get_by_role("link", name="공연 목록으로").click()
    await expect(page).to_have_url(server.url + "/#/")
    assert page.errors == []
