"""Accounts: sign-up, login, logout, password change, profile (name and language) and soft delete."""
from __future__ import annotations

import hmac

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.db.database import Database
from server.db.tables import users
from server.db.types import utcnow
from server.errors import Code, Conflict, Forbidden, InvalidState, NotFound, Unauthorized, require
from server.passwords import Passwords
from server.revocation import Revocation
from server.schemas.accounts import (AdminSignupRequest, LoginRequest, PasswordChange, ProfileChange, ProfileOut,
                                     SignupRequest, TokenOut, UserOut)
from server.schemas.common import DEFAULT_LANGUAGE, Language, given_fields
from server.tokens import Tokens

BAD_LOGIN = "Wrong email or password."     # the same for both, so emails cannot be probed


def normalize_email(email: str) -> str:
    return email.strip().lower()


class Accounts:
    def __init__(self, db: Database, passwords: Passwords, tokens: Tokens, revocation: Revocation,
                 admin_signup_key: str):
        self._db = db
        self._passwords = passwords
        self._tokens = tokens
        self._revocation = revocation
        self._admin_key = admin_signup_key

    async def signup(self, request: SignupRequest, *, role: str = "user") -> UserOut:
        email = normalize_email(request.email)
        password_hash = await self._passwords.hash(request.password)
        try:
            async with self._db.begin() as conn:
                result = await conn.execute(users.insert().values(
                    email=email, password_hash=password_hash, name=request.name.strip(), role=role,
                    status="active", language=request.language, created_at=utcnow()))
        except IntegrityError:
            raise Conflict("An account with this email already exists.", code=Code.EMAIL_TAKEN) from None
        return UserOut(id=result.inserted_primary_key[0], email=email, name=request.name.strip(), role=role,
                       language=request.language)

    async def signup_admin(self, request: AdminSignupRequest) -> UserOut:
        if not self._admin_key or not hmac.compare_digest(request.admin_key.encode(), self._admin_key.encode()):
            raise Forbidden("The admin sign-up key is wrong, or admin sign-up is closed.")
        return await self.signup(request, role="admin")

    async def login(self, request: LoginRequest) -> TokenOut:
        async with self._db.read_own_writes() as conn:
            row = (await conn.execute(sa.select(users.c.id, users.c.password_hash, users.c.role, users.c.token_version)
                                      .where(users.c.email == normalize_email(request.email)))).first()
        if not await self._passwords.verify(row.password_hash if row else None, request.password):
            raise Unauthorized(BAD_LOGIN)
        await self._record_login(row.id)
        return self._token_for(row.id, row.role, row.token_version)

    async def logout(self, user_id: int) -> None:
        """Ends every token of the account issued so far (on every device)."""
        async with self._db.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id)
                               .values(token_version=users.c.token_version + 1))
        self._revocation.forget(user_id)

    async def change_password(self, user_id: int, request: PasswordChange) -> TokenOut:
        """Ends every earlier token of the account; the answer is a fresh one for the caller."""
        async with self._db.read_own_writes() as conn:
            row = (await conn.execute(sa.select(users.c.password_hash, users.c.role)
                                      .where(users.c.id == user_id, users.c.status != "deleted"))).first()
        if row is None:
            raise Unauthorized("This account no longer exists.")
        if row.password_hash is None:
            raise InvalidState("This account signs in with Kakao and has no password to change.")
        if not await self._passwords.verify(row.password_hash, request.current_password):
            raise Forbidden("The current password is wrong.", details={"fields": ["current_password"]})
        new_hash = await self._passwords.hash(request.new_password)
        async with self._db.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(
                password_hash=new_hash, token_version=users.c.token_version + 1))
            version = (await conn.execute(sa.select(users.c.token_version)
                                          .where(users.c.id == user_id))).scalar_one()
        self._revocation.forget(user_id)
        return self._token_for(user_id, row.role, version)

    async def _record_login(self, user_id: int) -> None:
        """A login re-activates a dormant account."""
        async with self._db.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(
                last_login_at=utcnow(), status="active", dormant_at=None))

    def _token_for(self, user_id: int, role: str, token_version: int) -> TokenOut:
        return TokenOut(access_token=self._tokens.issue(user_id, role, token_version),
                        expires_in=self._tokens.ttl_seconds)

    async def set_role(self, user_id: int, role: str) -> ProfileOut:
        """An admin makes an account staff (door check-in) or a plain user again. Its tokens issued
        before end (their role is in them): the account signs in again. Admins are made only with the
        admin sign-up key, and stay admins."""
        async with self._db.begin() as conn:
            current = (await conn.execute(sa.select(users.c.role).where(users.c.id == user_id, users.c.status != "deleted")
                                          .with_for_update())).scalar()
            if current is None:
                raise NotFound("No such user.")
            if current == "admin":
                raise InvalidState("An admin's role is not changed here.", details={"role": current})
            if current != role:
                await conn.execute(users.update().where(users.c.id == user_id)
                                   .values(role=role, token_version=users.c.token_version + 1))
        self._revocation.forget(user_id)      # (other instances: within TICKETBLUE_TOKEN_CHECK_SECONDS)
        return await self.profile(user_id)

    async def profile(self, user_id: int) -> ProfileOut:
        async with self._db.read_own_writes() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()
        if row is None or row.status == "deleted":
            raise Unauthorized("This account no longer exists.")
        return ProfileOut(id=row.id, email=row.email, name=row.name, role=row.role, language=row.language,
                          status=row.status, created_at=row.created_at, last_login_at=row.last_login_at)

    async def change_profile(self, user_id: int, change: ProfileChange) -> ProfileOut:
        """The name and the language (of the mail and SSE messages from now on: a stream open now
        speaks it from its next events)."""
        changes = given_fields(change)
        require(bool(changes), "Give name, language or both.", "name", "language")
        if "name" in changes:
            changes["name"] = changes["name"].strip()       # as at sign-up
        async with self._db.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id, users.c.status != "deleted")
                               .values(**changes))
        return await self.profile(user_id)                   # (401 if the account is gone)

    async def delete(self, user_id: int) -> None:
        """Soft delete: the row stays for past bookings; the email is freed for a new sign-up."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                # deleted_email is set first: MariaDB evaluates SET left to right, so after
                # email=NULL it would copy the NULL.
                users.update().where(users.c.id == user_id, users.c.status != "deleted").ordered_values(
                    (users.c.deleted_email, users.c.email), (users.c.email, None), (users.c.kakao_id, None),
                    (users.c.password_hash, None), (users.c.status, "deleted"), (users.c.deleted_at, utcnow())))
        self._revocation.forget(user_id)
        if result.rowcount == 0:
            raise Unauthorized("This account no longer exists.")

    async def login_external(self, *, kakao_id: str, email: str | None, email_verified: bool, name: str,
                             language: Language = DEFAULT_LANGUAGE) -> TokenOut:
        """Kakao login: the linked account, else the account with the same verified email, else a new one
        (in `language`, the page's when the login started; an existing account keeps its own)."""
        email = normalize_email(email) if email else None
        async with self._db.begin() as conn:
            account = sa.select(users.c.id, users.c.role, users.c.token_version)
            row = (await conn.execute(account.where(users.c.kakao_id == kakao_id))).first()
            if row is None and email and email_verified:
                row = (await conn.execute(account.where(users.c.email == email))).first()
                if row is not None:
                    await conn.execute(users.update().where(users.c.id == row.id).values(kakao_id=kakao_id))
            if row is None:
                taken = email is None or (await conn.execute(
                    sa.select(users.c.id).where(users.c.email == email))).first() is not None
                result = await conn.execute(users.insert().values(
                    email=None if taken else email, name=name[:100] or "Kakao user", role="user",
                    status="active", kakao_id=kakao_id, language=language, created_at=utcnow()))
                user_id, role, version = result.inserted_primary_key[0], "user", 0
            else:
                user_id, role, version = row.id, row.role, row.token_version
        await self._record_login(user_id)
        return self._token_for(user_id, role, version)
