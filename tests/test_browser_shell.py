"""The shell of the pages in Chromium: the sign-in dialog's fields and toggle, the admin page to a
visitor, an unknown address inside the page, the language switch telling the server and a log-in that
offers the account's own language — in Korean (the default) and English."""
from __future__ import annotations

from playwright.async_api import expect

from tests.support.api import PASSWORD, eventually
from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, signed_in_context
from tests.support.factories import make_round

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


async def test_the_pages_are_korean_by_default_and_the_switch_to_english_survives_a_reload(server, api, browser):
    await make_round(api, await api.token(admin=True), prices={"R": 120000, "S": 120000})
    for size, viewport in (("desktop", WIDE), ("phone", PHONE)):
        page = await open_page(await signed_in_context(browser, None, viewport, language=None), server.url + "/")
        home = page.locator(".topbar nav a[href='#/']")        # (on a phone the brand stands in for it)
        assert await page.evaluate("document.documentElement.lang") == "ko"
        await expect(home).to_have_text("공연")
        await expect(page.get_by_text("120,000원").first).to_be_visible()          # money in won, Korean style
        await expect(page.locator("#account button")).to_have_text("로그인 / 회원가입")
        await screenshot(page, f"shell-korean-{size}")

        await page.get_by_role("button", name="English").click()
        await expect(home).to_have_text("Performances")
        assert await page.evaluate("document.documentElement.lang") == "en"
        await expect(page.get_by_text("120,000 won").first).to_be_visible()
        await page.reload()
        await expect(home).to_have_text("Performances")
        await screenshot(page, f"shell-english-{size}")

        await page.get_by_role("button", name="한국어").click()                 # and back
        await expect(home).to_have_text("공연")
        assert page.errors == []


async def test_both_catalogues_have_the_same_words(server, browser):
    page = await open_page(await signed_in_context(browser, None), server.url + "/")
    keys = await page.evaluate("""async () => {
        const [ko, en] = await Promise.all([import('/static/js/i18n/ko.js'), import('/static/js/i18n/en.js')]);
        return [Object.keys(ko.default).sort(), Object.keys(en.default).sort()];
    }""")
    assert keys[0] and keys[0] == keys[1], set(keys[0]) ^ set(keys[1])


async def test_the_performance_page_names_the_venue_and_the_seats_left_per_grade(server, api, browser):
    admin = await api.token(admin=True)
    show = await make_round(api, admin, prices={"R": 120000, "S": 90000})
    buyer = await api.token()
    sold = [s["id"] for s in show["seats"] if s["grade"] == "S"]
    assert (await api.post(f"/api/rounds/{show['round_id']}/holds", token=buyer, json={"seat_ids": sold})).status == 200
    page = await open_page(await signed_in_context(browser, None, PHONE, language=None),
                           f"{server.url}/#/performances/{show['performance_id']}")
    await expect(page.locator(".venue")).to_have_text("공연장: Blue Hall · Seoul")
    await expect(page.locator(".seats-left")).to_have_text("R석 10 · S석 매진")          # S is all held
    assert await fits_the_phone(page)
    await screenshot(page, "shell-performance-phone")
    assert page.errors == []


async def test_sign_up_shows_its_rules_and_plain_messages_per_field_before_sending(server, browser):
    page = await open_page(await signed_in_context(browser, None, PHONE, language=None), server.url + "/")
    await page.locator("#account button").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="회원가입").click()
    await expect(dialog.locator("#auth-password-hint")).to_have_text("비밀번호는 8자 이상 128자 이하로 입력해 주세요.")
    await dialog.get_by_label("이메일").fill("not-an-address")
    await dialog.get_by_label("비밀번호").fill("short")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/api/auth/" in request.url else None)
    await dialog.locator("#auth-submit").click()
    await expect(dialog.locator("#auth-email-error")).to_have_text("올바른 이메일 주소를 입력해 주세요. (예: name@example.com)")
    await expect(dialog.locator("#auth-password-error")).to_have_text(
        "비밀번호 길이가 맞지 않습니다: 8자 이상 128자 이하로 입력해 주세요.")
    await expect(dialog.get_by_label("비밀번호")).to_have_attribute("aria-invalid", "true")
    assert sent == []                                   # refused in the page: nothing raw can come back
    assert "Expected" not in await dialog.inner_text()
    await screenshot(page, "shell-signup-problems-phone")

    # Corrected, it signs up; an address already taken is said in words.
    await dialog.get_by_label("이메일").fill("jiwoo@example.com")
    await dialog.get_by_label("비밀번호").fill("correct horse battery")
    await dialog.locator("#auth-submit").click()
    await expect(page.locator("#account")).to_contain_text("jiwoo")
    assert page.errors == []


