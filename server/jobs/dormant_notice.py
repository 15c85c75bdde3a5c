"""dormant-users-notice: accounts that will become dormant in TICKETBLUE_DORMANT_NOTICE_DAYS are told
by mail (account.dormant_notice), and the box office hears on Slack how many were (one message per
run). `dormant_notices` records each notice in the same transaction as its mail: an account is told
once per stretch of inactivity — a login starts a new one, and a notice older than that login no
longer counts. An account is told once less than the notice period is left of its unused year, and
dormant-users waits for the notice to be as old as the notice period: it becomes dormant the notice
period after it was told, the day the mail names."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tables import dormant_notices, users
from server.jobs.base import DAY, Counts, Job
from server.jobs.chunks import between, in_ranges, transaction
from server.jobs.dormant_users import last_seen
from server.jobs.sql import json_object, utc_iso
from server.notify.messages import DormantNoticesSent
from server.outbox import enqueue, enqueue_select


class DormantUsersNotice(Job, name="dormant-users-notice", every_seconds=DAY, counted=("noticed", "mailed")):
    """Accounts that become dormant in TICKETBLUE_DORMANT_NOTICE_DAYS are told by mail (and Slack hears
    how many)."""

    async def run(self, counts: Counts) -> None:
        now, ctx = self.ctx.clock(), self.ctx
        notice = timedelta(days=ctx.settings.dormant_notice_days)
        dormant_on = (now + notice).astimezone(ctx.zone).date()
        told = sa.exists().where(dormant_notices.c.user_id == users.c.id, dormant_notices.c.sent_at >= last_seen())
        due = sa.and_(users.c.status == "active",
                      last_seen() < now - timedelta(days=ctx.settings.dormant_after_days) + notice, ~told)

        async def tell(conn: AsyncConnection, low: int, high: int) -> None:
            in_chunk = sa.and_(between(users.c.id, low, high), due)
            # Locked first: a login racing the job waits, so who is mailed is who is recorded.
            accounts = (await conn.execute(sa.select(sa.func.count()).select_from(users).where(in_chunk)
                                           .with_for_update())).scalar_one()
            mailed = await enqueue_select(conn, event="account.dormant_notice", source=sa.select(
                users.c.id.label("user_id"),
                json_object(last_seen_at=utc_iso(last_seen()), dormant_on=dormant_on.isoformat()).label("payload"))
                .where(in_chunk, users.c.email.is_not(None)))          # (no address, no mail: still recorded)
            sent_at = sa.literal(now, dormant_notices.c.sent_at.type)
            await conn.execute(_record_notices(conn, sa.select(users.c.id, sent_at).where(in_chunk)))
            counts.add(noticed=accounts, mailed=mailed)

        await in_ranges(ctx.db, users.c.id, due, size=ctx.chunk_size, handle=tell)
        if counts.get("noticed"):
            summary = DormantNoticesSent(accounts=counts["noticed"], dormant_on=dormant_on)

            async def post(conn: AsyncConnection) -> None:
                await enqueue(conn, event="account.dormant_notices_sent", user_id=None, payload=summary)
            await transaction(ctx.db, post)


def _record_notices(conn: AsyncConnection, rows: sa.Select) -> sa.Insert:
    """Insert (user_id, sent_at) rows, replacing the notice of an earlier stretch."""
    if conn.dialect.name == "mysql":
        statement = mysql_insert(dormant_notices).from_select(["user_id", "sent_at"], rows)
        return statement.on_duplicate_key_update(sent_at=statement.inserted.sent_at)
    statement = sqlite_insert(dormant_notices).from_select(["user_id", "sent_at"], rows)
    return statement.on_conflict_do_update(index_elements=["user_id"], set_={"sent_at": statement.excluded.sent_at})
