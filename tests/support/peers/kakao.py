"""An HTTP server that speaks Kakao's OAuth 2.0 protocol, for end-to-end login tests.

It implements the three calls a Kakao login makes: the authorize redirect (consent is given at
once), the token endpoint (form-encoded, one-time codes) and /v2/user/me (Bearer token).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class KakaoAccount:
    id: int
    nickname: str
    email: str | None = None
    email_verified: bool = True


@dataclass
class KakaoPeer:
    client_id: str = "test-kakao-client"
    account: KakaoAccount = field(default_factory=lambda: KakaoAccount(4242, "라이언", "ryan@kakao.example"))
    codes: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    token_requests: list[dict] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/oauth/authorize", self.authorize)
        app.router.add_post("/oauth/token", self.token)
        app.router.add_get("/v2/user/me", self.me)
        return app

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = self.account.id
        raise web.HTTPFound(f"{q['redirect_uri']}?code={code}&state={q['state']}")

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(form)
        code = form.get("code", "")
        if form.get("grant_type") != "authorization_code" or form.get("client_id") != self.client_id \
                or code not in self.codes:
            return web.json_response({"error": "invalid_grant", "error_code": "KOE320",
                                      "error_description": "authorization code not found"}, status=400)
        user_id = self.codes.pop(code)          # codes are single use
        access = secrets.token_urlsafe(24)
        self.tokens[access] = user_id
        return web.json_response({"token_type": "bearer", "access_token": access, "expires_in": 21599,
                                  "refresh_token": secrets.token_urlsafe(24), "refresh_token_expires_in": 5183999})

    async def me(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return web.json_response({"msg": "this access token does not exist", "code": -401}, status=401)
        a = self.account
        account = {"profile": {"nickname": a.nickname}, "has_email": a.email is not None}
        if a.email is not None:
            account.update(email=a.email, is_email_valid=True, is_email_verified=a.email_verified)
        return web.json_response({"id": a.id, "connected_at": "2026-11-01T00:00:00Z", "kakao_account": account})
