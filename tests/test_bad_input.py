"""Whatever arrives, the answer is a 4xx in the error shape: never a 500, never an HTML page."""
import asyncio
import json

import aiohttp
import pytest

from tests.support.api import count_users, eventually
from tests.support.backends import run_in_fresh_loop
from tests.support.instances import ServerProcess


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


# ---- times and dates ------------------------------------------------------------------------------
# Converting these to UTC or to the server's zone leaves the range of a Python datetime.
EXTREME_TIMES = ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00",
                 "9999-12-31T23:59:59Z"]
NAIVE_TIME = "2026-12-24T19:30:00"


def assert_bad_field(reply, field: str) -> None:
    assert_error_shape(reply, 400, "invalid_request")
    assert reply.json["error"]["details"]["fields"] == [field], reply.json


async def test_coupon_times_at_the_extremes_or_without_an_offset_are_400(client):
    admin = await client.token(admin=True)
    body = {"name": "Opening week", "discount_type": "amount", "discount": 1000, "quantity": 10,
            "starts_at": "2026-12-01T00:00:00+09:00", "ends_at": "2026-12-31T00:00:00+09:00"}
    for field in ("starts_at", "ends_at"):
        for when in [*EXTREME_TIMES, NAIVE_TIME]:
            assert_bad_field(await client.post("/api/coupons", token=admin, json={**body, field: when}), field)
    assert (await client.get("/api/coupons")).json["total"] == 0


async def test_round_times_at_the_extremes_are_400(client, show):
    admin, performance_id, round_id = show["admin"], show["performance_id"], show["round_id"]
    for when in [*EXTREME_TIMES, NAIVE_TIME]:
        created = await client.post(f"/api/performances/{performance_id}/rounds", token=admin,
                                    json={"starts_at": when})
        assert_bad_field(created, "starts_at")
        assert_bad_field(await client.patch(f"/api/rounds/{round_id}", token=admin, json={"starts_at": when}),
                         "starts_at")
    assert (await client.get(f"/api/performances/{performance_id}/rounds")).json["total"] == 1


@pytest.mark.parametrize("query, field", [("from=0001-01-01", "from"), ("to=9999-12-31", "to"),
                                          ("from=0001-01-01&to=9999-12-31", "from")])
async def test_dates_at_the_extremes_are_400_in_every_query(client, query, field):
    admin = await client.token(admin=True)
    assert_bad_field(await client.get(f"/api/admin/reservations/search?{query}", token=admin), field)
    assert_bad_field(await client.get(f"/api/performances?{query}"), field)
    assert_bad_field(await client.get(f"/api/search?q=blue&{query}"), field)


async def test_dates_at_the_extremes_are_400_in_bodies(client):
    admin = await client.token(admin=True)
    hall = await client.post("/api/halls", token=admin, json={
        "name": "Blue Hall", "address": "Seoul", "sections": [{"name": "A", "rows": 1, "seats_per_row": 2,
                                                               "grade": "R"}]})
    performance = {"title": "Show", "description": "", "category": "concert", "hall_id": hall.json["id"],
                   "starts_on": "2026-12-01", "ends_on": "2026-12-31", "duration_minutes": 90,
                   "prices": {"R": 1000}}
    for field, day in [("starts_on", "0001-01-01"), ("ends_on", "9999-12-31")]:
        assert_bad_field(await client.post("/api/performances", token=admin, json={**performance, field: day}),
                         field)
    assert_bad_field(await client.post("/api/performers", token=admin,
                                       json={"name": "Kim", "birth_date": "0001-01-01"}), "birth_date")


# ---- SSE ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [str(2**63), str(2**64 + 1), "9" * 40])
async def test_a_last_event_id_beyond_64_bits_is_400(client, value):
    token = await client.token()
    limit = aiohttp.ClientTimeout(total=10)                   # (a stream that opened would never end)
    assert_bad_field(await client.get(f"/api/events?last_event_id={value}", token=token, timeout=limit),
                     "last_event_id")
    assert_bad_field(await client.get("/api/events", token=token, headers={"Last-Event-ID": value},
                                      timeout=limit), "Last-Event-ID")


# ---- text -----------------------------------------------------------------------------------------
# One line of text: no control characters (NUL, escape, newline, DEL, C1...), not only blanks.
BAD_LINES = ["Kim\x00", "Kim\x1b[31m", "Kim\nLee", "Kim\tLee", "Kim\x7f", "Kim\u0085", "   ", "\u3000", ""]


