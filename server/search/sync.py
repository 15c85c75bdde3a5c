"""Keeping search in step with the database, through the outbox.

A write that changes what search shows calls `changed(conn, kind, ids)` inside its own transaction
(the catalogue services do; the reservation service calls `reservations_changed`). That writes
one outbox message on the `search` channel, so the index hears of every committed change and of
no rolled-back one, and, for the catalogue, gives the catalogue a new version token in the same
transaction (the SQL backend's cache key: a cached answer can never outlive the commit that made
it stale).

The dispatcher delivers the messages to `SearchChannel`, which hands the ids to the backend's
`apply` (Elasticsearch re-reads those rows and re-indexes or deletes them; SQL has nothing to do).
Messages delivered together are applied as one batch: one read per kind, one bulk request.
"""
from __future__ import annotations

import asyncio
import secrets
from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.database import Database
from server.db.tables import search_versions
from server.outbox import enqueue
from server.outbox.dispatch import DeliveryFailed, Message
from server.request_ids import shared_task
from server.search.backend import CATALOGUE_KINDS, KINDS, RESERVATIONS, Changes, SearchBackend

EVENT = "search.index"
CATALOGUE = "catalogue"               # the search_versions row of the catalogue
LOCK_WAIT_SECONDS = 30


# ---- in the writer's transaction ------------------------------------------------------------------
async def changed(conn: AsyncConnection, kind: str, ids: Iterable[int]) -> None:
    """Rows of `kind` were created, updated or deleted in this transaction. Call it last in the
    transaction (it takes the catalogue's version row until the commit)."""
    if kind not in KINDS:
        raise ValueError(f"unknown search kind {kind!r}")
    ids = sorted(set(ids))
    if not ids:
        return
    await enqueue(conn, event=EVENT, user_id=None, payload={"kind": kind, "ids": ids})
    if kind in CATALOGUE_KINDS:
        await _new_version(conn, CATALOGUE)


async def reservations_changed(conn: AsyncConnection, reservation_ids: Iterable[int]) -> None:
    """For the reservation service: call inside every transaction that creates a reservation or
    changes its status (payment, cancel, expiry...), after the change."""
    await changed(conn, RESERVATIONS, reservation_ids)


async def _new_version(conn: AsyncConnection, name: str) -> None:
    token = secrets.token_hex(8)
    updated = await conn.execute(search_versions.update().where(search_versions.c.name == name)
                                 .values(token=token))
    if updated.rowcount:
        return
    if conn.dialect.name == "mysql":     # first change ever (or the row was cleared)
        statement = mysql_insert(search_versions).values(name=name, token=token).on_duplicate_key_update(token=token)
    else:
        statement = sqlite_insert(search_versions).values(name=name, token=token).on_conflict_do_update(
            index_elements=["name"], set_={"token": token})
    await conn.execute(statement)


async def read_version(conn: AsyncConnection, name: str = CATALOGUE) -> str:
    token = (await conn.execute(sa.select(search_versions.c.token).where(search_versions.c.name == name))).scalar()
    return token or "none"


# ---- delivering ----------------------------------------------------------------------------------
def parse(payload: dict) -> Changes:
    kind, ids = payload.get("kind"), payload.get("ids")
    if kind not in KINDS or not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise DeliveryFailed(f"not a search message: {payload!r}"[:300], permanent=True)
    return {kind: set(ids)}


def merge(into: Changes, more: Changes) -> Changes:
    for kind, ids in more.items():
        into.setdefault(kind, set()).update(ids)
    return into


class SearchChannel:
    """The outbox channel `search`. The dispatcher delivers a claimed batch concurrently; every
    delivery made before the batch's first flush runs joins it, so a batch of 50 messages costs one
    `apply`, not 50. A failed apply fails all of them (each is retried by the outbox)."""

    def __init__(self, backend: SearchBackend):
        self._backend = backend
        self._pending: tuple[Changes, asyncio.Future] | None = None

    async def deliver(self, message: Message) -> None:
        changes = parse(message.payload)
        if self._pending is None:
            self._pending = ({}, asyncio.get_running_loop().create_future())
            asyncio.get_running_loop().call_soon(self._flush)
        batch, done = self._pending
        merge(batch, changes)
        # shield: one delivery timing out must not cancel the others' apply
        await asyncio.shield(done)

    def _flush(self) -> None:
        batch, done = self._pending
        self._pending = None
        task = shared_task(self._backend.apply(batch))      # (a batch of many deliveries' changes)

        def finish(t: asyncio.Task) -> None:
            if t.cancelled():
                done.cancel()
            elif t.exception() is not None:
                done.set_exception(t.exception())
                done.exception()         # retrieved: nobody may be left waiting (all timed out)
            else:
                done.set_result(None)
        task.add_done_callback(finish)


# ---- one writer at a time --------------------------------------------------------------------------
class SyncLock:
    """Index writes from several instances must not overtake each other (an instance that read a row
    earlier writing its older copy last). So one apply runs at a time: within this process an
    asyncio lock; across MariaDB instances a named lock (GET_LOCK) held for the whole apply.
    SQLite is one process by construction."""

    def __init__(self, db: Database, name: str):
        self._db = db
        self._name = name[:64]
        self._local = asyncio.Lock()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with self._local:
            if self._db.dialect != "mysql":
                yield
                return
            async with self._db.primary.connect() as conn:
                got = (await conn.execute(sa.text("SELECT GET_LOCK(:name, :wait)"),
                                          {"name": self._name, "wait": LOCK_WAIT_SECONDS})).scalar()
                if got != 1:
                    raise DeliveryFailed(f"search sync lock {self._name!r} not free within {LOCK_WAIT_SECONDS}s")
                try:
                    yield
                finally:
                    await conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": self._name})
