"""The browser pages in static/, served by the server itself (no build step)."""
from __future__ import annotations

from aiohttp import web

from server.app_keys import SETTINGS
from server.settings import REPO_ROOT

STATIC = REPO_ROOT / "static"


def setup(app: web.Application) -> None:
    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def admin(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "admin.html")

    app.router.add_get("/", index)
    app.router.add_get("/admin", admin)
    app.router.add_static("/static", STATIC)
    media = app[SETTINGS].resolved_media_dir
    if not app[SETTINGS].s3_bucket:
        media.mkdir(parents=True, exist_ok=True)
        app.router.add_static("/media", media)
