"""Sign-up, login (password and Kakao), logout, and the caller's own profile and password."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, USER, Api
from server.ratelimit import (ADMIN_SIGNUP_PER_ADDRESS, LOGIN_PER_ADDRESS, LOGIN_PER_EMAIL,
                              PASSWORD_CHANGE_PER_ACCOUNT, SIGNUP_PER_ADDRESS)
from server.schemas.accounts import (AdminSignupRequest, LoginRequest, PasswordChange, ProfileChange, ProfileOut,
                                     RoleChange, SignupRequest, TokenOut, UserOut)
from server.schemas.common import DEFAULT_LANGUAGE, Language, Query
from server.tokens import Principal
from server.wiring import SERVICES, SETTINGS, TOKENS

api = Api("accounts")
KAKAO_STATE_SECONDS = 600


@api.post("/api/auth/signup", body=SignupRequest, response=UserOut, status=201, errors=(409,),
          limits=(SIGNUP_PER_ADDRESS,))
async def signup(request: web.Request, body: SignupRequest) -> UserOut:
    """Create a user account."""
    return await request.app[SERVICES].accounts.signup(body)


@api.post("/api/auth/signup/admin", body=AdminSignupRequest, response=UserOut, status=201, errors=(403, 409),
          limits=(ADMIN_SIGNUP_PER_ADDRESS,))
async def signup_admin(request: web.Request, body: AdminSignupRequest) -> UserOut:
    """Create an admin account with the configured admin sign-up key."""
    return await request.app[SERVICES].accounts.signup_admin(body)


@api.post("/api/auth/login", body=LoginRequest, response=TokenOut, errors=(401,),
          limits=(LOGIN_PER_ADDRESS, LOGIN_PER_EMAIL))
async def login(request: web.Request, body: LoginRequest) -> TokenOut:
    """Exchange email and password for an access token."""
    return await request.app[SERVICES].accounts.login(body)


@api.post("/api/auth/logout", status=204, auth=USER)
async def logout(request: web.Request, user: Principal) -> None:
    """End every access token of your account issued so far, on every device."""
    await request.app[SERVICES].accounts.logout(user.user_id)


@api.get("/api/users/me", response=ProfileOut, auth=USER)
async def me(request: web.Request, user: Principal) -> ProfileOut:
    """The caller's profile."""
    return await request.app[SERVICES].accounts.profile(user.user_id)


@api.patch("/api/users/me", body=ProfileChange, response=ProfileOut, auth=USER)
async def change_me(request: web.Request, body: ProfileChange, user: Principal) -> ProfileOut:
    """Change your name or the language the server writes to you in (mail, SSE messages)."""
    return await request.app[SERVICES].accounts.change_profile(user.user_id, body)


@api.put("/api/users/me/password", body=PasswordChange, response=TokenOut, auth=USER, errors=(403, 409),
         limits=(LOGIN_PER_ADDRESS, PASSWORD_CHANGE_PER_ACCOUNT))
async def change_password(request: web.Request, body: PasswordChange, user: Principal) -> TokenOut:
    """Change your password: every earlier token of your account ends; the answer is a new one."""
    return await request.app[SERVICES].accounts.change_password(user.user_id, body)


@api.delete("/api/users/me", status=204, auth=USER)
async def delete_me(request: web.Request, user: Principal) -> None:
    """Delete the caller's account (past bookings are kept)."""
    await request.app[SERVICES].accounts.delete(user.user_id)


def _kakao_redirect_uri(request: web.Request) -> str:
    configured = request.app[SETTINGS].kakao_redirect_uri
    return configured or str(request.url.with_path("/api/auth/kakao/callback").with_query(None))


class KakaoLoginQuery(Query):
    language: Language = DEFAULT_LANGUAGE      # of the account, if this login creates one


@api.get("/api/auth/kakao/login", query=KakaoLoginQuery, status=302, errors=(404,))
async def kakao_login(request: web.Request, query: KakaoLoginQuery) -> web.Response:
    """Redirect to Kakao's consent page."""
    # The language rides in the signed state: the callback is Kakao's redirect, with only code and state.
    state = request.app[TOKENS].sign({"purpose": "kakao", "language": query.language}, KAKAO_STATE_SECONDS)
    url = request.app[SERVICES].kakao.authorize_url(redirect_uri=_kakao_redirect_uri(request), state=state)
    raise web.HTTPFound(url)


class KakaoCallbackQuery(Query):
    code: str
    state: str


@api.get("/api/auth/kakao/callback", query=KakaoCallbackQuery, response=TokenOut, errors=(401, 502))
async def kakao_callback(request: web.Request, query: KakaoCallbackQuery) -> TokenOut:
    """Finish Kakao login: the code is exchanged for the Kakao profile, and that for our token."""
    services = request.app[SERVICES]
    state = request.app[TOKENS].unsign(query.state, "kakao")     # the login started here, not elsewhere
    profile = await services.kakao.profile_for_code(code=query.code, redirect_uri=_kakao_redirect_uri(request))
    return await services.accounts.login_external(kakao_id=profile.id, email=profile.email,
                                                  email_verified=profile.email_verified, name=profile.nickname,
                                                  language=state.get("language", DEFAULT_LANGUAGE))


@api.put("/api/admin/users/{user_id}/role", body=RoleChange, response=ProfileOut, auth=ADMIN, errors=(409,))
async def set_role(request: web.Request, user_id: int, body: RoleChange) -> ProfileOut:
    """Make an account staff (they may check tickets in) or a plain user again; its tokens end."""
    return await request.app[SERVICES].accounts.set_role(user_id, body.role)
