"""Rate limits (docs/API.md "Rate limits"): 429 `rate_limited` with Retry-After from the window, per
client address (behind trusted proxies: from X-Forwarded-For), per account and per e-mail address,
counted atomically, shared by instances through Redis; and at most N password hashes at once."""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from server.app import create_app
from server.settings import SettingsError, load
from tests.support.api import ADMIN_KEY, MANY_ACCOUNTS, PASSWORD, ApiClient, eventually
from tests.support.backends import settings_for
from tests.support.factories import make_round
from tests.support.ws import Socket

OPEN = "100000/minute"


@asynccontextmanager
async def from_address(client: ApiClient, address: str):
    """The same server, from another loopback address (127.0.0.0/8 is all ours)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(f"http://127.0.0.1:{client.http.port}", connector=connector) as http:
        yield ApiClient(http)        # type: ignore[arg-type]  (the same request() shape as TestClient)


def login(client, email: str, password: str = "a wrong password", **kw):
    return client.post("/api/auth/login", json={"email": email, "password": password}, **kw)


def assert_limited(reply, limit: str) -> int:
    assert reply.status == 429 and reply.error_code() == "rate_limited", reply.json
    retry_after = int(reply.headers["Retry-After"])
    assert reply.json["error"]["details"] == {"limit": limit, "retry_after": retry_after}
    return retry_after


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login_per_address": "5/minute",
                                                 "rate_limit_password_per_account": OPEN}])
async def test_wrong_passwords_from_one_address_get_429_with_the_time_left_in_the_window(client):
    user = await client.signup()
    replies = [await login(client, user["email"]) for _ in range(5)]
    assert [r.status for r in replies] == [401] * 5
    refused = await login(client, user["email"], PASSWORD)            # even the right one, from here
    assert assert_limited(refused, "login_per_address") in (59, 60)
    async with from_address(client, "127.0.0.2") as elsewhere:
        assert (await login(elsewhere, user["email"], PASSWORD)).status == 200


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login_per_address": OPEN,
                                                 "rate_limit_password_per_account": "3/minute"}])
async def test_guesses_at_one_account_are_counted_together_from_every_address_and_atomically(client):
    victim, bystander = await client.signup(), await client.signup()
    replies = await asyncio.gather(*(login(client, victim["email"].upper()) for _ in range(20)))
    assert sorted(r.status for r in replies) == [401] * 3 + [429] * 17       # exactly 3 got through
    async with from_address(client, "127.0.0.3") as elsewhere:
        assert_limited(await login(elsewhere, victim["email"], PASSWORD), "password_per_account")
        assert (await login(elsewhere, bystander["email"], PASSWORD)).status == 200


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login_per_address": "1/2 seconds"}])
async def test_after_retry_after_seconds_the_window_has_room_again(client):
    user = await client.signup()
    assert (await login(client, user["email"], PASSWORD)).status == 200
    retry_after = assert_limited(await login(client, user["email"], PASSWORD), "login_per_address")
    assert retry_after in (1, 2)
    refused_at = time.monotonic()

    async def admitted():
        return (await login(client, user["email"], PASSWORD)).status == 200
    await eventually(admitted, timeout=retry_after + 5, every=0.1)
    assert time.monotonic() - refused_at <= retry_after + 0.5


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_admin_signup_per_address": "3/minute"}])
async def test_admin_signup_key_guesses_are_limited_per_address(client):
    body = {"email": "boss@example.com", "password": PASSWORD, "name": "Boss"}
    guesses = [await client.post("/api/auth/signup/admin", json={**body, "admin_key": f"guess-{n}"})
               for n in range(3)]
    assert [g.status for g in guesses] == [403] * 3
    assert_limited(await client.post("/api/auth/signup/admin", json={**body, "admin_key": ADMIN_KEY}),
                   "admin_signup_per_address")


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_signup_per_address": "3/minute"}])
async def test_signups_are_limited_per_address(client):
    for n in range(3):
        await client.signup(email=f"n{n}@example.com")
    reply = await client.post("/api/auth/signup", json={"email": "n3@example.com", "password": PASSWORD,
                                                        "name": "Four"})
    assert_limited(reply, "signup_per_address")
    async with from_address(client, "127.0.0.2") as elsewhere:
        assert (await elsewhere.post("/api/auth/signup", json={"email": "n3@example.com", "password": PASSWORD,
                                                               "name": "Four"})).status == 201


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_holds_per_account": "5/minute"}])
async def test_rest_holds_and_releases_are_limited_per_account(client, show):
    alice, bob = await client.token(), await client.token()
    path, seat = f"/api/rounds/{show['round_id']}/holds", {"seat_ids": [show["seat_ids"][0]]}
    statuses = [(await (client.post if n % 2 == 0 else client.delete)(path, token=alice, json=seat)).status
                for n in range(5)]
    assert statuses == [200, 204, 200, 204, 200]
    assert_limited(await client.delete(path, token=alice, json=seat), "holds_per_account")
    assert (await client.post(path, token=bob, json={"seat_ids": [show["seat_ids"][1]]})).status == 200


@pytest.fixture
def settings_overrides(request, seat_engine_settings):
    """In process and with Redis (the limits' storage follows TICKETBLUE_REDIS_URL)."""
    return {**seat_engine_settings, **getattr(request, "param", {})}


async def test_a_socket_sending_a_thousand_holds_at_once_gets_rate_limited_answers(client, show):
    token = await client.token()
    socket = Socket(await client.http.ws_connect(f"/ws/rounds/{show['round_id']}?token={token}"))
    await socket.next("snapshot")
    seat = show["seat_ids"][0]
    started = time.monotonic()
    await asyncio.gather(*(socket.send({"type": "hold", "req": n, "seat_ids": [seat]}) for n in range(1000)))
    results = [await socket.next("hold_result") for _ in range(1000)]
    assert sorted(r["req"] for r in results) == list(range(1000))
    admitted = [r for r in results if r["ok"]]
    limited = [r["error"] for r in results if not r["ok"]]
    per_second = 20 * (1 + int(time.monotonic() - started))      # the default: 20/second;300/minute
    assert 1 <= len(admitted) <= per_second and len(admitted) + len(limited) == 1000
    assert {e["code"] for e in limited} == {"rate_limited"}
    assert all(e["details"]["limit"] == "holds_per_account" and e["details"]["retry_after"] >= 1 for e in limited)
    # REST holds of the same account count against the same limit.
    reply = await client.post(f"/api/rounds/{show['round_id']}/holds", token=token, json={"seat_ids": [seat]})
    assert_limited(reply, "holds_per_account")
    await socket.ws.close()


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_ws_connects_per_address": "3/minute"}], indirect=True)
async def test_seat_map_connections_are_limited_per_address_before_the_upgrade(client, show):
    path = f"/ws/rounds/{show['round_id']}"
    opened = [await client.http.ws_connect(path) for _ in range(3)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.http.ws_connect(path)
    assert refused.value.status == 429
    assert_limited(await client.get(path), "ws_connects_per_address")          # the answer, in the error shape
    async with from_address(client, "127.0.0.2") as elsewhere:
        async with elsewhere.http.ws_connect(path) as ws:
            assert (await ws.receive_json())["type"] == "snapshot"
    for ws in opened:
        await ws.close()


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_ws_connects_per_account": "2/minute"}], indirect=True)
async def test_seat_map_connections_are_limited_per_account(client, show):
    token = await client.token()
    path = f"/ws/rounds/{show['round_id']}"
    opened = [await client.http.ws_connect(f"{path}?token={token}") for _ in range(2)]
    assert_limited(await client.get(f"{path}?token={token}"), "ws_connects_per_account")
    watcher = await client.http.ws_connect(path)                                   # anonymous: not this account
    for ws in opened + [watcher]:
        await ws.close()


@pytest.mark.parametrize("settings_overrides", [{}])
async def test_coupon_requests_are_limited_per_account(client, show):
    now = datetime.now(timezone.utc)
    coupon = await client.post("/api/coupons", token=show["admin"], json={
        "name": "Ten off", "discount_type": "amount", "discount": 10000, "quantity": 100,
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()})
    assert coupon.status == 201, coupon.json
    token = await client.token()
    path = f"/api/coupons/{coupon.json['id']}/issue"
    replies = [await client.post(path, token=token) for _ in range(20)]         # the default: 20/minute
    assert replies[0].status == 201 and {r.error_code() for r in replies[1:]} == {"already_issued"}
    assert_limited(await client.post(path, token=token), "coupon_issue_per_account")
    assert (await client.post(path, token=await client.token())).status == 201


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login_per_address": "2/minute",
                                                 "trusted_proxies": "10.0.0.0/8, 127.0.0.1"}])
