"""Readiness: every configured backend must answer, each within a short timeout."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

Check = Callable[[], Awaitable[object]]
READY_TIMEOUT_SECONDS = 2.0


class Health:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        """Each resource registers its own check when it opens."""
        self._checks[name] = check

    async def readiness(self) -> dict[str, str]:
        async def run(check: Check) -> str:
            try:
                async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                    await check()
                return "ok"
            except Exception as exc:      # any failure means "not ready"; the name says which
                return f"failed: {type(exc).__name__}: {exc}"[:300]
        results = await asyncio.gather(*(run(c) for c in self._checks.values()))
        return dict(zip(self._checks, results))
