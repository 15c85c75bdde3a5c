"""The box office's on-sale view in a real browser: a round picked by performance and date, its figures
moving by themselves as a buyer holds and pays through the API, on a desktop and on a phone; and asked
for only while the view is in sight."""
from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import expect

from tests.support.api import eventually
from tests.support.browser import PHONE, fits_the_phone, open_page, screenshot, signed_in_context
from tests.support.factories import make_round, pay

WIDE = {"width": 1366, "height": 900}


async def admitted(api, queue: str, token: str) -> bool:
    return (await api.get(queue, token=token)).json["status"] == "admitted"


def grade_row(page, grade: str):
    return page.get_by_role("row", name=re.compile(rf"^{grade} "))


@pytest.mark.parametrize("viewport, name", [(WIDE, "desktop"), (PHONE, "phone")])
async def test_the_figures_move_as_a_buyer_holds_and_pays(server, api, browser, viewport, name):
    admin = await api.user(admin=True)
    show = await make_round(api, admin["token"])         # 10 R seats at 120,000 won, 5 S at 90,000
    assert (await api.put(f"/api/rounds/{show['round_id']}/waiting-room", token=admin["token"], json={
        "enabled": True, "max_active": 50, "admit_per_minute": 100})).status == 200
    page = await open_page(await signed_in_context(browser, admin, viewport), f"{server.url}/admin#/sales")
    main = page.get_by_role("main")

    # Picked as the booking search picks: the performance, then the round by its date.
    await expect(main.get_by_label(re.compile(r"^Date"))).to_be_disabled()
    await main.get_by_label("Performance").select_option(label="Test Show")
    date = main.get_by_label(re.compile(r"^Date"))
    await date.select_option(index=1)
    await expect(page).to_have_url(re.compile(rf"#/sales/{show['round_id']}$"))
    await expect(date).to_have_value(str(show["round_id"]))
    await expect(grade_row(page, "R")).to_have_text(re.compile(r"R\s*10 seats · 120,000 won\s*0\s*0\s*0\s*10"))
    await expect(main.get_by_text("This round sells without a waiting room.")).to_have_count(0)
    waiting = page.locator(".onsale-card", has_text="Waiting")
    await expect(waiting).to_have_text(re.compile(r"Waiting\s*0 people"))

    # A buyer holds two R seats: held, without a reload.
    buyer = await api.user()
    queue = f"/api/rounds/{show['round_id']}/queue"
    assert (await api.post(queue, token=buyer["token"])).status == 200
    await eventually(lambda: admitted(api, queue, buyer["token"]))
    seats = show["seat_ids"][:2]
    held = await api.post(f"/api/rounds/{show['round_id']}/holds", token=buyer["token"], json={"seat_ids": seats})
    assert held.status == 200, held.json
    await expect(grade_row(page, "R")).to_have_text(re.compile(r"120,000 won\s*0\s*2\s*0\s*8$"), timeout=10_000)

    # ... books and pays: sold, with the revenue, in this minute's bar.
    booked = await api.post("/api/reservations", token=buyer["token"], json={"round_id": show["round_id"], "seat_ids": seats})
    assert booked.status == 201, booked.json
    _, paid = await pay(api, buyer["token"], booked.json)
    assert paid.status == 200, paid.json
    await expect(grade_row(page, "R")).to_have_text(re.compile(r"120,000 won\s*2\s*0\s*0\s*8$"), timeout=10_000)
    await expect(page.locator(".onsale-card", has_text="Revenue")).to_have_text(re.compile(r"240,000 won"))
    await expect(page.locator(".onsale-card", has_text="Seats sold")).to_have_text(re.compile(r"2 of 15"))
    await expect(page.get_by_role("img", name=re.compile(r"^2 seats for 240,000 won in the last 60 minutes"))).to_be_visible()
    await expect(page.locator(".onsale-card", has_text="Admitted in total")).to_have_text(re.compile(r"1 person"))
    if viewport is PHONE:
        assert await fits_the_phone(page)
    await screenshot(page, f"admin-onsale-{name}", full_page=True)
    assert page.errors == []



async def test_the_figures_are_asked_for_only_while_the_view_is_shown(server, api, browser):
    """Every 3 s while the view is in sight; not while the tab is hidden (and at once when it is back),
    never again once another view is open. The page's clock is Playwright's, moved by hand, and the
    page counts its own asks as it makes them: what did not happen in 30 s of it did not happen."""
    admin = await api.user(admin=True)
    show = await make_round(api, admin["token"])
    context = await signed_in_context(browser, admin, WIDE)
    await context.clock.install()
    sales = f"/api/admin/rounds/{show['round_id']}/sales"
    await context.add_init_script("""(() => {
        window.salesAsked = 0;
        const fetch = window.fetch;
        window.fetch = (resource, ...rest) => {
            if (String(resource).endsWith(%s)) window.salesAsked += 1;
            return fetch(resource, ...rest);
        };
    })();""" % json.dumps(sales))
    page = await open_page(context, f"{server.url}/admin#/sales/{show['round_id']}")

    async def asked() -> int:
        return await page.evaluate("window.salesAsked")

    async def show_tab(state: str) -> None:
        await page.evaluate("""(state) => {
            Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
            document.dispatchEvent(new Event("visibilitychange")); }""", state)

    # (Each wait for new figures on the page is also a wait for the next ask to be planned: the
    # timer is set in the same turn as the figures are drawn.)
    buyer = await api.user()
    holds = f"/api/rounds/{show['round_id']}/holds"
    await expect(grade_row(page, "R")).to_have_text(re.compile(r"120,000 won\s*0\s*0\s*0\s*10$"))
    assert await asked() == 1
    assert (await api.post(holds, token=buyer["token"], json={"seat_ids": show["seat_ids"][:2]})).status == 200
    await page.clock.run_for(3_000)
    assert await asked() == 2
    await expect(grade_row(page, "R")).to_have_text(re.compile(r"120,000 won\s*0\s*2\s*0\s*8$"))

    await show_tab("hidden")
    await page.clock.run_for(30_000)
    assert await asked() == 2
    assert (await api.delete(holds, token=buyer["token"], json={"seat_ids": show["seat_ids"][:2]})).status == 204
    await show_tab("visible")                        # back in sight: asked at once
    assert await asked() == 3
    await expect(grade_row(page, "R")).to_have_text(re.compile(r"120,000 won\s*0\s*0\s*0\s*10$"))

    await page.get_by_role("link", name="Halls").click()
    await expect(page).to_have_url(re.compile(r"#/halls$"))
    await page.clock.run_for(30_000)
    assert await asked() == 3
    assert page.errors == []
