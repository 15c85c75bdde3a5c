"""A round's gate as the database has it (seatmap/line.py Gate): when its sale opens, its waiting
room's rules if one is enabled, and its number of seats. The seat engine keeps a copy beside the
round's seats; it is read from here when the engine loads the round and after every change."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seatmap.line import Gate, LineRules
from server.db.tables import performances, rounds, seats, waiting_rooms


def epoch_ms(moment) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


async def read_gate(conn: AsyncConnection, round_id: int) -> Gate:
    row = (await conn.execute(
        sa.select(rounds.c.sale_opens_at, rounds.c.gate_version, performances.c.hall_id, waiting_rooms)
        .join(performances, performances.c.id == rounds.c.performance_id)
        .outerjoin(waiting_rooms, waiting_rooms.c.round_id == rounds.c.id)
        .where(rounds.c.id == round_id))).one()
    seats_total = (await conn.execute(sa.select(sa.func.count()).where(seats.c.hall_id == row.hall_id))).scalar_one()
    line = None
    if row.enabled:
        line = LineRules(row.prequeue_minutes * 60_000, row.max_active, row.admit_per_minute,
                         row.session_seconds * 1000)
    return Gate(epoch_ms(row.sale_opens_at), line, seats_total, row.gate_version)
