"""Whatever arrives, the answer is a 4xx in the error shape: never a 500, never an HTML page."""
import pytest

from tests.test_accounts import count_users


def assert_error_shape(reply, status: int, code: str) -> None:
    assert reply.status == status, reply.json
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json["error"]["code"] == code
    assert isinstance(reply.json["error"]["message"], str) and isinstance(reply.json["error"]["details"], dict)


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[1, 2]", b"null", b'{"email": "a@b.co",}', b"\xff\xfe"])
async def test_malformed_json_is_400(client, settings, raw):
    reply = await client.post("/api/auth/signup", data=raw, headers={"Content-Type": "application/json"})
    assert_error_shape(reply, 400, "invalid_request")
    assert await count_users(settings) == 0


async def test_empty_body_is_400(client):
    assert_error_shape(await client.post("/api/auth/signup"), 400, "invalid_request")


async def test_huge_body_is_413_and_writes_nothing(client, settings):
    big = b'{"email": "a@b.co", "password": "' + b"x" * (2 * 1024 * 1024) + b'", "name": "n"}'
    reply = await client.post("/api/auth/signup", data=big, headers={"Content-Type": "application/json"})
    assert_error_shape(reply, 413, "payload_too_large")
    assert await count_users(settings) == 0


async def test_unknown_route_is_404_json(client):
    assert_error_shape(await client.get("/api/nothing-here"), 404, "not_found")


async def test_wrong_method_is_405_json(client):
    reply = await client.put("/api/auth/login", json={})
    assert_error_shape(reply, 405, "method_not_allowed")
    assert "POST" in reply.headers["Allow"]


async def test_wrong_types_name_the_field(client):
    reply = await client.post("/api/auth/login", json={"email": ["a"], "password": 12345678})
    assert_error_shape(reply, 400, "invalid_request")
    assert reply.json["error"]["details"]["fields"] == ["email"]


async def test_bad_paging_is_400(client):
    # Any list endpoint will do; /api/halls belongs to the catalogue.
    for query in ("size=101", "size=0", "page=0", "page=abc"):
        reply = await client.get(f"/api/halls?{query}")
        assert_error_shape(reply, 400, "invalid_request")


@pytest.mark.parametrize("path", ["/api/halls/0", "/api/halls/99999999999999999999", "/api/halls/-1",
                                  "/api/halls/abc", "/api/rounds/1.5"])
async def test_ids_out_of_range_are_404(client, path):
    assert_error_shape(await client.get(path), 404, "not_found")
