"""The database: one primary for writes, optional read replicas, the same code on SQLite and MariaDB."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server.db.replicas import Replica, Replicas

REPLICA_CONNECT_TIMEOUT_SECONDS = 2     # a replica that is down must not hold a read up: the primary answers


def _mysql_url(url: str) -> str:
    parsed = make_url(url)
    if "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, writer: bool = True, connect_timeout: float | None = None) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _sqlite_pragmas(engine, immediate=writer)
        return engine
    return create_async_engine(
        _mysql_url(url), pool_size=10, max_overflow=40, pool_recycle=1800, pool_pre_ping=True,
        connect_args={"connect_timeout": connect_timeout} if connect_timeout else {},
        # READ COMMITTED: conditional UPDATEs see committed rows and gap locks stay small.
        isolation_level="READ COMMITTED",
    )


def _sqlite_pragmas(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, open transactions (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes can fail with "database is locked" instead of waiting its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """``begin()`` is a write transaction on the primary; ``read()`` may use a replica (one that is up
    and in step: server/db/replicas.py; call ``watch_replicas()`` to start checking them)."""

    def __init__(self, url: str, replica_urls: list[str] | None = None, *, max_lag_seconds: float = 5,
                 check_seconds: float = 1):
        self.url = url
        self.primary = make_engine(url)
        # SQLite readers use a second engine whose transactions do not take the write lock.
        self._sqlite_reader = make_engine(url, writer=False) if url.startswith("sqlite") else None
        members = [] if self._sqlite_reader else [
            Replica(u, make_engine(u, connect_timeout=REPLICA_CONNECT_TIMEOUT_SECONDS)) for u in replica_urls or []]
        self.replicas = Replicas(self.primary, members, max_lag_seconds=max_lag_seconds,
                                 check_seconds=check_seconds)

    @property
    def dialect(self) -> str:
        return self.primary.dialect.name

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self.primary.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read_own_writes(self) -> AsyncIterator[AsyncConnection]:
        """Reads that must see this instance's latest writes (login, profile, own bookings)."""
        async with self.primary.connect() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Reads that may lag a little behind the primary (catalogue, search): a replica in step, else
        the primary."""
        if self._sqlite_reader is not None:
            conn = await self._sqlite_reader.connect()
        else:
            conn = await self.replicas.connect() or await self.primary.connect()
        try:
            yield conn
        finally:
            await conn.close()

    async def watch_replicas(self) -> None:
        """Check the replicas once (so the first reads already know), then keep checking them."""
        if self.replicas.members:
            await self.replicas.check()
            self.replicas.start()

    async def ping(self) -> None:
        async with self.primary.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.replicas.stop()
        readers = [self._sqlite_reader] if self._sqlite_reader else [r.engine for r in self.replicas.members]
        for engine in (self.primary, *readers):
            await engine.dispose()


@asynccontextmanager
async def fresh_reader(db: Database) -> AsyncIterator[AsyncConnection]:
    """Reads that must see every committed row (a replica may lag behind a doorbell) without taking
    the writer lock: SQLite's reader engine reads the same file; MariaDB's primary."""
    source = db.read() if db.dialect == "sqlite" else db.read_own_writes()
    async with source as conn:
        yield conn

