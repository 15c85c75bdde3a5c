"""Demo content: a hall, two performers, a performance with prices and cast, and rounds over the next days.

Loaded by `python -m server demo` and `serve --demo`, only into a database without halls, through the
same services the API uses (so the demo obeys every rule real data does). Running it twice is harmless.

`serve --demo` on the embedded database (no TICKETBLUE_DATABASE_URL: `scripts/run`) also makes the way
into /admin: the demo admin account, with a new random password at every start, which only the
terminal is told (never a log line: logs are shipped and kept).
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.catalogue.cast import Cast
from server.catalogue.halls import Halls
from server.catalogue.performances import Performances
from server.catalogue.performers import Performers
from server.catalogue.rounds import Rounds
from server.db.database import Database
from server.db.migrate import upgrade
from server.db.tables import halls, users
from server.db.types import utcnow
from server.passwords import Passwords
from server.schemas.catalogue import CastAdd, HallCreate, PerformanceCreate, PerformerCreate, RoundCreate, SectionSpec
from server.settings import Settings
from server.storage import open_storage

log = logging.getLogger(__name__)

DEMO_HALL = HallCreate(
    name="Ticket Blue Hall (티켓블루 홀)", address="서울특별시 중구 세종대로 110",
    sections=[SectionSpec(name="VIP", rows=4, seats_per_row=20, grade="VIP"),
              SectionSpec(name="R", rows=6, seats_per_row=24, grade="R"),
              SectionSpec(name="S", rows=6, seats_per_row=28, grade="S")])
DEMO_PERFORMERS = [PerformerCreate(name="Han Ji-woo (한지우)", nationality="KR"),
                   PerformerCreate(name="The Blue Notes", nationality="KR")]
DEMO_PRICES = {"VIP": 150_000, "R": 120_000, "S": 90_000}
DEMO_ROUNDS = 5
DEMO_SHOW_TIME = time(19, 30)
DEMO_ADMIN_EMAIL = "admin@ticketblue.local"


async def demo_admin(settings: Settings) -> str | None:
    """On the embedded database only: the demo admin account (made, or its password renewed) and its
    new password; None, touching nothing, with a database of one's own (TICKETBLUE_DATABASE_URL)."""
    if settings.database_url:
        return None
    password = secrets.token_urlsafe(12)
    password_hash = await Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib).hash(password)
    db = Database(settings.resolved_database_url)
    try:
        await upgrade(db)
        async with db.begin() as conn:
            renewed = await conn.execute(users.update().where(users.c.email == DEMO_ADMIN_EMAIL).values(
                password_hash=password_hash, role="admin", status="active",
                token_version=users.c.token_version + 1))        # the last run's tokens end
            if renewed.rowcount == 0:
                await conn.execute(users.insert().values(
                    email=DEMO_ADMIN_EMAIL, password_hash=password_hash, name="Demo admin", role="admin",
                    status="active", language="ko", created_at=utcnow()))
    finally:
        await db.close()
    return password


async def load_demo(settings: Settings) -> bool:
    """Load the demo into an empty catalogue; True when it did, False when halls existed already."""
    db = Database(settings.resolved_database_url, settings.replicas)
    try:
        if db.dialect == "sqlite":
            await upgrade(db)      # the embedded database migrates itself, as the server does
        async with db.read_own_writes() as conn:
            if (await conn.execute(sa.select(halls.c.id).limit(1))).first():
                log.info("demo: the database has halls already; nothing loaded")
                return False
        async with open_storage(settings) as storage:
            await _load(db, storage, ZoneInfo(settings.timezone))
        return True
    finally:
        await db.close()


async def _load(db: Database, storage, zone: ZoneInfo) -> None:
    hall = await Halls(db).create(DEMO_HALL)
    performer_service = Performers(db)
    performers = [await performer_service.create(p) for p in DEMO_PERFORMERS]
    today = datetime.now(zone).date()
    performance = await Performances(db, storage, zone, seating=None).create(PerformanceCreate(
        title="Ticket Blue Live — 티켓블루 라이브", category="concert", hall_id=hall.id,
        description="The demo concert: pick your seats on the live seat map.",
        starts_on=today, ends_on=today + timedelta(days=DEMO_ROUNDS + 1), duration_minutes=120,
        prices=DEMO_PRICES))
    cast = Cast(db)
    for performer in performers:
        await cast.add(performance.id, CastAdd(performer_id=performer.id))
    rounds = Rounds(db, zone, seating=None)
    for day in range(1, DEMO_ROUNDS + 1):
        starts_at = datetime.combine(today + timedelta(days=day), DEMO_SHOW_TIME, tzinfo=zone)
        await rounds.create(performance.id, RoundCreate(starts_at=starts_at))
    log.info("demo: hall %s (%d seats), performance %s %r with %d performers and %d rounds from %s",
             hall.id, hall.capacity, performance.id, performance.title, len(performers), DEMO_ROUNDS,
             today + timedelta(days=1))