@pytest.mark.parametrize("bad", BAD_LINES)
async def test_names_emails_and_addresses_are_one_line_of_text(client, settings, bad):
    admin = await client.token(admin=True)
    sections = [{"name": "A", "rows": 1, "seats_per_row": 2, "grade": "R"}]
    cases = [
        ("/api/auth/signup", {"email": "kim@example.com", "password": "long enough", "name": bad}, "name"),
        ("/api/halls", {"name": bad, "address": "Seoul", "sections": sections}, "name"),
        ("/api/halls", {"name": "Blue Hall", "address": bad, "sections": sections}, "address"),
        ("/api/performers", {"name": bad}, "name"),
        ("/api/performers", {"name": "Kim", "nationality": bad}, "nationality"),
        ("/api/coupons", {"name": bad, "discount_type": "amount", "discount": 1, "quantity": 1,
                          "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-02T00:00:00Z"}, "name"),
    ]
    if bad.strip():               # (inside an e-mail address or after a grade, blanks were always refused)
        cases += [("/api/auth/signup", {"email": f"kim{bad}@example.com", "password": "long enough",
                                        "name": "Kim"}, "email"),
                  ("/api/halls", {"name": "Blue Hall", "address": "Seoul",
                                  "sections": [{**sections[0], "grade": f"R{bad}"}]}, "sections[0].grade")]
    for path, body, field in cases:
        reply = await client.post(path, token=admin, json=body)
        assert_bad_field(reply, field)
        assert "regex" not in reply.json["error"]["message"], reply.json     # said in words
    assert await count_users(settings) == 1
    assert (await client.get("/api/halls")).json["total"] == 0
    assert (await client.get("/api/performers")).json["total"] == 0


@pytest.mark.parametrize("bad", ["Good\x00", "Good\x1b[2J", "Good\x7f", "Good\u009b"])
async def test_descriptions_and_reviews_refuse_control_characters(client, show, bad):
    admin, performance_id = show["admin"], show["performance_id"]
    reply = await client.patch(f"/api/performances/{performance_id}", token=admin, json={"description": bad})
    assert_bad_field(reply, "description")
    review = await client.post(f"/api/performances/{performance_id}/reviews", token=await client.token(),
                               json={"reservation_id": 1, "rating": 5, "content": bad})
    assert_bad_field(review, "content")


async def test_descriptions_keep_their_lines_and_tabs(client, show):
    description = "Act one\n\tThe overture\r\nAct two"
    reply = await client.patch(f"/api/performances/{show['performance_id']}", token=show["admin"],
                               json={"description": description})
    assert reply.status == 200 and reply.json["description"] == description


# ---- posters --------------------------------------------------------------------------------------
FILE_PART = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'


@pytest.mark.parametrize("content_type, body", [
    ("multipart/form-data", FILE_PART + b"\r\n\x89PNG\r\n--XX--\r\n"),                          # no boundary
    ("multipart/form-data; boundary=XX", b"no boundary anywhere"),
    ("multipart/form-data; boundary=XX", b"--XX\r\nnot a header line\r\n\r\n\x89PNG\r\n--XX--\r\n"),
    ("multipart/form-data; boundary=XX", FILE_PART + b"Content-Type: multipart/mixed\r\n\r\nx\r\n--XX--\r\n"),
])
async def test_malformed_multipart_is_400(client, show, content_type, body):
    reply = await client.put(f"/api/performances/{show['performance_id']}/poster", token=show["admin"],
                             data=body, headers={"Content-Type": content_type})
    assert_bad_field(reply, "file")
    assert (await client.get(f"/api/performances/{show['performance_id']}")).json["poster_url"] is None


# ---- what aiohttp's own HTTP parser refuses, over a raw socket to a real server -------------------
@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    """One `python -m server serve` (embedded defaults) for the module: these tests only read its log."""
    server = ServerProcess(tmp_path_factory.mktemp("raw-http"), log_level="INFO").start()
    try:
        run_in_fresh_loop(server.wait_ready)
        yield server
    finally:
        server.stop()


async def exchange(server: ServerProcess, raw: bytes) -> bytes:
    """Send raw bytes, read the answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


@pytest.mark.parametrize("raw, echo", [
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: evil\x00header\r\n\r\n", b"evil"),
    (b"GET /" + b"u" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"uuuu"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"h" * 9000 + b"\r\n\r\n", b"hhhh"),
    (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz9\r\n{}\r\n0\r\n\r\n", b"zz9"),
    (b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"BREW"),
    (b"G<T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"G<T"),
    (b"GET /healthz HTTP/7.q\r\nHost: x\r\n\r\n", b"7.q"),
], ids=["nul-in-header", "url-over-8k", "header-over-8k", "bad-chunk", "unknown-method", "bad-method",
        "bad-version"])
async def test_what_the_http_parser_refuses_is_400_json_without_echo(real_server, raw, echo):
    answer = await exchange(real_server, raw)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0], answer[:300]
    assert b"content-type: application/json" in head.lower(), head
    error = json.loads(body)["error"]
    assert error["code"] == "invalid_request" and isinstance(error["message"], str), error
    assert echo not in body, body
    # One line in the log, no traceback (and not the raw input either).
    await eventually(lambda: "malformed HTTP request" in real_server.log())
    assert "Traceback" not in real_server.log()
    assert echo.decode() not in real_server.log()
