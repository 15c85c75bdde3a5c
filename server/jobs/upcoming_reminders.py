"""upcoming-reminders: the day before a round, everyone with a confirmed booking for it is reminded
(reminder.upcoming: SSE and mail), once — `reservation_reminders` marks who was, in the same
transaction as the messages, and the messages go to exactly the reservations marked."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tables import reservation_reminders, reservations, rounds
from server.jobs.base import Counts, Job
from server.jobs.chunks import between, in_ranges
from server.jobs.sql import booking_messages, local_time_text
from server.outbox import enqueue_select


class UpcomingReminders(Job, name="upcoming-reminders", every_seconds=600, counted=("reminded",)):
    """Bookers of a round starting within TICKETBLUE_UPCOMING_REMINDER_HOURS are reminded (SSE and
    mail)."""

    async def run(self, counts: Counts) -> None:
        now, ctx = self.ctx.clock(), self.ctx
        until = now + timedelta(hours=ctx.settings.upcoming_reminder_hours)
        async with ctx.db.read_own_writes() as conn:
            soon = (await conn.execute(sa.select(rounds.c.id, rounds.c.starts_at).where(
                rounds.c.starts_at > now, rounds.c.starts_at <= until).order_by(rounds.c.id))).all()
        reminded = sa.exists().where(reservation_reminders.c.reservation_id == reservations.c.id)
        stamp = sa.literal(now, reservation_reminders.c.sent_at.type)

        # Round by round: each chunk is then a range of the (round_id, id) index.
        for round_id, starts_at in soon:
            unreminded = sa.and_(reservations.c.round_id == round_id, reservations.c.status == "confirmed", ~reminded)

            async def remind(conn: AsyncConnection, low: int, high: int, round_id=round_id, unreminded=unreminded,
                             starts_at=local_time_text(starts_at, ctx.zone)) -> None:
                in_chunk = between(reservations.c.id, low, high)
                marked = await conn.execute(reservation_reminders.insert().from_select(
                    ["reservation_id", "sent_at"], sa.select(reservations.c.id, stamp).where(in_chunk, unreminded)))
                await enqueue_select(conn, event="reminder.upcoming", source=booking_messages(
                    in_chunk, reservations.c.round_id == round_id, reservation_reminders.c.sent_at == now,
                    starts_at=sa.literal(starts_at),
                    marks=(reservation_reminders, reservation_reminders.c.reservation_id == reservations.c.id)))
                counts.add(reminded=marked.rowcount)
            await in_ranges(ctx.db, reservations.c.id, unreminded, size=ctx.chunk_size, handle=remind)
