"""old-performances: performances whose last day is longer ago than TICKETBLUE_ARCHIVE_AFTER_DAYS are
archived.

What stays is what past bookings point at: the performance row (now with `archived_at`), its prices,
and the rounds that have reservations — so every booking still shows its title, hall, time and
seats. What goes: the poster (row, then the stored object), the cast links, admin seat blocks and
the rounds nobody booked. Before they go, `performance_archive` keeps a record of all of it
(prices, cast, poster, every round with its number of bookings), written in the same transaction.

The removed rounds' seat maps are dropped after the commit (Seating.rounds_deleted), as when an admin
deletes a round. The poster objects are deleted after the commit (storage is not transactional); the record's
`poster_key` is cleared once the store confirms, and a run first retries any left from an earlier
run that failed or died in between, so no object is ever orphaned.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tables import cast, performance_archive, performances, performers, posters, prices, reservations, rounds
from server.jobs.base import DAY, Counts, Job
from server.jobs.chunks import between, in_ranges, transaction
from server.jobs.sql import concat_ids, json_array_agg, json_object, json_object_agg, utc_iso
from server.search.backend import PERFORMANCES
from server.search.sync import changed as search_changed

log = logging.getLogger(__name__)
STORAGE_CONCURRENCY = 16        # deletes in flight at once: S3 answers each in tens of milliseconds
PosterKeys = list[tuple[int, str]]
Archived = tuple[PosterKeys, list[int]]         # what a chunk leaves to do after its commit: posters, rounds


def _record() -> sa.ColumnElement:
    """What the performance of the row was, as JSON (select it FROM performances LEFT JOIN posters)."""
    its = performances.c.id
    bookings = sa.select(sa.func.count()).where(reservations.c.round_id == rounds.c.id).scalar_subquery()
    return json_object(
        title=performances.c.title, description=performances.c.description, category=performances.c.category,
        hall_id=performances.c.hall_id, starts_on=performances.c.starts_on, ends_on=performances.c.ends_on,
        duration_minutes=performances.c.duration_minutes,
        prices=sa.select(json_object_agg(prices.c.grade, prices.c.price)).where(prices.c.performance_id == its)
        .scalar_subquery(),
        cast=sa.select(json_array_agg(json_object(performer_id=cast.c.performer_id, name=performers.c.name),
                                      cast.c.performer_id))
        .select_from(cast.join(performers, performers.c.id == cast.c.performer_id))
        .where(cast.c.performance_id == its).scalar_subquery(),
        poster=sa.case((posters.c.performance_id.is_(None), sa.null()), else_=json_object(
            key=posters.c.storage_key, content_type=posters.c.content_type, size=posters.c.size,
            uploaded_at=utc_iso(posters.c.uploaded_at))),
        rounds=sa.select(json_array_agg(json_object(id=rounds.c.id, starts_at=utc_iso(rounds.c.starts_at),
                                                    bookings=bookings), rounds.c.id))
        .where(rounds.c.performance_id == its).scalar_subquery())


class OldPerformances(Job, name="old-performances", every_seconds=DAY,
                      counted=("archived", "cast_removed", "rounds_removed", "rounds_kept", "posters_deleted",
                               "poster_deletes_failed")):
    """Performances that ended longer ago than TICKETBLUE_ARCHIVE_AFTER_DAYS are archived: poster
    deleted, cast and unbooked rounds removed, a record kept; booked rounds stay for the bookings."""

    async def run(self, counts: Counts) -> None:
        ctx = self.ctx
        now = ctx.clock()
        last_day = (now.astimezone(ctx.zone) - timedelta(days=ctx.settings.archive_after_days)).date()
        delete_posters = partial(self._delete_posters, counts=counts)

        async def after_archive(archived: Archived) -> None:
            keys, round_ids = archived
            await ctx.seating.rounds_deleted(round_ids)
            await delete_posters(keys)

        async def left_over(conn: AsyncConnection, low: int, high: int) -> PosterKeys:
            return (await conn.execute(sa.select(performance_archive.c.performance_id, performance_archive.c.poster_key)
                                       .where(between(performance_archive.c.performance_id, low, high),
                                              performance_archive.c.poster_key.is_not(None)))).all()
        await in_ranges(ctx.db, performance_archive.c.performance_id, performance_archive.c.poster_key.is_not(None),
                        size=ctx.chunk_size, handle=left_over, after_commit=delete_posters)

        due = sa.and_(performances.c.archived_at.is_(None), performances.c.ends_on < last_day)

        async def archive(conn: AsyncConnection, low: int, high: int) -> Archived:
            in_chunk = sa.and_(between(performances.c.id, low, high), due)
            ids = await concat_ids(conn, performances.c.id, in_chunk, lock=True)
            if not ids:
                return [], []
            # The chunk's ids as a list, not as an IN (SELECT ...): MariaDB 10.11 runs a subquery in
            # a single-table DELETE once per row of the table, a full scan of rounds per chunk.
            these = performances.c.id.in_(ids)
            await conn.execute(performance_archive.insert().from_select(
                ["performance_id", "archived_at", "poster_key", "record"],
                sa.select(performances.c.id, sa.literal(now, performance_archive.c.archived_at.type),
                          posters.c.storage_key, _record())
                .select_from(performances.outerjoin(posters, posters.c.performance_id == performances.c.id))
                .where(these)))
            removed_cast = await conn.execute(cast.delete().where(cast.c.performance_id.in_(ids)))
            await conn.execute(posters.delete().where(posters.c.performance_id.in_(ids)))
            # Seat blocks of these rounds go with them (ON DELETE CASCADE).
            unbooked = (rounds.c.performance_id.in_(ids), ~sa.exists().where(reservations.c.round_id == rounds.c.id))
            removed_round_ids = await concat_ids(conn, rounds.c.id, *unbooked)
            removed_rounds = await conn.execute(rounds.delete().where(*unbooked))
            kept = (await conn.execute(sa.select(sa.func.count()).select_from(rounds)
                                       .where(rounds.c.performance_id.in_(ids)))).scalar_one()
            await conn.execute(performances.update().where(these).values(archived_at=now))
            await search_changed(conn, PERFORMANCES, ids)
            counts.add(archived=len(ids), cast_removed=removed_cast.rowcount, rounds_removed=removed_rounds.rowcount,
                       rounds_kept=kept)
            return (await conn.execute(sa.select(performance_archive.c.performance_id, performance_archive.c.poster_key)
                                       .where(between(performance_archive.c.performance_id, low, high),
                                              performance_archive.c.archived_at == now,
                                              performance_archive.c.poster_key.is_not(None)))).all(), removed_round_ids

        await in_ranges(ctx.db, performances.c.id, due, size=ctx.chunk_size, handle=archive,
                        after_commit=after_archive)

    async def _delete_posters(self, keys: PosterKeys, counts: Counts) -> None:
        """Delete the stored objects, then clear the keys the store confirmed (the rest: next run)."""
        gate = asyncio.Semaphore(STORAGE_CONCURRENCY)

        async def delete(performance_id: int, key: str) -> int | None:
            async with gate:
                try:
                    await self.ctx.storage.delete(key)
                    return performance_id
                except Exception as exc:
                    log.warning("poster %s of archived performance %s not deleted (the next run retries): %s",
                                key, performance_id, exc)
                    return None
        results = await asyncio.gather(*(delete(i, key) for i, key in keys))
        done = [i for i in results if i is not None]
        if done:
            async def clear(conn: AsyncConnection) -> None:
                await conn.execute(performance_archive.update().where(performance_archive.c.performance_id.in_(done))
                                   .values(poster_key=None))
            await transaction(self.ctx.db, clear)
        counts.add(posters_deleted=len(done), poster_deletes_failed=len(keys) - len(done))
