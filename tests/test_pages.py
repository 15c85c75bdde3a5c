"""Unknown addresses: a person gets a page with a way home, a program keeps the API's JSON error."""
from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from tests.support.backends import settings_for, sqlite_copy


@pytest.fixture
async def http(tmp_path, sqlite_template):
    settings = settings_for(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


@pytest.mark.parametrize("path", ["/nope", "/admin/nope", "/performances/1"])
async def test_an_unknown_page_is_an_html_404_in_korean_with_a_link_home(http, path):
    reply = await http.get(path)
    assert reply.status == 404 and reply.content_type == "text/html"
    text = await reply.text()
    assert '<html lang="ko">' in text and "페이지를 찾을 수 없습니다" in text and 'href="/"' in text
    assert reply.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize("path", ["/api/nope", "/ws/nope"])
async def test_an_unknown_api_or_socket_path_keeps_the_json_error(http, path):
    reply = await http.get(path)
    assert reply.status == 404 and reply.content_type == "application/json"
    assert (await reply.json())["error"]["code"] == "not_found"


async def test_a_wrong_method_on_a_known_path_is_still_405(http):
    reply = await http.delete("/api/halls")
    assert reply.status == 405 and (await reply.json())["error"]["code"] == "method_not_allowed"
