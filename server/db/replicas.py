"""Read replicas: which of them may serve a read right now.

Every TICKETBLUE_REPLICA_CHECK_SECONDS each instance writes the time on the primary (one heartbeat
row) and reads that row back on every replica: the age of a replica's copy is how far behind the
primary it is. Measured end to end like this, the lag also shows whatever stops a replica from
applying changes — a stopped or broken replication thread, a lost link to the primary, a slow
disk — where MariaDB's own Seconds_Behind_Master can say 0 or nothing, and it needs no privilege
beyond reading a table. A replica that does not answer, lags more than
TICKETBLUE_REPLICA_MAX_LAG_SECONDS, or has not been checked for a while is skipped until a check
finds it back in step; one that refuses a connection when a read picks it is skipped at once.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.background import Background
from server.db.tables import replica_heartbeat
from server.settings import redact

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0      # a replica that takes longer to answer one tiny query is not fit to serve
STALE_CHECKS = 3                 # a replica whose last good check is older than this many intervals is skipped
HEARTBEAT_ID = 1


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Replica:
    def __init__(self, url: str, engine: AsyncEngine):
        self.url = url
        self.engine = engine
        self.lag_seconds: float | None = None
        self.problem: str | None = "not checked yet"
        self.checked_at = float("-inf")            # time.monotonic() of the last check

    @property
    def name(self) -> str:
        """host:port: how /metrics names it (no user, password or database)."""
        url = sa.engine.make_url(self.url)
        return f"{url.host}:{url.port or 3306}"

    def record(self, lag_seconds: float | None, problem: str | None) -> None:
        if (problem is None) != (self.problem is None):
            if problem is None:
                log.info("replica %s is back in use (%.1fs behind)", redact(self.url), lag_seconds)
            else:
                log.warning("replica %s is skipped: %s", redact(self.url), problem)
        self.lag_seconds, self.problem, self.checked_at = lag_seconds, problem, time.monotonic()

    def state(self) -> dict[str, Any]:
        return {"url": redact(self.url), "usable": self.problem is None, "lag_seconds": self.lag_seconds,
                "problem": self.problem}


class Replicas:
    def __init__(self, primary: AsyncEngine, replicas: list[Replica], *, max_lag_seconds: float,
                 check_seconds: float):
        self._primary = primary
        self.members = replicas
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self._checks: Background | None = None

    # ---- choosing -------------------------------------------------------------------------------
    def usable(self) -> list[Replica]:
        """The replicas in step at their last check, in random order (spreads the reads)."""
        fresh_after = time.monotonic() - STALE_CHECKS * self.check_seconds - CHECK_TIMEOUT_SECONDS
        chosen = [r for r in self.members if r.problem is None and r.checked_at >= fresh_after]
        random.shuffle(chosen)
        return chosen

    async def connect(self) -> AsyncConnection | None:
        """A connection to a usable replica, or None (then the caller reads from the primary)."""
        for replica in self.usable():
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    return await replica.engine.connect()
            except (sa.exc.SQLAlchemyError, OSError, TimeoutError) as exc:
                replica.record(None, f"connection failed: {_reason(exc)}")
        return None

    # ---- checking -------------------------------------------------------------------------------
    async def check(self) -> None:
        """Write the heartbeat on the primary, then measure every replica against it."""
        try:
            await self._beat()
        except Exception as exc:       # the primary's trouble shows elsewhere; the replicas' copies age
            log.warning("replica heartbeat not written on the primary: %s", _reason(exc))
        await asyncio.gather(*(self._check(r) for r in self.members))

    async def _beat(self) -> None:
        statement = mysql_insert(replica_heartbeat).values(id=HEARTBEAT_ID, beat_ms=now_ms())
        # GREATEST: instances whose clocks differ a little never move the heartbeat back.
        statement = statement.on_duplicate_key_update(
            beat_ms=sa.func.greatest(replica_heartbeat.c.beat_ms, statement.inserted.beat_ms))
        async with self._primary.begin() as conn:
            await conn.execute(statement)

    async def _check(self, replica: Replica) -> None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with replica.engine.connect() as conn:
                    beat = (await conn.execute(sa.select(replica_heartbeat.c.beat_ms).where(
                        replica_heartbeat.c.id == HEARTBEAT_ID))).scalar()
        except (sa.exc.SQLAlchemyError, OSError, TimeoutError) as exc:
            replica.record(None, f"not answering: {_reason(exc)}")
            return
        if beat is None:
            replica.record(None, "no heartbeat from the primary yet")
            return
        lag = max(0.0, (now_ms() - beat) / 1000)
        too_far = lag > self.max_lag_seconds
        replica.record(lag, f"{lag:.1f}s behind the primary (limit {self.max_lag_seconds:g}s)" if too_far else None)

    def start(self) -> None:
        if self.members and self._checks is None:
            self._checks = Background()
            self._checks.start(self.check_seconds, "replica-check", self.check)

    async def stop(self) -> None:
        if self._checks is not None:
            await self._checks.stop()
            self._checks = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
