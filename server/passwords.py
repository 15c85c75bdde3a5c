"""argon2id password hashing, off the event loop (a hash takes tens of milliseconds of CPU).

At most `concurrency` hashes run at once: a flood of logins then queues here instead of taking
every thread of the default executor (which the rest of the server shares) and every core."""
from __future__ import annotations

import asyncio
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, *, concurrency: int = 0):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Compared against when the email is unknown, so both failures take the same time.
        self._dummy = self._hasher.hash("not-a-real-password")
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 1)

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
            except (VerificationError, InvalidHashError):
                return False
        async with self._slots:
            return await asyncio.to_thread(check)
