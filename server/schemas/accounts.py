from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.schemas.common import DEFAULT_LANGUAGE, Email, Language, Request, line

Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
PersonName = line(100)


class SignupRequest(Request):
    email: Email
    password: Password
    name: PersonName
    language: Language = DEFAULT_LANGUAGE      # what the server writes to the person in (mail, SSE)


class AdminSignupRequest(SignupRequest, kw_only=True):
    admin_key: Annotated[str, msgspec.Meta(max_length=200)]


class LoginRequest(Request):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=128)]


class PasswordChange(Request):
    current_password: Annotated[str, msgspec.Meta(max_length=128)]
    new_password: Password


class TokenOut(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: Literal["bearer"] = "bearer"


class UserOut(msgspec.Struct):
    id: int
    email: str | None
    name: str
    role: Literal["user", "admin", "staff"]
    language: Language


class ProfileOut(UserOut):
    status: str
    created_at: datetime
    last_login_at: datetime | None


class ProfileChange(Request):
    """PATCH /api/users/me: at least one of them."""
    name: PersonName | UnsetType = UNSET
    language: Language | UnsetType = UNSET


class RoleChange(Request):
    role: Literal["user", "staff"]
