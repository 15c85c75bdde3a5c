"""The pages and the API docs work in a real browser under the server's Content-Security-Policy (no
inline script or style for it to refuse), and refuse to be framed."""
from __future__ import annotations

from playwright.async_api import expect

from tests.support.api import eventually
from tests.support.browser import open_page, screenshot
from tests.support.factories import make_round


async def test_the_pages_and_the_api_docs_work_under_the_policy(server, api, browser):
    await make_round(api, await api.token(admin=True))
    context = await browser.new_context()
    pages = {path: await open_page(context, server.url + path) for path in ("/", "/admin", "/docs")}
    for page in pages.values():
        policy = page.response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    await expect(pages["/"].get_by_role("link", name="Test Show", exact=True)).to_be_visible()
    await expect(pages["/admin"].get_by_role("main")).to_contain_text("관리자 계정으로 로그인")   # (Korean first)
    await expect(pages["/docs"].get_by_role("heading", name="Ticket Blue")).to_be_visible()
    await expect(pages["/docs"].get_by_text("/api/auth/logout")).to_be_visible()
    await screenshot(pages["/"], "policy-home")
    for path, page in pages.items():
        assert page.errors == [], (path, page.errors)


async def test_another_site_cannot_frame_the_pages(server, browser):
    page = await (await browser.new_context()).new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text))
    await page.set_content(f'<iframe src="{server.url}/"></iframe>')
    await eventually(lambda: any("frame-ancestors 'none'" in text for text in refused))     # Chromium's refusal
