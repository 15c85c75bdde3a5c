"""Kakao login end to end against a server that speaks Kakao's OAuth protocol."""
from urllib.parse import parse_qs, urlsplit

import pytest

from server.app import create_app
from tests.support.api import ApiClient
from tests.support.peers.kakao import KakaoAccount, KakaoPeer


@pytest.fixture
def kakao():
    return KakaoPeer()


@pytest.fixture
async def kakao_client(aiohttp_client, aiohttp_server, kakao, settings):
    server = await aiohttp_server(kakao.app())
    base = str(server.make_url("")).rstrip("/")
    import msgspec
    app = create_app(msgspec.structs.replace(settings, kakao_client_id=kakao.client_id,
                                             kakao_auth_url=base, kakao_api_url=base))
    return ApiClient(await aiohttp_client(app))


async def kakao_login(client: ApiClient, query: str = "") -> tuple[int, dict]:
    """What a browser does: follow our redirect to Kakao, consent, come back with the code."""
    start = await client.get(f"/api/auth/kakao/login{query}")
    assert start.status == 302
    async with client.http.session.get(start.headers["Location"], allow_redirects=False) as consent:
        assert consent.status == 302
        back = urlsplit(consent.headers["Location"])
    reply = await client.get(f"{back.path}?{back.query}")
    return reply.status, reply.json


async def test_login_creates_account_then_reuses_it(kakao_client, kakao):
    status, token = await kakao_login(kakao_client)
    assert status == 200 and token["token_type"] == "bearer"
    me = await kakao_client.get("/api/users/me", token=token["access_token"])
    assert me.json["email"] == "ryan@kakao.example" and me.json["name"] == "라이언"
    assert kakao.token_requests[0]["redirect_uri"].endswith("/api/auth/kakao/callback")

    status, again = await kakao_login(kakao_client)
    me_again = await kakao_client.get("/api/users/me", token=again["access_token"])
    assert status == 200 and me_again.json["id"] == me.json["id"]


async def test_a_new_account_takes_the_language_the_login_started_in_and_an_old_one_keeps_its_own(
        kakao_client, kakao):
    status, token = await kakao_login(kakao_client, "?language=en")
    me = await kakao_client.get("/api/users/me", token=token["access_token"])
    assert status == 200 and me.json["language"] == "en"
    assert (await kakao_client.patch("/api/users/me", token=token["access_token"],
                                     json={"language": "ko"})).status == 200
    status, again = await kakao_login(kakao_client, "?language=en")
    me_again = await kakao_client.get("/api/users/me", token=again["access_token"])
    assert (me_again.json["id"], me_again.json["language"]) == (me.json["id"], "ko")


async def test_a_login_in_an_unknown_language_is_400(kakao_client, kakao):
    reply = await kakao_client.get("/api/auth/kakao/login?language=fr")
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["language"]


async def test_verified_email_links_to_existing_account(kakao_client, kakao):
    existing = await kakao_client.signup(email="ryan@kakao.example")
    status, token = await kakao_login(kakao_client)
    me = await kakao_client.get("/api/users/me", token=token["access_token"])
    assert status == 200 and me.json["id"] == existing["id"]


async def test_unverified_email_does_not_take_over_an_account(kakao_client, kakao):
    existing = await kakao_client.signup(email="ryan@kakao.example")
    kakao.account = KakaoAccount(77, "someone", "ryan@kakao.example", email_verified=False)
    status, token = await kakao_login(kakao_client)
    me = await kakao_client.get("/api/users/me", token=token["access_token"])
    assert status == 200 and me.json["id"] != existing["id"] and me.json["email"] is None


async def test_redirect_carries_client_id_and_signed_state(kakao_client, kakao):
    start = await kakao_client.get("/api/auth/kakao/login")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["client_id"] == [kakao.client_id] and query["response_type"] == ["code"]
    assert query["state"][0].count(".") == 2      # a signed, expiring value


async def test_made_up_code_is_401(kakao_client):
    start = await kakao_client.get("/api/auth/kakao/login")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    reply = await kakao_client.get(f"/api/auth/kakao/callback?code=nonsense&state={state}")
    assert reply.status == 401 and reply.error_code() == "unauthorized"


async def test_forged_state_is_401_and_kakao_is_not_called(kakao_client, kakao):
    reply = await kakao_client.get("/api/auth/kakao/callback?code=x&state=forged.state.value")
    assert reply.status == 401 and kakao.token_requests == []


async def test_missing_code_is_400(kakao_client):
    reply = await kakao_client.get("/api/auth/kakao/callback?state=x")
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["code"]


async def test_kakao_unreachable_is_502(aiohttp_client, settings, unused_tcp_port):
    import msgspec
    dead = f"http://127.0.0.1:{unused_tcp_port}"
    app = create_app(msgspec.structs.replace(settings, kakao_client_id="id", kakao_auth_url=dead, kakao_api_url=dead))
    client = ApiClient(await aiohttp_client(app))
    start = await client.get("/api/auth/kakao/login")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    reply = await client.get(f"/api/auth/kakao/callback?code=c&state={state}")
    assert reply.status == 502 and reply.error_code() == "login_provider_error"


async def test_not_configured_is_404(client):
    reply = await client.get("/api/auth/kakao/login")
    assert reply.status == 404 and reply.error_code() == "not_found"
