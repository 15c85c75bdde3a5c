"""Support for the browser tests: the real application on a real TCP port (restartable, so a test can
take the server away under a page), an API client against it, and Chromium through Playwright.

Playwright drives Debian's Chromium (`/usr/bin/chromium`; scripts/with-backends installs it):
Playwright's own browser download is not used. The fixtures at the end are registered by tests/conftest.py.
"""
from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from server.app import create_app
from server.settings import Settings
from tests.support.api import ApiClient
from tests.support.backends import settings_for, sqlite_copy
from tests.support.instances import free_port

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
expect.set_options(timeout=10_000)


class LiveServer:
    """The app from the real factory, served on 127.0.0.1:<port> as `python -m server serve` would.
    `stop()` then `start()` is a server restart on the same port: a new app on the same database."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, before_listening: Callable[[web.Application], Awaitable[None]] | None = None) -> None:
        """Open the app's resources, run `before_listening(app)` (nobody can connect yet), then listen."""
        self.app = create_app(self.settings)
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        if before_listening is not None:
            await before_listening(self.app)
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        """Graceful shutdown, as on SIGTERM: sockets get a close frame, then the port is closed."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class Api(ApiClient):
    """tests.support.api.ApiClient against a LiveServer's URL."""

    def __init__(self, http: aiohttp.ClientSession):
        super().__init__(http)  # type: ignore[arg-type]  (ClientSession.request has the same shape)

    async def user(self, *, admin: bool = False) -> dict:
        """A new signed-in account: {token, user}."""
        return await self.account(await self.token(admin=admin))

    async def account(self, token: str) -> dict:
        """The signed-in account of `token`, as signed_in_context takes it: {token, user}."""
        me = await self.get("/api/users/me", token=token)
        assert me.status == 200, me.json
        return {"token": token, "user": me.json}


async def signed_in_context(browser: Browser, account: dict | None, viewport: dict = DESKTOP, *,
                            language: str | None = "en", touch: bool = False) -> BrowserContext:
    """A browser context whose page starts signed in as `account` (the page's own session storage), in
    `language` until the page's switch chooses another (None: the page's own default, Korean); with
    `touch`, a phone's touch screen (a coarse pointer, taps)."""
    context = await browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    if language is not None:
        await context.add_init_script(
            f"if (!localStorage.getItem('ticketblue.lang')) localStorage.setItem('ticketblue.lang', {json.dumps(language)});")
    if account is not None:
        saved = {"token": account["token"], "user": account["user"], "expiresAt": 4102444800000}
        await context.add_init_script(f"localStorage.setItem('ticketblue.session', {json.dumps(json.dumps(saved))});")
    return context


async def open_page(context: BrowserContext, url: str) -> Page:
    """A page with its JavaScript errors collected in `page.errors` (a test asserts there are none),
    what the Content-Security-Policy refused included, and the page's own response in `page.response`."""
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.response = await page.goto(url)
    return page


def seat(page: Page, section: str, row: int, number: int):
    """A seat on the map (or in the list) by its accessible name, whatever its state."""
    return page.get_by_role("button", name=re.compile(rf"^Section {section}, row {row}, seat {number},"))


async def fits_the_phone(page: Page) -> bool:
    """Whether the page needs no sideways scrolling on a phone (390 px): what a buyer page must never need."""
    return await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


# ---- fixtures of the test_browser* modules ------------------------------------------------------------
@pytest.fixture
async def server(tmp_path, sqlite_template, settings_overrides):
    """The real app on SQLite with the in-process seat engine, on a real port (a test module changes its
    settings by overriding `settings_overrides`, as for the other tests)."""
    live = LiveServer(settings_for(tmp_path, sqlite_copy(sqlite_template, tmp_path), **settings_overrides))
    await live.start()
    yield live
    await live.stop()


@pytest.fixture
async def api(server):
    async with aiohttp.ClientSession(base_url=server.url) as http:
        yield Api(http)


@asynccontextmanager
async def chromium(*switches: str):
    """Chromium with more command-line `switches` if a test needs them (a fake camera, say)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", *switches])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser():
    async with chromium() as launched:
        yield launched
