"""The door's check-in page in Chromium (issue 16). Staff type a paid ticket's code and see it admitted
in green with its holder and seat, then the same code in amber as already checked in (since when), a
canceled booking's ticket and a forged code in red, in Korean and English, on a phone and a desk; the
camera reads a real ticket's QR code where the browser can scan, and lets the camera go afterwards;
where it cannot the page says typing works; visitors and plain accounts are told what the page is."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.support import qr
from tests.support.api import PASSWORD
from tests.support.browser import PHONE, chromium, fits_the_phone, open_page, screenshot, signed_in_context
from tests.support.camera import ANY_CAMERA, camera_tracks, filming, offer_barcode_detector
from tests.support.factories import hold_and_reserve, make_round, pay
from tests.test_browser import seat_id
from tests.test_tickets import log_in, staff_token

WIDE = {"width": 1366, "height": 900}
SEOUL = ZoneInfo("Asia/Seoul")
WORDS = {
    "ko": {"title": "티켓 입장 확인", "menu": "입장 확인", "code": "티켓 코드", "check": "확인", "scan": "카메라로 스캔",
           "stop": "스캔 멈추기", "ok": "입장 확인", "already": "이미 입장 처리된 티켓", "first": "처음 입장 처리",
           "canceled": "취소된 예매의 티켓", "invalid": "유효하지 않은 티켓", "seat": "A구역 1열 2번 · R석",
           "no_camera": "이 브라우저에서는 카메라로 스캔할 수 없습니다. 티켓 코드를 입력해도 똑같이 확인됩니다.",
           "empty": "티켓 코드를 입력해 주세요."},
    "en": {"title": "Ticket check-in", "menu": "Check-in", "code": "Ticket code", "check": "Check",
           "scan": "Scan with the camera", "stop": "Stop scanning", "ok": "Checked in", "already": "Already checked in",
           "first": "First checked in", "canceled": "Ticket of a canceled booking", "invalid": "Not a valid ticket",
           "seat": "Section A, row 1, seat 2 · R grade",
           "no_camera": "This browser cannot scan with the camera. Typing the ticket's code checks it just the same.",
           "empty": "Please type the ticket's code."},
}


async def paid_booking(api, show, seat: int, name: str = "김민지") -> dict:
    """A booking of one seat by a new account called `name`, paid: {token, reservation (with its ticket)}."""
    user = await api.signup(name=name)
    token = await log_in(api, user["email"])
    reserved = await hold_and_reserve(api, token, show["round_id"], [seat])
    assert reserved.status == 201, reserved.json
    _, paid = await pay(api, token, reserved.json)
    assert paid.status == 200, paid.json
    return {"token": token, "reservation": (await api.get(f"/api/reservations/{reserved.json['id']}", token=token)).json}


async def a_show(api) -> dict:
    """make_round's show (sections A and B, R and S grades) with its admin's token."""
    admin = await api.token(admin=True)
    return {**await make_round(api, admin), "admin": admin}


def seoul_clock(iso: str) -> str:
    """"19:30": the hour and minute an instant shows on the pages (the venue's zone)."""
    return f"{datetime.fromisoformat(iso).astimezone(SEOUL):%H:%M}"


async def settled(page) -> None:
    """Wait for the answer to finish flashing in (its colours are pale until then)."""
    await page.locator(".verdict").evaluate("el => Promise.all(el.getAnimations().map((a) => a.finished))")


async def answer_colour(page) -> str:
    await settled(page)
    return await page.locator(".verdict").evaluate("el => getComputedStyle(el).backgroundColor")


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["ko", "en"])
async def test_staff_type_a_code_admitted_once_then_told_already_in_and_refused_canceled_and_forged(
        server, api, browser, language, size):
    words = WORDS[language]
    show = await a_show(api)
    holder = await paid_booking(api, show, seat_id(show, "A", 1, 2))
    ticket = holder["reservation"]["tickets"][0]
    canceled = await paid_booking(api, show, seat_id(show, "A", 1, 3), name="이서준")
    assert (await api.post(f"/api/reservations/{canceled['reservation']['id']}/cancel", token=canceled["token"])).status == 200
    ticket_id, secret, _ = ticket["code"].split(".")
    staff = await api.account(await staff_token(api, show["admin"]))
    page = await open_page(await signed_in_context(browser, staff, PHONE if size == "phone" else WIDE,
                                                   language=None if language == "ko" else "en"),
                           f"{server.url}/#/check-in")
    shot = f"check-in-{language}-{size}"

    await expect(page.get_by_role("heading", name=words["title"])).to_be_visible()
    await expect(page.locator("#account").get_by_role("link", name=words["menu"])).to_be_visible()
    field = page.get_by_label(words["code"])
    await expect(field).to_be_focused()
    for name, value in (("autocapitalize", "characters"), ("inputmode", "text"), ("autocomplete", "off")):
        await expect(field).to_have_attribute(name, value)
    await expect(page.locator(".check-in-answer")).to_have_attribute("aria-live", "assertive")
    # This Chromium (Linux) has no BarcodeDetector: no camera button, and typing is said to work.
    await expect(page.get_by_text(words["no_camera"])).to_be_visible()
    await expect(page.get_by_role("button", name=words["scan"])).to_have_count(0)
    await page.get_by_role("button", name=words["check"], exact=True).click()
    await expect(page.get_by_text(words["empty"])).to_be_visible()          # nothing sent: said in words
    await screenshot(page, f"{shot}-0-ready")

    # Typed and Enter: admitted, with the holder, the seat and the show.
    await field.fill(ticket["code"])
    await field.press("Enter")
    verdict = page.locator(".verdict")
    await expect(verdict).to_have_attribute("data-outcome", "ok")
    await expect(verdict.locator(".verdict-word")).to_have_text(words["ok"])
    await expect(verdict.locator(".verdict-holder")).to_have_text("김민지")
    await expect(verdict.locator(".verdict-seat")).to_have_text(words["seat"])
    round_ = (await api.get(f"/api/rounds/{show['round_id']}")).json
    for text in ("Test Show", holder["reservation"]["booking_number"], seoul_clock(round_["starts_at"])):
        await expect(verdict).to_contain_text(text)
    await expect(field).to_have_value("")
    await expect(field).to_be_focused()                                      # ready for the next ticket
    green = await answer_colour(page)
    assert size == "desktop" or await fits_the_phone(page)
    await screenshot(page, f"{shot}-1-admitted")
    booked = (await api.get(f"/api/reservations/{holder['reservation']['id']}", token=holder["token"])).json
    assert booked["status"] == "attended"
    first = booked["tickets"][0]["checked_in_at"]

    # The same code again (typed in lower case, the button this time): already in, since the first time.
    await field.fill(ticket["code"].lower())
    await page.get_by_role("button", name=words["check"], exact=True).click()
    await expect(verdict).to_have_attribute("data-outcome", "already")
    await expect(verdict.locator(".verdict-word")).to_have_text(words["already"])
    await expect(verdict.locator(".verdict-text")).to_contain_text(words["first"])
    await expect(verdict.locator(".verdict-text")).to_contain_text(seoul_clock(first))
    await expect(field).to_have_value("")
    amber = await answer_colour(page)
    await screenshot(page, f"{shot}-2-already")

    # A canceled booking's ticket, then a forged code (the right id and secret, a made-up signature): red.
    await field.fill(canceled["reservation"]["tickets"][0]["code"])
    await field.press("Enter")
    await expect(verdict).to_have_attribute("data-outcome", "canceled")
    await expect(verdict.locator(".verdict-word")).to_have_text(words["canceled"])
    await field.fill(f"{ticket_id}.{secret}.AAAAAAAAAAAAAAAA")
    await field.press("Enter")
    await expect(verdict).to_have_attribute("data-outcome", "invalid")
    await expect(verdict.locator(".verdict-word")).to_have_text(words["invalid"])
    await expect(field).to_be_focused()
    red = await answer_colour(page)
    assert len({green, amber, red}) == 3, (green, amber, red)
    assert size == "desktop" or await fits_the_phone(page)
    await screenshot(page, f"{shot}-3-invalid", full_page=True)

    # The device's recent answers, newest first; still there after a reload.
    recent = page.locator(".recent-check-ins li")
    await expect(recent).to_have_count(4)
    await expect(recent.first).to_contain_text(words["invalid"])
    await expect(recent.nth(2)).to_contain_text(words["already"])
    await expect(recent.last).to_contain_text("김민지")
    await page.reload()
    await expect(page.locator(".recent-check-ins li")).to_have_count(4)
    assert page.errors == []


