"""Kakao login (OAuth 2.0 authorization code): authorize redirect, token endpoint, /v2/user/me."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

from server.errors import ApiError, Code, NotFound, Unauthorized


class LoginProviderError(ApiError):
    status, code = 502, Code.LOGIN_PROVIDER_ERROR


@dataclass(frozen=True)
class KakaoProfile:
    id: str
    email: str | None
    email_verified: bool
    nickname: str


class Kakao:
    def __init__(self, http: aiohttp.ClientSession, *, client_id: str, client_secret: str,
                 auth_url: str, api_url: str, timeout_seconds: float = 10):
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_url = auth_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def _require_configured(self) -> None:
        if not self._client_id:
            raise NotFound("Kakao login is not configured on this server.")

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        self._require_configured()
        query = urlencode({"client_id": self._client_id, "redirect_uri": redirect_uri,
                           "response_type": "code", "state": state})
        return f"{self._auth_url}/oauth/authorize?{query}"

    async def profile_for_code(self, *, code: str, redirect_uri: str) -> KakaoProfile:
        self._require_configured()
        form = {"grant_type": "authorization_code", "client_id": self._client_id,
                "redirect_uri": redirect_uri, "code": code}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        token = await self._call("POST", f"{self._auth_url}/oauth/token", data=form)
        if "access_token" not in token:
            raise LoginProviderError("Kakao answered without an access token.")
        me = await self._call("GET", f"{self._api_url}/v2/user/me",
                              headers={"Authorization": f"Bearer {token['access_token']}"})
        account = me.get("kakao_account") or {}
        profile = account.get("profile") or {}
        nickname = profile.get("nickname") or (me.get("properties") or {}).get("nickname") or ""
        return KakaoProfile(id=str(me["id"]), email=account.get("email"),
                            email_verified=bool(account.get("is_email_verified")), nickname=nickname)

    async def _call(self, method: str, url: str, **kwargs) -> dict:
        try:
            async with self._http.request(method, url, timeout=self._timeout, **kwargs) as resp:
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise LoginProviderError(f"Kakao could not be reached: {type(exc).__name__}") from None
        if resp.status in (400, 401):
            # invalid_grant (a used or made-up code), or a rejected token.
            raise Unauthorized("Kakao did not accept the login; try again.",
                               details={"provider_error": str(body.get("error_code") or body.get("error") or body.get("code"))})
        if resp.status != 200 or not isinstance(body, dict):
            raise LoginProviderError(f"Kakao answered {resp.status}.")
        return body
