"""Access tokens: short-lived HS256 JWTs carrying the user id, role and the account's token version.

A valid signature says who the token was issued to; whether that account may still use it (not
deleted, no logout or password change since) is server/revocation.py's question."""
from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from server.errors import Unauthorized

ISSUER = "ticketblue"
VERIFIED_CACHE_SIZE = 50_000
MAX_USER_ID = 2**31 - 1            # users.id is a 32-bit column: a larger `sub` names nobody


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    role: str
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Tokens:
    def __init__(self, secret: str, ttl_seconds: int):
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(self, user_id: int, role: str, token_version: int = 0) -> str:
        """`token_version` is the account's users.token_version now (0 until its first logout or
        password change)."""
        now = int(time.time())
        claims = {"sub": str(user_id), "role": role, "ver": token_version, "iat": now,
                  "exp": now + self.ttl_seconds, "iss": ISSUER}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        # A user sends the same token with every hold: remember the ones already checked (their
        # expiry is still looked at on each use), instead of verifying the signature each time.
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires:
                return principal
            del self._verified[token]
            raise Unauthorized("The access token has expired; sign in again.")
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["sub", "exp", "iat", "role"]})
            # (A token issued before tokens carried versions has none: it is of version 0.)
            principal = Principal(int(claims["sub"]), str(claims["role"]), int(claims.get("ver", 0)))
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired; sign in again.") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise Unauthorized("The access token is not valid.") from None
        if not 0 < principal.user_id <= MAX_USER_ID:
            raise Unauthorized("The access token is not valid.")
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))      # the oldest entry
        self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def sign(self, claims: dict, ttl_seconds: int) -> str:
        """Short-lived signed values other than access tokens (the OAuth `state`)."""
        return jwt.encode({**claims, "exp": int(time.time()) + ttl_seconds, "iss": ISSUER},
                          self._secret, algorithm="HS256")

    def unsign(self, value: str, purpose: str) -> dict:
        try:
            claims = jwt.decode(value, self._secret, algorithms=["HS256"], issuer=ISSUER)
        except jwt.InvalidTokenError:
            raise Unauthorized("The signed value is invalid or has expired.") from None
        if claims.get("purpose") != purpose:
            raise Unauthorized("The signed value is for something else.")
        return claims