async def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_forwarded_address(client):
    def via_proxy(forwarded_for: str):
        return login(client, "who@example.com", headers={"X-Forwarded-For": forwarded_for})
    assert [(await via_proxy("203.0.113.5")).status for _ in range(2)] == [401, 401]
    assert_limited(await via_proxy("203.0.113.5"), "login_per_address")
    # What the client wrote itself (left of what our proxies added) does not change who it is.
    assert_limited(await via_proxy("198.51.100.1, 203.0.113.5, 10.1.2.3"), "login_per_address")
    assert (await via_proxy("203.0.113.6")).status == 401                       # another client
    assert (await via_proxy("2001:db8:1:2::1")).status == 401
    assert (await via_proxy("2001:db8:1:2::99")).status == 401                   # the same /64 ...
    assert_limited(await via_proxy("2001:db8:1:2::ab"), "login_per_address")     # ... counts as one


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login_per_address": "2/minute"}])
async def test_without_trusted_proxies_x_forwarded_for_is_ignored(client):
    replies = [await login(client, "who@example.com", headers={"X-Forwarded-For": f"203.0.113.{n}"})
               for n in range(3)]
    assert [r.status for r in replies[:2]] == [401, 401]
    assert_limited(replies[2], "login_per_address")


async def test_instances_share_their_counts_through_redis(tmp_path, database_url, empty_redis_url, aiohttp_client):
    shared = dict(redis_url=empty_redis_url, rate_limit_login_per_address="4/minute",
                  rate_limit_password_per_account=OPEN)
    a, b = [ApiClient(await aiohttp_client(create_app(settings_for(tmp_path / n, database_url, **shared))))
            for n in ("a", "b")]
    replies = await asyncio.gather(*(login(a if n % 2 else b, "who@example.com") for n in range(10)))
    assert sorted(r.status for r in replies) == [401] * 4 + [429] * 6
    assert_limited(await login(a, "who@example.com"), "login_per_address")


