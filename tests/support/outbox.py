"""The outbox in tests: messages enqueued as the services enqueue them, their rows read back, a
clock the dispatcher reads, and a user to address them to."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import outbox, users
from server.db.types import utcnow
from server.notify.messages import Booking, SeatLabel
from server.outbox import enqueue
from server.wiring import DATABASE
from tests.support.api import eventually

SEOUL = ZoneInfo("Asia/Seoul")
_numbers = itertools.count(1)


def booking(reservation_id: int = 1, **changes) -> Booking:
    values = dict(reservation_id=reservation_id, performance_title="레미제라블 Les Misérables", hall_name="블루홀",
                  starts_at=datetime(2026, 12, 24, 10, 30, tzinfo=timezone.utc),
                  seats=[SeatLabel("A", 1, 3, "R"), SeatLabel("A", 1, 4, "R")], amount=240000, discount=0)
    return Booking(**{**values, **changes})


async def make_user(db: Database, *, name: str = "김블루", email_address: str | None = None) -> int:
    address = email_address or f"outbox-{next(_numbers)}-{uuid.uuid4().hex[:8]}@example.com"
    async with db.begin() as conn:
        result = await conn.execute(users.insert().values(email=address, name=name, role="user", status="active",
                                                          created_at=utcnow()))
        return result.inserted_primary_key[0]


async def enqueue_one(db: Database, event: str, user_id: int | None, payload=None,
                      channels=None) -> dict[str, int]:
    async with db.begin() as conn:
        return await enqueue(conn, event=event, user_id=user_id, payload=payload or booking(), channels=channels)


async def outbox_rows(db: Database, ids) -> dict[int, sa.Row]:
    async with db.read_own_writes() as conn:
        rows = (await conn.execute(sa.select(outbox).where(outbox.c.id.in_(list(ids))))).all()
    return {row.id: row for row in rows}


async def settled(db: Database, ids, status: str = "delivered", timeout: float = 15.0) -> dict[int, sa.Row]:
    async def probe():
        rows = await outbox_rows(db, ids)
        return rows if all(r.status == status for r in rows.values()) else None
    return await eventually(probe, timeout=timeout)


async def messages(app, event: str) -> list[sa.Row]:
    """The outbox rows of one event, every channel, oldest first."""
    async with app[DATABASE].read_own_writes() as conn:
        return (await conn.execute(sa.select(outbox).where(outbox.c.event == event).order_by(outbox.c.id))).all()


class Clock:
    """The dispatcher's notion of now, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
