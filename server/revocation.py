"""Whether an account may still use a correctly signed token: it is not deleted (nor anonymised),
and the token carries the account's current token version (a logout or password change adds one).

Every authenticated request asks, so the answer is kept per process for TICKETBLUE_TOKEN_CHECK_SECONDS:
one primary read per active account per interval. The instance that revokes forgets its copy at
once; every other instance reads the account again within the interval, which bounds how long a
revoked token still works anywhere.
"""
from __future__ import annotations

import time
from typing import Callable, NamedTuple

import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import users
from server.errors import Unauthorized
from server.kept_reads import KeptReads
from server.tokens import Principal


class AccountState(NamedTuple):
    usable: bool           # the row exists and is not deleted
    token_version: int


class Revocation:
    def __init__(self, db: Database, *, ttl_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._db = db
        self._states: KeptReads[int, AccountState] = KeptReads(self._read, ttl_seconds=ttl_seconds, clock=clock)

    async def check(self, principal: Principal) -> None:
        """Raise Unauthorized unless the token's account is usable and the token is of its current version."""
        state = await self._states.get(principal.user_id)
        if not state.usable:
            raise Unauthorized("This account no longer exists.")
        if state.token_version != principal.token_version:
            raise Unauthorized("This access token was ended by a logout or a password change; sign in again.")

    def forget(self, user_id: int) -> None:
        """The account just changed here: the next check reads it again (and a read already under way
        does not put its older answer back)."""
        self._states.forget(user_id)

    async def _read(self, user_id: int) -> AccountState:
        async with self._db.read_own_writes() as conn:       # the primary: a replica may not have the change yet
            row = (await conn.execute(sa.select(users.c.status, users.c.token_version)
                                      .where(users.c.id == user_id))).first()
        if row is None:
            return AccountState(False, 0)
        return AccountState(row.status != "deleted", row.token_version)
