"""The browser pages in static/, served by the server itself (no build step): the seat-picking page
at /, the admin page at /admin, their CSS and JavaScript modules under /static, posters under /media.

Pages and modules are sent with `Cache-Control: no-cache`: browsers keep them but ask again
(a cheap 304 thanks to Last-Modified), so a deploy never leaves a page with yesterday's modules.
"""
from __future__ import annotations

from aiohttp import web

from server.settings import REPO_ROOT
from server.wiring import SETTINGS

STATIC = REPO_ROOT / "static"
REVALIDATED = ("/static/",)
PAGES = {"/": "index.html", "/admin": "admin.html"}


def setup(app: web.Application) -> None:
    def page(name: str):
        async def serve(request: web.Request) -> web.FileResponse:
            return web.FileResponse(STATIC / name)
        return serve

    for path, name in PAGES.items():
        app.router.add_get(path, page(name))
    app.router.add_static("/static", STATIC)
    media = app[SETTINGS].resolved_media_dir
    if not app[SETTINGS].s3_bucket:
        media.mkdir(parents=True, exist_ok=True)
        app.router.add_static("/media", media)
    app.on_response_prepare.append(_revalidate)


async def _revalidate(request: web.Request, response: web.StreamResponse) -> None:
    if request.path in PAGES or request.path.startswith(REVALIDATED):
        response.headers.setdefault("Cache-Control", "no-cache")
