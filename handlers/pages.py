"""The browser pages in static/, served by the server itself (no build step): the seat-picking page
at /, the admin page at /admin, their CSS and JavaScript modules under /static, posters under /media.

Pages and modules are sent by handlers/assets.py: compressed, with an ETag and `Cache-Control:
no-cache` (browsers keep them but ask again, a cheap 304), so a deploy never leaves a page with
yesterday's modules.
"""
from __future__ import annotations

from aiohttp import web

from handlers.assets import AssetFolder
from server.settings import REPO_ROOT
from server.wiring import SETTINGS

STATIC = REPO_ROOT / "static"
PAGES = {"/": "index.html", "/admin": "admin.html"}
# Paths that machines call: an unknown one keeps docs/API.md's JSON error shape.
MACHINE_PREFIXES = ("/api/", "/ws/", "/sandbox/")
NOT_FOUND_PAGE = """<!doctype html>
<html lang="ko">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>페이지를 찾을 수 없습니다 · Ticket Blue</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/base.css">
</head>
<body>
  <header class="topbar"><a class="brand" href="/">Ticket Blue</a></header>
  <main id="main" class="panel stack not-found">
    <h1>페이지를 찾을 수 없습니다</h1>
    <p>주소가 바뀌었거나 없는 페이지입니다.</p>
    <p><a class="button" href="/">공연 목록으로</a></p>
    <p class="muted" lang="en">Page not found. <a href="/?lang=en">Back to the performances</a></p>
  </main>
</body>
</html>
"""


def setup(app: web.Application) -> None:
    static = AssetFolder(STATIC)

    def page(name: str):
        async def serve(request: web.Request) -> web.Response:
            return await static.respond(request, name)
        return serve

    for path, name in PAGES.items():
        app.router.add_get(path, page(name))
    app.router.add_get("/static/{path:.+}", static.route())
    media = app[SETTINGS].resolved_media_dir
    if not app[SETTINGS].s3_bucket:
        media.mkdir(parents=True, exist_ok=True)
        app.router.add_static("/media", media)
    # Innermost (after the error middleware): it sees the router's 404 before that turns it into JSON.
    app.middlewares.append(_not_found_page)


@web.middleware
async def _not_found_page(request: web.Request, handler) -> web.StreamResponse:
    """An unknown address a person typed or followed gets a page (Korean first, a link home)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.path.startswith(MACHINE_PREFIXES):
            raise
        return web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")
