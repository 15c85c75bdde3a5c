"""The admin page corrects mistakes (issue 17): things are changed and deleted from their lists, a
confirmation dialog says first what depends on the thing, a round with bookings is refused in words
made from the API's 409 details, and a name already in use is warned about before saving."""
from __future__ import annotations

import re

from playwright.async_api import expect

from tests.support.browser import DESKTOP, PHONE, fits_the_phone, open_page, screenshot, seat, signed_in_context
from tests.support.factories import hold_and_reserve, make_round, window


async def test_an_admin_edits_and_deletes_and_is_told_what_depends(server, api, browser):
    admin = await api.user(admin=True)
    show = await make_round(api, admin["token"])
    other = await api.post("/api/halls", token=admin["token"], json={
        "name": "Small Hall", "address": "Busan", "sections": [{"name": "A", "rows": 1, "seats_per_row": 4, "grade": "R"}]})
    assert other.status == 201
    page = await open_page(await signed_in_context(browser, admin, DESKTOP), f"{server.url}/admin#/halls")
    main = page.get_by_role("main")

    # Renaming a hall to another's name is warned about as it is typed, and saved when asked.
    await page.get_by_role("button", name="Edit Small Hall").click()
    dialog = page.get_by_role("dialog", name="Edit Small Hall")
    await dialog.get_by_label("Name").fill("blue hall ")
    await expect(dialog.get_by_role("status")).to_have_text(re.compile("“blue hall” is already in use"))
    await dialog.get_by_label("Name").fill("Chamber Hall")
    await expect(dialog.get_by_role("status")).to_be_hidden()
    await dialog.get_by_label("Address").fill("Busan, Haeundae")
    await dialog.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("row", name=re.compile("Chamber Hall Busan, Haeundae 4"))).to_be_visible()
    assert (await api.get(f"/api/halls/{other.json['id']}")).json["address"] == "Busan, Haeundae"
    # The new-hall form warns too.
    await main.get_by_label("Name", exact=True).fill("Chamber Hall")
    await expect(main.get_by_role("status")).to_have_text(re.compile("“Chamber Hall” is already in use"))

    # The hall in use says which performance uses it.
    await page.get_by_role("button", name="Delete Blue Hall").click()
    dialog = page.get_by_role("dialog", name="Delete Blue Hall?")
    await expect(dialog).to_contain_text("Performances use this hall: Test Show.")
    await screenshot(page, "admin-delete-hall-desktop")
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_have_text(
        "It cannot be deleted: 1 performance uses this hall. Delete them first.")
    await dialog.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="Delete Chamber Hall").click()
    dialog = page.get_by_role("dialog", name="Delete Chamber Hall?")
    await expect(dialog).to_contain_text("Nothing else depends on it.")
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await expect(page.get_by_role("row", name=re.compile("Chamber Hall"))).to_have_count(0)
    assert (await api.get(f"/api/halls/{other.json['id']}")).status == 404

    # A round with a booking: the dialog says so before, and the server's refusal after.
    buyer = await api.user()
    assert (await hold_and_reserve(api, buyer["token"], show["round_id"], show["seat_ids"][:2])).status == 201
    await page.goto(f"{server.url}/admin#/rounds/{show['performance_id']}")
    await page.get_by_role("button", name=re.compile("^Delete ")).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("2 seats sold: a round with bookings cannot be deleted.")
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_have_text(
        "It cannot be deleted: it has 1 booking (pending, paid or attended). Cancel them first.")
    await expect(dialog.get_by_role("button", name="Delete", exact=True)).to_be_disabled()
    await page.set_viewport_size(PHONE)
    assert await fits_the_phone(page)
    await screenshot(page, "admin-delete-round-phone")
    await page.set_viewport_size(DESKTOP)
    await dialog.get_by_role("button", name="Cancel").click()
    assert (await api.get(f"/api/rounds/{show['round_id']}")).status == 200

    # Its sale opening can still change: the edit sends only what changed.
    await page.get_by_role("button", name=re.compile("^Edit ")).click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Sale opens at (Asia/Seoul; empty: on sale now)").fill("2020-01-01T10:00")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    assert (await api.get(f"/api/rounds/{show['round_id']}")).json["sale_opens_at"].startswith("2020-01-01T10:00:00")

    # A performance is renamed and given new prices; a performer is deleted, leaving its cast.
    performer = await api.post("/api/performers", token=admin["token"], json={"name": "Kim Seo-yeon"})
    assert (await api.post(f"/api/performances/{show['performance_id']}/performers", token=admin["token"],
                           json={"performer_id": performer.json["id"]})).status == 201
    await page.get_by_role("link", name="Performances", exact=True).click()
    await page.get_by_role("button", name="Edit Test Show").click()
    dialog = page.get_by_role("dialog", name="Edit Test Show")
    await dialog.get_by_label("Title").fill("Test Show II")
    await dialog.get_by_label("R grade").fill("130000")
    await dialog.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("row", name=re.compile("Test Show II .*R 130,000 won"))).to_be_visible()
    await page.get_by_role("link", name="Performers", exact=True).click()
    await page.get_by_role("button", name="Delete Kim Seo-yeon").click()
    dialog = page.get_by_role("dialog", name="Delete Kim Seo-yeon?")
    await expect(dialog).to_contain_text("Leaves the cast of Test Show II.")
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await expect(page.get_by_role("cell", name="Kim Seo-yeon", exact=True)).to_have_count(0)
    assert (await api.get(f"/api/performers/{performer.json['id']}")).status == 404
    assert page.errors == []


