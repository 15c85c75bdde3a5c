"""Static files and large JSON answers leave compressed for clients that take it (identity for those
that do not), static files carry an ETag answered 304, URLs that name their content live a year,
and the rest revalidate."""
from __future__ import annotations

import gzip
import json

import aiohttp
import brotli
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from handlers.assets import AssetFolder
from server.app import create_app
from tests.support.api import ApiClient
from tests.support.backends import settings_for, sqlite_copy
from tests.support.factories import make_round

BUNDLE = "/docs/static/swagger-ui-bundle.js"
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


@pytest.fixture
async def http(tmp_path, sqlite_template):
    settings = settings_for(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


@pytest.fixture
async def raw(http):
    """A client that shows the bytes as sent (no decompression) and asks for no coding unless told."""
    async with aiohttp.ClientSession(http.make_url(""), auto_decompress=False,
                                     skip_auto_headers=["Accept-Encoding"]) as session:
        async def get(path: str, **headers: str) -> tuple[aiohttp.ClientResponse, bytes]:
            async with session.get(path, headers={k.replace("_", "-"): v for k, v in headers.items()}) as reply:
                return reply, await reply.read()
        yield get


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_the_swagger_bundle_comes_compressed_and_a_matching_etag_is_304(raw, coding):
    plain, original = await raw(BUNDLE)
    assert plain.status == 200 and "Content-Encoding" not in plain.headers and len(original) > 1_000_000
    packed, body = await raw(BUNDLE, Accept_Encoding=f"{coding}, identity;q=0.5")
    assert packed.status == 200 and packed.headers["Content-Encoding"] == coding
    assert "accept-encoding" in packed.headers["Vary"].lower()
    assert len(body) < len(original) / 3 and DECODE[coding](body) == original
    assert packed.headers["ETag"] != plain.headers["ETag"]          # one tag per coding: caches keep each
    again, empty = await raw(BUNDLE, Accept_Encoding=coding, If_None_Match=packed.headers["ETag"])
    assert again.status == 304 and empty == b"" and again.headers["ETag"] == packed.headers["ETag"]


async def test_a_client_without_accept_encoding_or_refusing_every_coding_gets_identity(raw):
    for headers in ({}, {"Accept_Encoding": "gzip;q=0, br;q=0"}, {"Accept_Encoding": "compress"}):
        reply, body = await raw("/static/js/app.js", **headers)
        assert reply.status == 200 and "Content-Encoding" not in reply.headers, headers
        assert body.decode().strip()
    reply, _ = await raw("/static/js/app.js", Accept_Encoding="*")
    assert reply.headers["Content-Encoding"] == "br"


async def test_the_docs_link_the_bundle_by_its_content_and_that_url_lives_a_year(raw):
    page, html = await raw("/docs")
    assert page.headers["Cache-Control"] == "no-cache"
    linked = next(part.split('"')[0] for part in html.decode().split('src="')[1:] if part.startswith(BUNDLE))
    assert "?v=" in linked
    versioned, _ = await raw(linked, Accept_Encoding="gzip")
    assert versioned.status == 200 and versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for stale in (BUNDLE, BUNDLE + "?v=0123456789abcdef0123"):     # no version, or not this content's
        reply, _ = await raw(stale, Accept_Encoding="gzip")
        assert reply.headers["Cache-Control"] == "no-cache", stale


@pytest.mark.parametrize("path", ["/", "/admin", "/static/js/app.js", "/static/css/base.css"])
async def test_pages_and_modules_revalidate_and_an_unchanged_one_is_304(raw, path):
    first, body = await raw(path, Accept_Encoding="gzip")
    assert first.status == 200 and first.headers["Cache-Control"] == "no-cache"
    assert first.headers["Content-Encoding"] == "gzip" and gzip.decompress(body)
    again, empty = await raw(path, Accept_Encoding="gzip", If_None_Match=f'"other", W/{first.headers["ETag"]}')
    assert again.status == 304 and empty == b"" and again.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/static/..%2Fserver%2Fsettings.py", "/static/js/", "/static/.hidden",
                                  "/static/no-such-file.js"])
async def test_nothing_outside_the_folder_or_missing_is_served(raw, path):
    reply, body = await raw(path)
    assert reply.status == 404 and b"Ticket Blue" in body and b"REPO_ROOT" not in body


async def test_a_file_changed_on_disk_is_read_again_with_a_new_etag(aiohttp_client, tmp_path):
    (tmp_path / "a.js").write_text("export const word = 'first';\n" * 20)
    app = web.Application()
    app.router.add_get("/files/{path:.+}", AssetFolder(tmp_path).route())
    client = await aiohttp_client(app)
    first = await client.get("/files/a.js")
    assert "first" in await first.text()
    (tmp_path / "a.js").write_text("export const word = 'second, longer';\n" * 20)
    changed = await client.get("/files/a.js", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status == 200 and "second" in await changed.text()
    assert changed.headers["ETag"] != first.headers["ETag"]


async def test_a_seat_map_comes_gzipped_and_a_small_answer_does_not(http, raw):
    api = ApiClient(http)
    sections = [{"name": name, "rows": 5, "seats_per_row": 10, "grade": "R"} for name in "AB"]
    show = await make_round(api, await api.token(admin=True), sections=sections, prices={"R": 120000})
    path = f"/api/rounds/{show['round_id']}/seats"
    plain, original = await raw(path)
    assert plain.status == 200 and "Content-Encoding" not in plain.headers and len(json.loads(original)["seats"]) == 100
    packed, body = await raw(path, Accept_Encoding="gzip, deflate, br")
    assert packed.headers["Content-Encoding"] == "gzip" and "accept-encoding" in packed.headers["Vary"].lower()
    assert len(body) < len(original) / 3 and json.loads(gzip.decompress(body))["seats"] == json.loads(original)["seats"]
    small, _ = await raw("/api/time", Accept_Encoding="gzip")
    assert small.status == 200 and "Content-Encoding" not in small.headers


async def test_the_openapi_document_comes_gzipped_with_an_etag_answered_304(raw):
    plain, original = await raw("/openapi.json")
    assert plain.status == 200 and plain.headers["Content-Type"] == "application/json"
    assert "Content-Encoding" not in plain.headers and json.loads(original)["openapi"].startswith("3.1")
    packed, body = await raw("/openapi.json", Accept_Encoding="gzip, deflate, br")     # gzip, as every JSON answer
    assert packed.headers["Content-Encoding"] == "gzip" and "accept-encoding" in packed.headers["Vary"].lower()
    assert gzip.decompress(body) == original and packed.headers["ETag"] != plain.headers["ETag"]
    again, empty = await raw("/openapi.json", Accept_Encoding="gzip", If_None_Match=packed.headers["ETag"])
    assert again.status == 304 and empty == b"" and again.headers["Cache-Control"] == "no-cache"