async def test_a_visitor_and_a_plain_account_are_told_what_the_page_is_and_staff_who_log_in_get_the_desk(server, api, browser):
    page = await open_page(await signed_in_context(browser, None, PHONE, language=None), f"{server.url}/#/check-in")
    await expect(page.get_by_text("입장 확인은 공연장 스태프 또는 관리자 계정으로 합니다. 로그인해 주세요.")).to_be_visible()
    await expect(page.get_by_label("티켓 코드")).to_have_count(0)
    assert await fits_the_phone(page)
    await screenshot(page, "check-in-ko-phone-visitor")
    # Logging in there, as staff, opens the desk.
    staff = await api.account(await staff_token(api, await api.token(admin=True)))
    await page.get_by_role("main").get_by_role("button", name="로그인").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("이메일").fill(staff["user"]["email"])
    await dialog.get_by_label("비밀번호").fill(PASSWORD)
    await dialog.locator("#auth-submit").click()
    await expect(page.get_by_label("티켓 코드")).to_be_focused()

    buyer = await api.user()
    page = await open_page(await signed_in_context(browser, buyer, PHONE, language=None), f"{server.url}/#/check-in")
    await expect(page.get_by_text(re.compile("^이 페이지는 공연장에서 티켓을 확인하는 스태프용입니다."))).to_be_visible()
    await expect(page.get_by_label("티켓 코드")).to_have_count(0)
    await expect(page.locator("#account").get_by_role("link", name="입장 확인")).to_have_count(0)   # no way in
    await screenshot(page, "check-in-ko-phone-not-staff")
    assert page.errors == []


