"""A full reindex (`python -m server reindex`): every kind rebuilt from the database into a new index
with the bulk API, the alias moved atomically, so search answers from the old index until the new
one is complete (server/search/indices.py).

Rows that change while a kind is being rebuilt may have been read before the change and written to
the new index after the live sync wrote the old one. So, once every alias has moved, the outbox's
search messages since the start (minus a margin for transactions that were open then) are
applied again; `apply` re-reads the rows, so that is always safe.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from server.db.database import Database, fresh_reader
from server.db.tables import outbox
from server.db.types import utcnow
from server.outbox.dispatch import DeliveryFailed
from server.outbox.routes import SEARCH_SYNC
from server.search.backend import CATALOGUE_KINDS, KINDS, Changes
from server.search.elastic import ElasticBackend
from server.search.indices import Progress
from server.search.sync import CATALOGUE, merge, parse

log = logging.getLogger(__name__)

REPLAY_MARGIN = timedelta(minutes=5)
REPLAY_BATCH = 1000


async def reindex(backend: ElasticBackend, db: Database, kinds: tuple[str, ...] = KINDS, *, chunk: int = 2000,
                  progress: Progress | None = None) -> dict[str, int]:
    """Rebuild these kinds; returns the number of documents of each."""
    started = utcnow()
    counts = {kind: await backend.indices.rebuild(kind, db, chunk=chunk, progress=progress) for kind in kinds}
    replayed = await replay(backend, db, since=started - REPLAY_MARGIN, kinds=set(kinds))
    if not set(kinds).isdisjoint(CATALOGUE_KINDS):
        await backend.versions.bump(CATALOGUE)     # cached answers came from the old indices
    log.info("search: reindexed %s; %s change message(s) replayed", counts, replayed)
    return counts


async def replay(backend: ElasticBackend, db: Database, *, since, kinds: set[str]) -> int:
    """Apply the search messages written since `since` again; returns how many there were."""
    last, seen = 0, 0
    while True:
        async with fresh_reader(db) as conn:
            rows = (await conn.execute(
                sa.select(outbox.c.id, outbox.c.payload)
                .where(outbox.c.user_id.is_(None), outbox.c.channel == SEARCH_SYNC, outbox.c.id > last,
                       outbox.c.created_at >= since)
                .order_by(outbox.c.id).limit(REPLAY_BATCH))).all()
        if not rows:
            return seen
        changes: Changes = {}
        for row in rows:
            try:
                merge(changes, parse(row.payload))
            except DeliveryFailed:       # not ours to judge here; the dispatcher dead-letters it
                continue
        changes = {kind: ids for kind, ids in changes.items() if kind in kinds}
        if changes:
            await backend.apply(changes)
        seen += len(rows)
        last = rows[-1].id
