"""Whether an account may still use a correctly signed token: it is not deleted (nor anonymised),
and the token carries the account's current token version (a logout or password change adds one).

Every authenticated request asks, so the answer is kept per process for TICKETBLUE_TOKEN_CHECK_SECONDS:
one primary read per active account per interval. The instance that revokes forgets its copy at
once; every other instance reads the account again within the interval, which bounds how long a
revoked token still works anywhere.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable, NamedTuple

import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import users
from server.errors import Unauthorized
from server.tokens import Principal

MAX_ENTRIES = 100_000


class AccountState(NamedTuple):
    usable: bool           # the row exists and is not deleted
    token_version: int
    read_at: float


class Revocation:
    def __init__(self, db: Database, *, ttl_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._db = db
        self._ttl = ttl_seconds
        self._clock = clock
        self._known: dict[int, AccountState] = {}
        self._reading: dict[int, asyncio.Task[AccountState]] = {}

    async def check(self, principal: Principal) -> None:
        """Raise Unauthorized unless the token's account is usable and the token is of its current version."""
        state = await self._state(principal.user_id)
        if not state.usable:
            raise Unauthorized("This account no longer exists.")
        if state.token_version != principal.token_version:
            raise Unauthorized("This access token was ended by a logout or a password change; sign in again.")

    def forget(self, user_id: int) -> None:
        """The account just changed here: the next check reads it again (and a read already under way
        does not put its older answer back)."""
        self._known.pop(user_id, None)
        self._reading.pop(user_id, None)

    async def _state(self, user_id: int) -> AccountState:
        known = self._known.get(user_id)
        if known is not None and self._clock() - known.read_at < self._ttl:
            return known
        # Many requests of one account at once share one read.
        reading = self._reading.get(user_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(user_id))
            self._reading[user_id] = reading
            reading.add_done_callback(lambda task: self._remember(user_id, task))
        return await asyncio.shield(reading)

    def _remember(self, user_id: int, task: asyncio.Task[AccountState]) -> None:
        if self._reading.get(user_id) is not task:
            return                                   # forgotten meanwhile: its answer may be older
        del self._reading[user_id]
        if task.cancelled() or task.exception() is not None:
            return
        self._known.pop(user_id, None)
        if len(self._known) >= MAX_ENTRIES:
            self._known.pop(next(iter(self._known)))     # the entry read longest ago
        self._known[user_id] = task.result()

    async def _read(self, user_id: int) -> AccountState:
        read_at = self._clock()
        async with self._db.read_own_writes() as conn:       # the primary: a replica may not have the change yet
            row = (await conn.execute(sa.select(users.c.status, users.c.token_version)
                                      .where(users.c.id == user_id))).first()
        if row is None:
            return AccountState(False, 0, read_at)
        return AccountState(row.status != "deleted", row.token_version, read_at)