async def test_the_camera_reads_a_real_tickets_qr_checks_it_in_and_lets_the_camera_go(server, api, tmp_path):
    show = await a_show(api)
    holder = await paid_booking(api, show, seat_id(show, "A", 1, 2))
    ticket = holder["reservation"]["tickets"][0]
    svg = await api.get(ticket["qr_url"], token=holder["token"])
    staff = await api.account(await staff_token(api, show["admin"]))
    async with chromium(*filming(qr.drawn(svg.json), tmp_path)) as browser:       # the phone films the ticket
        context = await signed_in_context(browser, staff, PHONE, language=None)
        await context.grant_permissions(["camera"], origin=server.url)
        await offer_barcode_detector(context)
        page = await open_page(context, f"{server.url}/#/check-in")
        scan = page.get_by_role("button", name="카메라로 스캔")
        await expect(page.get_by_text(WORDS["ko"]["no_camera"])).to_have_count(0)
        await scan.click()

        verdict = page.locator(".verdict")
        await expect(verdict).to_have_attribute("data-outcome", "ok")
        await expect(verdict.locator(".verdict-seat")).to_have_text(WORDS["ko"]["seat"])
        await expect(verdict.locator(".verdict-holder")).to_have_text("김민지")
        assert await camera_tracks(page) and set(await camera_tracks(page)) == {"ended"}   # the camera is off
        await expect(page.locator("video")).to_be_hidden()
        await expect(scan).to_be_focused()                    # one tap for the next (no keyboard over the answer)
        assert await fits_the_phone(page)
        await settled(page)
        await screenshot(page, "check-in-ko-phone-4-scanned")
        booked = (await api.get(f"/api/reservations/{holder['reservation']['id']}", token=holder["token"])).json
        assert booked["status"] == "attended"
        assert page.errors == []


async def test_a_scan_stops_with_its_button_or_when_the_page_is_left_and_a_refused_camera_is_said(server, api, tmp_path):
    staff = await api.account(await staff_token(api, await api.token(admin=True)))
    async with chromium(*ANY_CAMERA) as browser:
        context = await signed_in_context(browser, staff, PHONE, language="en")
        await context.grant_permissions(["camera"], origin=server.url)
        await offer_barcode_detector(context)
        page = await open_page(context, f"{server.url}/#/check-in")
        scan = page.get_by_role("button", name=WORDS["en"]["scan"])
        for leave in ("button", "page"):
            await scan.click()
            await expect(page.locator("video")).to_be_visible()
            await expect(page.get_by_text("Hold the ticket's QR code in the middle of the picture.")).to_be_visible()
            await page.wait_for_function("(window.scannedStreams || new Set()).size > 0")     # frames are looked at
            assert set(await camera_tracks(page)) == {"live"}
            if leave == "button":
                await screenshot(page, "check-in-en-phone-scanning")
                await page.get_by_role("button", name=WORDS["en"]["stop"]).click()
                await expect(page.locator("video")).to_be_hidden()
            else:
                await page.locator(".brand").click()                  # (a phone's way to the performances)
                await expect(page.get_by_role("heading", name="Performances")).to_be_visible()
            await page.wait_for_function("[...window.scannedStreams].every((s) => s.getTracks().every("
                                         "(t) => t.readyState === 'ended'))")
            await page.evaluate("window.scannedStreams.clear()")
            if leave == "button":
                await expect(scan).to_have_text(WORDS["en"]["scan"])
        assert page.errors == []

        refused = await signed_in_context(browser, staff, PHONE, language="en")            # no camera permission
        await offer_barcode_detector(refused)
        page = await open_page(refused, f"{server.url}/#/check-in")
        await page.get_by_role("button", name=WORDS["en"]["scan"]).click()
        await expect(page.get_by_text("The camera was not allowed. Please type the ticket's code.")).to_be_visible()
        await expect(page.locator("video")).to_be_hidden()
        assert page.errors == []


async def test_without_the_server_the_page_says_it_could_not_check_and_keeps_the_code_to_try_again(server, api, browser):
    show = await a_show(api)
    ticket = (await paid_booking(api, show, seat_id(show, "A", 1, 2)))["reservation"]["tickets"][0]
    staff = await api.account(await staff_token(api, show["admin"]))
    page = await open_page(await signed_in_context(browser, staff, PHONE, language=None), f"{server.url}/#/check-in")
    field = page.get_by_label("티켓 코드")
    await server.stop()                                             # the door's Wi-Fi is gone
    await field.fill(ticket["code"])
    await field.press("Enter")
    verdict = page.locator(".verdict")
    await expect(verdict).to_have_attribute("data-outcome", "failed")
    await expect(verdict.locator(".verdict-word")).to_have_text("확인하지 못했습니다")
    await expect(field).to_have_value(ticket["code"])                # not an answer about the ticket: kept
    await expect(page.locator(".recent-check-ins li")).to_have_count(0)
    await settled(page)
    await screenshot(page, "check-in-ko-phone-5-no-server")
    await server.start()
    await page.get_by_role("button", name="확인", exact=True).click()
    await expect(verdict).to_have_attribute("data-outcome", "ok")
    assert page.errors == []
