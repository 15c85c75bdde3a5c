"""What the outbox holds right now, per channel, for /metrics: the messages waiting to be delivered,
how old the oldest of them is, and the dead letters. One grouped query (the status index narrows it
to pending and dead rows; delivered ones, the bulk, are not read)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from server.db.database import Database, fresh_reader
from server.db.tables import outbox
from server.db.types import utcnow
from server.outbox.routes import CHANNELS


@dataclass(frozen=True)
class ChannelFigures:
    backlog: int = 0
    oldest_age_seconds: float = 0.0       # 0 with nothing waiting
    dead_letters: int = 0


async def outbox_figures(db: Database) -> dict[str, ChannelFigures]:
    """Every channel's figures (zeros for a quiet one), as of now on the primary."""
    async with fresh_reader(db) as conn:
        rows = (await conn.execute(
            sa.select(outbox.c.channel, outbox.c.status, sa.func.count(), sa.func.min(outbox.c.created_at))
            .where(outbox.c.status.in_(("pending", "dead"))).group_by(outbox.c.channel, outbox.c.status))).all()
    now = utcnow()
    found: dict[str, dict] = {channel: {} for channel in CHANNELS}
    for channel, status, count, oldest in rows:
        figures = found.setdefault(channel, {})
        if status == "pending":
            figures.update(backlog=count, oldest_age_seconds=max(0.0, (now - oldest).total_seconds()))
        else:
            figures.update(dead_letters=count)
    return {channel: ChannelFigures(**figures) for channel, figures in found.items()}
