"""Booking in Chromium, in Korean on a phone: checkout in one step, the confirmation with its ticket,
My bookings, and canceling through the page's own dialog, which names the refund — with no sideways
scrolling on any of these pages at 390 px; a purchase with the keyboard alone; and the checkout's
countdown reaching zero."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, signed_in_context
from tests.support.factories import make_round
from tests.test_browser import seat_id
from tests.test_browser_map import HALL, PRICES, ko_seat


async def test_a_phone_books_in_one_step_sees_the_ticket_and_cancels_with_the_refund_named(server, api, browser):
    show = await make_round(api, await api.token(admin=True), sections=HALL, prices=PRICES)
    buyer = await api.user()
    seats = [seat_id(show, "R", 2, 8), seat_id(show, "R", 2, 9)]
    assert (await api.post(f"/api/rounds/{show['round_id']}/holds", token=buyer["token"],
                           json={"seat_ids": seats})).status == 200
    page = await open_page(await signed_in_context(browser, buyer, PHONE, language=None),
                           f"{server.url}/#/rounds/{show['round_id']}/checkout")

    await expect(page.get_by_role("heading", name="예매 확인 및 결제")).to_be_visible()
    await expect(page.locator(".checkout")).to_contain_text("R구역 2열 8번 · R석 · 120,000원")
    assert await fits_the_phone(page)
    await screenshot(page, "booking-phone-1-checkout")
    await page.get_by_role("button", name="240,000원 결제하기").click()

    await expect(page.get_by_role("heading", name="예매 완료")).to_be_visible()
    await expect(page.locator(".ticket")).to_have_count(2)
    await expect(page.locator(".ticket").first).to_contain_text("Blue Hall")
    await expect(page.get_by_role("img", name="R구역 2열 8번 티켓 QR 코드")).to_be_visible()
    await expect(page.locator("#toasts .toast")).to_have_count(1)        # created, then confirmed: one toast
    await expect(page.locator("#toasts")).to_contain_text("예매가 확정되었습니다")
    assert await fits_the_phone(page)
    await screenshot(page, "booking-phone-2-confirmed", full_page=True)

    await page.get_by_role("link", name="예매 내역").first.click()
    card = page.locator(".booking")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Test Show")
    await expect(card).to_contain_text("R구역 2열 8번, R구역 2열 9번")
    await expect(card).to_contain_text("예매 완료")
    assert await fits_the_phone(page)
    await screenshot(page, "booking-phone-3-my-bookings")

    await card.get_by_role("link", name="자세히").click()
    await page.get_by_role("button", name="예매 취소 및 환불").click()
    dialog = page.get_by_role("dialog", name="예매 취소 및 환불")
    await expect(dialog).to_contain_text("결제하신 240,000원이 환불되고")
    await screenshot(page, "booking-phone-4-cancel-dialog")
    await dialog.get_by_role("button", name="취소하기").click()
    await expect(page.get_by_role("heading", name="예매 취소됨")).to_be_visible()
    await expect(page.locator("#toasts .toast")).to_have_count(1)       # the page's, the SSE's: one toast
    await expect(page.locator("#toasts")).to_contain_text("예매가 취소")
    mine = await api.get("/api/reservations", token=buyer["token"])
    assert [r["status"] for r in mine.json["items"]] == ["canceled"]
    assert page.errors == []


async def tab_to(page, name: str, presses: int = 40) -> None:
    """Press Tab until the focused element's accessible text starts with `name` (a keyboard user's way
    there); fail if it is not reached."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "(document.activeElement.getAttribute('aria-label') || document.activeElement.textContent).trim()")
        if focused.startswith(name):
            return
    raise AssertionError(f"{name!r} not reached with Tab (last: {focused!r})")


async def test_a_purchase_with_the_keyboard_alone(server, api, browser):
    show = await make_round(api, await api.token(admin=True), sections=HALL, prices=PRICES)
    buyer = await api.user()
    page = await open_page(await signed_in_context(browser, buyer, {"width": 1366, "height": 900}, language=None),
                           f"{server.url}/#/rounds/{show['round_id']}")
    await tab_to(page, "VIP구역 1열 1번,")                        # the map is one tab stop
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Space")
    await expect(page.locator(".basket")).to_contain_text("VIP구역 1열 2번 · VIP석 · 150,000원")
    await tab_to(page, "다음 단계로 (결제)")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="예매 확인 및 결제")).to_be_visible()
    await tab_to(page, "150,000원 결제하기")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="예매 완료")).to_be_visible()
    await expect(page.locator(".ticket")).to_have_count(1)
    mine = await api.get("/api/reservations", token=buyer["token"])
    assert [(r["status"], r["seat_ids"]) for r in mine.json["items"]] == [
        ("confirmed", [seat_id(show, "VIP", 1, 2)])]
    await screenshot(page, "booking-keyboard-confirmed")
    assert page.errors == []


@pytest.mark.parametrize("settings_overrides", [{"hold_seconds": 4}])
async def test_the_checkout_countdown_reaching_zero_stops_the_payment_and_says_why(server, api, browser):
    show = await make_round(api, await api.token(admin=True), sections=HALL, prices=PRICES)
    buyer = await api.user()
    page = await open_page(await signed_in_context(browser, buyer, PHONE, language=None),
                           f"{server.url}/#/rounds/{show['round_id']}")
    await ko_seat(page, "VIP", 1, 5).click()
    await ko_seat(page, "VIP", 1, 5).click()                     # (the first tap on a phone zooms in)
    await expect(ko_seat(page, "VIP", 1, 5)).to_have_attribute("aria-pressed", "true")
    await page.get_by_role("button", name="1석 · 150,000원 · 다음").click()
    timer = page.locator(".checkout").get_by_role("timer")
    await expect(timer).to_have_text(re.compile(r"^좌석 선점 남은 시간 0:0[0-4]$"))
    pay = page.get_by_role("button", name="150,000원 결제하기")
    await expect(pay).to_be_enabled()
    await screenshot(page, "booking-countdown-running-phone")

    await expect(page.locator(".checkout .form-error")).to_have_text(
        "좌석 선점 시간이 끝났습니다. 좌석을 다시 선택해 주세요.", timeout=15_000)
    await expect(timer).to_have_text("좌석 선점 남은 시간 0:00")
    await expect(pay).to_be_disabled()
    assert await fits_the_phone(page)
    await screenshot(page, "booking-countdown-over-phone")
    assert (await api.get("/api/reservations", token=buyer["token"])).json["items"] == []
    assert page.errors == []
