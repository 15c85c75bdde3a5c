"""The admin page in a real browser: from an empty catalogue to a bookable round with blocked seats,
a coupon, and a booking found by search — every step through the page's own forms."""
from __future__ import annotations

import re

from playwright.async_api import expect

from tests.support.browser import DESKTOP, PHONE, open_page, screenshot, seat, signed_in_context
from tests.support.posters import PNG


async def open_view(page, name: str) -> None:
    """Follow a menu link and wait for its view: until then the old view's fields are still there
    (a label such as "Name" would find the previous form)."""
    await page.get_by_role("link", name=name, exact=True).click()
    await expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()


async def test_an_admin_builds_a_show_blocks_seats_and_finds_a_booking(server, api, browser, tmp_path):
    admin = await api.user(admin=True)
    page = await open_page(await signed_in_context(browser, admin, DESKTOP), f"{server.url}/admin#/halls")
    main = page.get_by_role("main")        # (the closed sign-in dialog has fields with the same labels)

    # A hall from two sections, previewed before it exists.
    await main.get_by_label("Name", exact=True).fill("Grand Hall")
    await main.get_by_label("Address").fill("Seoul")
    await page.get_by_role("button", name="Add section").click()
    second = page.locator(".sections-table tbody tr").nth(1)
    await second.get_by_label("Section name").fill("B")
    await second.get_by_label("Rows").fill("2")
    await second.get_by_label("Seats per row").fill("8")
    await second.get_by_label("Grade").fill("S")
    await expect(page.locator(".preview-caption")).to_have_text("Preview: 66 seats")
    await expect(page.get_by_role("group", name="Preview of the layout, 66 seats").get_by_role("button")).to_have_count(66)
    await screenshot(page, "admin-hall-desktop")
    await page.get_by_role("button", name="Create hall").click()
    await expect(page.get_by_role("row", name=re.compile("Grand Hall Seoul 66"))).to_be_visible()

    await open_view(page, "Performers")
    await main.get_by_label("Name").fill("Han Ji-woo")
    await page.get_by_role("button", name="Add performer").click()
    await expect(page.get_by_role("cell", name="Han Ji-woo", exact=True)).to_be_visible()

    # A performance with a price per grade of the hall and a poster.
    await open_view(page, "Performances")
    await main.get_by_label("Title").fill("Blue Night")
    await main.get_by_label("Hall").select_option(label="Grand Hall (66 seats)")
    await main.get_by_label("R grade").fill("110000")
    await main.get_by_label("S grade").fill("70000")
    await main.get_by_label("First day").fill("2030-05-01")
    await main.get_by_label("Last day").fill("2030-05-31")
    poster = tmp_path / "poster.png"
    poster.write_bytes(PNG)
    await main.get_by_label("Poster (PNG, JPEG or WebP, up to 5 MiB)").set_input_files(str(poster))
    await page.get_by_role("button", name="Create performance").click()
    await expect(page.get_by_role("img", name="Poster of Blue Night")).to_be_visible()
    # The form starts again for the next show: no hall's price fields left, the duration not blanked.
    await expect(main.get_by_label("R grade")).to_have_count(0)
    await expect(main.get_by_text("Choose a hall first.")).to_be_visible()
    await expect(main.get_by_label("Duration (minutes)")).to_have_value("120")
    await main.get_by_label("Add a performer to Blue Night").select_option(label="Han Ji-woo")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_role("row", name=re.compile("Blue Night")).get_by_text("Han Ji-woo", exact=True)).to_be_visible()

    # A round, then two of its seats taken off sale on the live map.
    await open_view(page, "Rounds & seats")
    await main.get_by_label("Performance").select_option(label="Blue Night")
    await main.get_by_label("Starts at (Asia/Seoul)").fill("2030-05-02T19:30")
    await page.get_by_role("button", name="Add round").click()
    await page.get_by_role("link", name=re.compile(r"^Seats of .*2 May 2030.*19:30")).click()
    await seat(page, "A", 1, 1).click()
    await seat(page, "A", 1, 2).click()
    await expect(page.get_by_text("2 seats selected")).to_be_visible()
    await page.get_by_role("button", name="Block selected", exact=True).click()
    for number in (1, 2):
        await expect(seat(page, "A", 1, number)).to_have_attribute("aria-label", re.compile(r", not for sale$"))
    performance = (await api.get("/api/performances?q=Blue")).json["items"][0]
    round_id = (await api.get(f"/api/performances/{performance['id']}/rounds")).json["items"][0]["id"]
    availability = await api.get(f"/api/rounds/{round_id}/availability")
    assert (availability.json["blocked"], availability.json["available"]) == (2, 64)
    await screenshot(page, "admin-seats-desktop")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "admin-seats-phone")
    await page.set_viewport_size(DESKTOP)

    # A coupon.
    await open_view(page, "Coupons")
    await main.get_by_label("Name").fill("Spring")
    await main.get_by_label("Discount", exact=True).fill("5000")
    await main.get_by_label("Quantity").fill("100")
    await main.get_by_label("Valid from (Asia/Seoul)").fill("2020-01-01T00:00")
    await main.get_by_label("Valid until (Asia/Seoul)").fill("2099-01-01T00:00")
    await page.get_by_role("button", name="Create coupon").click()
    await expect(page.get_by_role("row", name=re.compile(r"Spring \(5,000 won off\) Live 0 of 100"))).to_be_visible()

    # Someone books; the admin finds the booking by their email.
    buyer = await api.user()
    seat_ids = [s["id"] for s in (await api.get(f"/api/rounds/{round_id}/seats")).json["seats"]
                if s["status"] == "available"][:2]
    assert (await api.post(f"/api/rounds/{round_id}/holds", token=buyer["token"], json={"seat_ids": seat_ids})).status == 200
    booked = await api.post("/api/reservations", token=buyer["token"], json={"round_id": round_id, "seat_ids": seat_ids})
    assert booked.status == 201, booked.json
    await open_view(page, "Bookings")
    await main.get_by_label("User email").fill(buyer["user"]["email"])
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("1 booking", exact=True)).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile(
        rf"{booked.json['id']} .*{re.escape(buyer['user']['email'])}.* Blue Night Thu, 2 May 2030, 19:30 2 220,000 won pending"))) \
        .to_be_visible()
    # The round is picked by its date once the performance is chosen, never typed as an id.
    await main.get_by_label("User email").fill("")
    await expect(main.get_by_label(re.compile(r"^Date"))).to_be_disabled()
    await main.get_by_label("Performance").select_option(label="Blue Night")
    await main.get_by_label(re.compile(r"^Date")).select_option(label="Thu, 2 May 2030, 19:30")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("row", name=re.compile(rf"^{booked.json['id']} "))).to_be_visible()
    await screenshot(page, "admin-bookings-desktop")
    assert page.errors == []