async def test_holds_are_counted_once_for_every_instance_by_the_seat_engine(tmp_path, database_url, empty_redis_url,
                                                                          aiohttp_client):
    """The holds' limit lives in the seat engine (server/ratelimit.py says why); on Redis all instances
    share its count, whichever instance and whichever of REST or WebSocket a hold comes through."""
    shared = dict(redis_url=empty_redis_url, rate_limit_holds_per_account="3/minute", **MANY_ACCOUNTS)
    a, b = [ApiClient(await aiohttp_client(create_app(settings_for(tmp_path / n, database_url, **shared))))
            for n in ("a", "b")]
    show = await make_round(a, await a.token(admin=True))
    token = await a.token()
    path, seat = f"/api/rounds/{show['round_id']}/holds", {"seat_ids": [show["seat_ids"][0]]}
    replies = await asyncio.gather(*(client.post(path, token=token, json=seat) for client in (a, b, a, b, a, b)))
    assert sorted(r.status for r in replies) == [200] * 3 + [429] * 3
    for reply in replies:
        if reply.status == 429:
            assert_limited(reply, "holds_per_account")


@pytest.mark.parametrize("settings_overrides", [{}])
async def test_the_openapi_document_lists_429_with_retry_after_where_a_limit_applies(client):
    paths = (await client.get("/openapi.json")).json["paths"]
    for path, method in [("/api/auth/login", "post"), ("/api/auth/signup", "post"), ("/api/auth/signup/admin", "post"),
                         ("/api/rounds/{round_id}/holds", "post"), ("/api/rounds/{round_id}/holds", "delete"),
                         ("/api/coupons/{coupon_id}/issue", "post"), ("/api/users/me/password", "put")]:
        answers = paths[path][method]["responses"]
        assert "Retry-After" in answers["429"]["headers"], (path, method)
    assert "429" not in paths["/api/halls"]["get"]["responses"]
    assert set(paths["/api/users/me/password"]["put"]["responses"]) >= {"200", "400", "401", "403", "409", "429"}
    assert set(paths["/api/auth/logout"]["post"]["responses"]) >= {"204", "401"}


@pytest.mark.parametrize("name,value", [("TICKETBLUE_RATE_LIMIT_HOLDS_PER_ACCOUNT", "lots"),
                                        ("TICKETBLUE_RATE_LIMIT_LOGIN_PER_ADDRESS", "5/fortnight"),
                                        ("TICKETBLUE_TRUSTED_PROXIES", "10.0.0.0/8, the-proxy"),
                                        ("TICKETBLUE_RATE_LIMIT_STRATEGY", "leaky-bucket")])
def test_bad_limits_stop_start_up_naming_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        load(environ={name: value, "TICKETBLUE_DATA_DIR": str(tmp_path)})


class CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    """The loop's default executor (where the hashes run), counting how many of its jobs run at once."""

    def __init__(self):
        super().__init__(max_workers=16)
        self.running = self.peak = 0
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        def counted():
            with self._lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1
        return super().submit(counted)


@pytest.mark.parametrize("settings_overrides", [{"password_hash_concurrency": 2, "password_hash_time_cost": 2,
                                                 "rate_limit_strategy": "fixed-window",   # (its counts need no threads)
                                                 "password_hash_memory_kib": 16384,
                                                 "rate_limit_password_per_account": OPEN}])
async def test_at_most_the_configured_number_of_password_hashes_run_at_once(client):
    user = await client.signup()
    executor = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    replies = await asyncio.gather(*(login(client, user["email"], PASSWORD if n % 2 else "wrong password")
                                     for n in range(12)))
    assert sorted(r.status for r in replies) == [200] * 6 + [401] * 6
    assert executor.peak == 2