async def test_on_a_phone_the_header_is_one_slim_row_in_both_languages(server, api, browser):
    me = await api.user()
    for language in (None, "en"):
        for account in (None, me):
            page = await open_page(await signed_in_context(browser, account, PHONE, language=language), server.url + "/")
            await expect(page.locator(".catalogue, .performances, main h1").first).to_be_visible()
            header = await page.locator(".topbar").bounding_box()
            assert header["height"] <= 64, (language, account is not None, header)
            assert await fits_the_phone(page)
            for part in (".brand", "#language-switch", "#account button"):     # all of it on the screen
                box = await page.locator(part).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (part, box)
            await screenshot(page, f"shell-header-phone-{language or 'ko'}-{'in' if account else 'out'}")
            assert page.errors == []


async def test_the_language_switch_and_sign_up_tell_the_server_the_language(server, api, browser):
    account = await api.user()
    assert account["user"]["language"] == "ko"

    async def language_on_the_server(token: str, expected: str):
        return await eventually(lambda: _language_is(api, token, expected), timeout=10)

    # Signed in, the header's switch changes the account's language too, whichever way.
    for size, viewport, start, switch, then in (("desktop", WIDE, None, "English", "en"),
                                                ("phone", PHONE, "en", "한국어", "ko")):
        page = await open_page(await signed_in_context(browser, account, viewport, language=start), server.url + "/")
        await page.get_by_role("button", name=switch).click()
        await expect(page.locator("html")).to_have_attribute("lang", then)
        await language_on_the_server(account["token"], then)
        await expect(page.locator("#account")).to_contain_text("Tester")               # (shown again in full)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await screenshot(page, f"shell-language-switched-{size}")
        assert page.errors == []

    # The server not answering does not stop the switch.
    page = await open_page(await signed_in_context(browser, account, PHONE, language="ko"), server.url + "/")
    await page.route("**/api/users/me", lambda route: route.abort() if route.request.method == "PATCH"
                     else route.continue_())
    await page.get_by_role("button", name="English").click()
    await expect(page.locator(".topbar nav a[href='#/']")).to_have_text("Performances")
    assert (await api.get("/api/users/me", token=account["token"])).json["language"] == "ko" and page.errors == []

    # Signing up on an English page makes an English account.
    page = await open_page(await signed_in_context(browser, None, WIDE, language="en"), server.url + "/")
    await page.locator("#account button").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Sign up").click()
    await dialog.get_by_label("Email").fill("jane@example.com")
    await dialog.get_by_label("Password").fill(PASSWORD)
    await dialog.locator("#auth-submit").click()
    await expect(page.locator("#account")).to_contain_text("jane")
    login = await api.post("/api/auth/login", json={"email": "jane@example.com", "password": PASSWORD})
    assert (await api.get("/api/users/me", token=login.json["access_token"])).json["language"] == "en"
    assert page.errors == []


async def _language_is(api, token: str, expected: str) -> bool:
    return (await api.get("/api/users/me", token=token)).json["language"] == expected


async def log_in(page, email: str) -> None:
    await page.locator("#account button").click()
    dialog = page.get_by_role("dialog")
    await dialog.locator("input[name=email]").fill(email)
    await dialog.locator("input[name=password]").fill(PASSWORD)
    await dialog.locator("#auth-submit").click()


async def test_a_log_in_offers_the_accounts_own_language_without_switching_the_page(server, api, browser):
    english = await api.user()
    assert (await api.patch("/api/users/me", token=english["token"], json={"language": "en"})).status == 200
    for size, viewport in (("desktop", WIDE), ("phone", PHONE)):
        page = await open_page(await signed_in_context(browser, None, viewport, language=None), server.url + "/")
        await log_in(page, english["user"]["email"])
        offer = page.locator(".toast", has_text="Your account is set to English.")
        await expect(offer).to_be_visible()
        await expect(page.locator("#account button")).to_have_text("로그아웃")     # signed in; the page stays Korean
        assert await page.evaluate("document.documentElement.lang") == "ko"
        await screenshot(page, f"shell-offer-language-{size}")
        await offer.get_by_role("button", name="Show the pages in English").click()
        await expect(page.locator("#account button")).to_have_text("Log out")
        assert await page.evaluate("document.documentElement.lang") == "en"
        assert page.errors == []

    # An account in the page's own language is offered nothing (the toast would be there by now: it is
    # shown in the same turn as the header changes).
    korean = await api.user()
    page = await open_page(await signed_in_context(browser, None, WIDE, language=None), server.url + "/")
    await log_in(page, korean["user"]["email"])
    await expect(page.locator("#account button")).to_have_text("로그아웃")
    await expect(page.locator(".toast")).to_have_count(0)
    assert page.errors == []
