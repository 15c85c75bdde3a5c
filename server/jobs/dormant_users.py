"""dormant-users: accounts not used for TICKETBLUE_DORMANT_AFTER_DAYS become dormant — once their
dormancy notice (dormant-users-notice) is TICKETBLUE_DORMANT_NOTICE_DAYS old, so nobody goes dormant
unwarned — and a login re-activates them (server/accounts.py). Accounts dormant for
TICKETBLUE_ANONYMISE_AFTER_DORMANT_DAYS are anonymised: the personal data is erased, the row stays
for the bookings that point at it, and those bookings are re-indexed without the address.

"Not used" counts from the last login, or from the sign-up for an account that never logged in.
Each UPDATE carries the whole condition, so a login racing the job wins.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tables import dormant_notices, reservations, users
from server.jobs.base import DAY, Counts, Job
from server.jobs.chunks import between, in_ranges
from server.jobs.sql import concat_ids
from server.search.sync import reservations_changed

ANONYMOUS = "(anonymised)"


def last_seen() -> sa.ColumnElement:
    return sa.func.coalesce(users.c.last_login_at, users.c.created_at)


class DormantUsers(Job, name="dormant-users", every_seconds=DAY, counted=("dormant", "anonymised")):
    """Accounts unused for TICKETBLUE_DORMANT_AFTER_DAYS (and told so in advance) become dormant;
    accounts dormant for TICKETBLUE_ANONYMISE_AFTER_DORMANT_DAYS are anonymised."""

    async def run(self, counts: Counts) -> None:
        await self._make_dormant(counts)
        await self._anonymise(counts)

    async def _make_dormant(self, counts: Counts) -> None:
        now, settings = self.ctx.clock(), self.ctx.settings
        warned = sa.exists().where(dormant_notices.c.user_id == users.c.id, dormant_notices.c.sent_at >= last_seen(),
                                   dormant_notices.c.sent_at <= now - timedelta(days=settings.dormant_notice_days))
        due = sa.and_(users.c.status == "active", last_seen() < now - timedelta(days=settings.dormant_after_days),
                      warned)

        async def make_dormant(conn: AsyncConnection, low: int, high: int) -> None:
            changed = await conn.execute(users.update().where(between(users.c.id, low, high), due)
                                         .values(status="dormant", dormant_at=now))
            counts.add(dormant=changed.rowcount)
        await in_ranges(self.ctx.db, users.c.id, due, size=self.ctx.chunk_size, handle=make_dormant)

    async def _anonymise(self, counts: Counts) -> None:
        now = self.ctx.clock()
        due = sa.and_(users.c.status == "dormant",
                      users.c.dormant_at <= now - timedelta(days=self.ctx.settings.anonymise_after_dormant_days))

        async def anonymise(conn: AsyncConnection, low: int, high: int) -> None:
            # The ids as a list: a single-table DELETE with IN (SELECT ...) scans its whole table on
            # MariaDB 10.11 (see old_performances).
            these = await concat_ids(conn, users.c.id, between(users.c.id, low, high), due, lock=True)
            booked = (await conn.execute(sa.select(reservations.c.id)
                                         .where(reservations.c.user_id.in_(these)))).scalars().all()
            await conn.execute(dormant_notices.delete().where(dormant_notices.c.user_id.in_(these)))
            changed = await conn.execute(users.update().where(users.c.id.in_(these)).values(
                email=None, deleted_email=None, password_hash=None, kakao_id=None, name=ANONYMOUS,
                status="deleted", deleted_at=now))
            await reservations_changed(conn, booked)
            counts.add(anonymised=changed.rowcount)
        await in_ranges(self.ctx.db, users.c.id, due, size=self.ctx.chunk_size, handle=anonymise)
