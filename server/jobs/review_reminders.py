"""review-reminders: once a round has ended, its confirmed reservations become `attended`, and their
owners are invited to review it (reminder.review: SSE and mail) — in the same transaction, so the
status change is what makes the invitation go out once. Rounds that ended longer ago than
TICKETBLUE_REVIEW_INVITE_DAYS (say, before the job was first deployed) only change status."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tables import performances, reservations, rounds
from server.jobs.base import Counts, Job
from server.jobs.chunks import between, in_ranges
from server.jobs.sql import booking_messages, concat_ids, local_time_text
from server.outbox import enqueue_select
from server.search.sync import reservations_changed


class ReviewReminders(Job, name="review-reminders", every_seconds=600, counted=("attended", "invited")):
    """Confirmed reservations of rounds that have ended become attended; their owners are invited to
    review."""

    async def run(self, counts: Counts) -> None:
        now, ctx = self.ctx.clock(), self.ctx
        invite_after = now - timedelta(days=ctx.settings.review_invite_days)
        async with ctx.db.read_own_writes() as conn:
            # Rounds with confirmed reservations (on the status index: past rounds, all attended, cost
            # nothing) that have started; whether they have ended depends on the performance's duration.
            booked = (await conn.execute(sa.select(reservations.c.round_id).distinct()
                                         .where(reservations.c.status == "confirmed"))).scalars().all()
            started = (await conn.execute(
                sa.select(rounds.c.id, rounds.c.starts_at, performances.c.duration_minutes)
                .join(performances, performances.c.id == rounds.c.performance_id)
                .where(rounds.c.id.in_(booked), rounds.c.starts_at <= now).order_by(rounds.c.id))).all()

        for round_id, starts_at, minutes in started:
            ended_at = starts_at + timedelta(minutes=minutes)
            if ended_at > now:
                continue
            confirmed = sa.and_(reservations.c.round_id == round_id, reservations.c.status == "confirmed")

            async def attend(conn: AsyncConnection, low: int, high: int, confirmed=confirmed,
                             invite=ended_at >= invite_after, starts_at=local_time_text(starts_at, ctx.zone)) -> None:
                in_chunk = sa.and_(between(reservations.c.id, low, high), confirmed)
                # Locked first: a cancel racing the job waits, so who is invited is who becomes attended.
                ids = await concat_ids(conn, reservations.c.id, in_chunk, lock=True)
                invited = 0
                if invite:
                    invited = await enqueue_select(conn, event="reminder.review", source=booking_messages(
                        in_chunk, starts_at=sa.literal(starts_at), status="attended"))
                # (After the messages, unlike `enqueue`'s advice: only rows already locked are left to change.)
                # updated_at stays: it is the seat-map repair's window, and an attended seat stays sold.
                await conn.execute(reservations.update().where(in_chunk).values(status="attended"))
                await reservations_changed(conn, ids)
                counts.add(attended=len(ids), invited=len(ids) if invited else 0)
            await in_ranges(ctx.db, reservations.c.id, confirmed, size=ctx.chunk_size, handle=attend)