async def test_the_admin_page_is_in_korean_first(server, api, browser):
    admin = await api.user(admin=True)
    await make_round(api, admin["token"])
    page = await open_page(await signed_in_context(browser, admin, DESKTOP, language=None), f"{server.url}/admin#/halls")
    await expect(page.get_by_role("heading", level=1, name="공연장")).to_be_visible()
    await expect(page.get_by_role("navigation", name="관리 메뉴").get_by_role("link")).to_have_text(
        ["공연장", "출연자", "공연", "회차 · 좌석", "쿠폰", "예매", "판매 현황"])
    await page.get_by_role("button", name="Blue Hall 삭제").click()
    dialog = page.get_by_role("dialog", name="Blue Hall을(를) 삭제할까요?")
    await expect(dialog).to_contain_text("이 공연장을 쓰는 공연: Test Show.")
    await screenshot(page, "admin-delete-hall-ko-desktop")
    assert await page.evaluate("document.documentElement.lang") == "ko"
    assert page.errors == []


async def test_every_coupon_is_listed_with_its_state_and_can_be_corrected(server, api, browser):
    admin = await api.user(admin=True)
    made = {}
    for name, days, quantity in (("Next week", (7, 14), 50), ("Last month", (-30, -20), 10), ("Tiny", (-1, 7), 1)):
        reply = await api.post("/api/coupons", token=admin["token"], json={
            "name": name, "discount_type": "percent", "discount": 10, "quantity": quantity, **window(*days)})
        made[name] = reply.json
    buyer = await api.user()
    assert (await api.post(f"/api/coupons/{made['Tiny']['id']}/issue", token=buyer["token"])).status == 201
    page = await open_page(await signed_in_context(browser, admin, DESKTOP), f"{server.url}/admin#/coupons")
    await expect(page.get_by_role("row", name=re.compile(r"^Next week \(10% off\) Scheduled 0 of 50"))).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile(r"^Last month \(10% off\) Ended 0 of 10"))).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile(r"^Tiny \(10% off\) Sold out 1 of 1"))).to_be_visible()
    await screenshot(page, "admin-coupons-desktop")

    await page.get_by_role("button", name="Edit Tiny").click()
    dialog = page.get_by_role("dialog", name="Edit Tiny")
    await dialog.get_by_label("Name").fill("Next Week")
    await expect(dialog.get_by_role("status")).to_have_text(re.compile("“Next Week” is already in use"))
    await dialog.get_by_label("Name").fill("Tiny plus")
    await dialog.get_by_label("Quantity (at least 1, already issued)").fill("5")
    await dialog.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("row", name=re.compile(r"^Tiny plus \(10% off\) Live 1 of 5"))).to_be_visible()

    await page.get_by_role("button", name="Delete Tiny plus").click()
    dialog = page.get_by_role("dialog", name="Delete Tiny plus?")
    await expect(dialog).to_contain_text("1 person has taken this coupon: it cannot be deleted")
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_contain_text("1 person has taken this coupon")
    await dialog.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="Delete Last month").click()
    await page.get_by_role("dialog", name="Delete Last month?").get_by_role("button", name="Delete", exact=True).click()
    await expect(page.get_by_role("row", name=re.compile("^Last month"))).to_have_count(0)
    await page.set_viewport_size(PHONE)
    assert await fits_the_phone(page)
    await screenshot(page, "admin-coupons-phone")
    listed = (await api.get("/api/admin/coupons", token=admin["token"])).json["items"]
    assert sorted((c["name"], c["quantity"]) for c in listed) == [("Next week", 50), ("Tiny plus", 5)]
    assert page.errors == []


async def test_seats_are_blocked_by_row_by_section_or_by_a_dragged_rectangle(server, api, browser):
    admin = await api.user(admin=True)
    show = await make_round(api, admin["token"])           # A: 2 rows of 5 (R), B: 1 row of 5 (S)
    page = await open_page(await signed_in_context(browser, admin, DESKTOP), f"{server.url}/admin#/seats/{show['round_id']}")
    main = page.get_by_role("main")
    await main.locator("select[name=section]").select_option("B")
    await page.get_by_role("button", name="Select the section").click()
    await expect(page.get_by_text("5 seats selected")).to_be_visible()
    await main.locator("select[name=section]").select_option("A")
    await main.locator("select[name=row]").select_option(label="Row 2")
    await page.get_by_role("button", name="Select the row").click()
    await expect(page.get_by_text("10 seats selected")).to_be_visible()
    await page.get_by_role("button", name="Block selected", exact=True).click()
    await expect(seat(page, "B", 1, 3)).to_have_attribute("aria-label", re.compile(r", not for sale$"))

    # A rectangle from the first seat of row 1 to the third: three seats, whatever lies around them.
    await page.get_by_role("button", name="Drag a rectangle").click()
    first, third = await seat(page, "A", 1, 1).bounding_box(), await seat(page, "A", 1, 3).bounding_box()
    await page.mouse.move(first["x"] + 2, first["y"] + 2)
    await page.mouse.down()
    await page.mouse.move(third["x"] + third["width"] - 2, third["y"] + third["height"] - 2, steps=5)
    await page.mouse.up()
    await expect(page.get_by_text("3 seats selected")).to_be_visible()
    await screenshot(page, "admin-seats-rectangle-desktop")
    await page.get_by_role("button", name="Block selected", exact=True).click()
    await expect(seat(page, "A", 1, 3)).to_have_attribute("aria-label", re.compile(r", not for sale$"))
    availability = (await api.get(f"/api/rounds/{show['round_id']}/availability")).json
    assert (availability["blocked"], availability["available"]) == (13, 2)
    assert page.errors == []
