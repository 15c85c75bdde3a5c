"""Rounds (show times) of a performance, and the booking checks that guard changing them."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import fetch_page, lock_or_404, make_page, one_or_404
from server.db.database import Database
from server.db.tables import performances, reservations, rounds
from server.db.types import utcnow
from server.errors import InvalidRequest, InvalidState, require
from server.schemas.catalogue import RoundCreate, RoundOut, RoundUpdate
from server.schemas.common import Page, PageQuery, given_fields
from server.seating import Seating

LIVE_STATUSES = ("pending", "confirmed", "attended")


async def refuse_if_booked(conn: AsyncConnection, round_ids: sa.ColumnElement | sa.Select, *,
                           what: str, live_only: bool = False) -> None:
    """409 invalid_state when reservations exist for these rounds.

    Live ones (pending, confirmed, attended) hold seats. Past ones (canceled, expired) are kept as
    booking and payment history, which refers to the round, so they still forbid deleting it."""
    query = sa.select(reservations.c.status, sa.func.count()).where(reservations.c.round_id.in_(round_ids))
    if live_only:
        query = query.where(reservations.c.status.in_(LIVE_STATUSES))
    counts = dict((await conn.execute(query.group_by(reservations.c.status))).all())
    live = sum(n for status, n in counts.items() if status in LIVE_STATUSES)
    if live:
        raise InvalidState(f"Cannot change {what}: it has {live} live reservation(s).", 
                       details={"live_reservations": live})
    if counts:
        raise InvalidState(f"Cannot delete {what}: its past reservations are kept as booking history.",
                       details={"past_reservations": sum(counts.values())})


def round_ids_of(performance_id: int) -> sa.Select:
    return sa.select(rounds.c.id).where(rounds.c.performance_id == performance_id)


async def rounds_outside(conn: AsyncConnection, performance_id: int, starts_on: date, ends_on: date,
                         zone: ZoneInfo) -> list[int]:
    """The performance's rounds whose local date would fall outside starts_on..ends_on."""
    rows = await conn.execute(sa.select(rounds.c.id, rounds.c.starts_at)
                              .where(rounds.c.performance_id == performance_id).order_by(rounds.c.id))
    return [row.id for row in rows if not starts_on <= row.starts_at.astimezone(zone).date() <= ends_on]


class Rounds:
    def __init__(self, db: Database, zone: ZoneInfo, seating: Seating | None):
        """`seating` None: no seat maps to clear when a round goes (the demo loader, which only creates)."""
        self._db = db
        self._zone = zone
        self._seating = seating

    def _out(self, row) -> RoundOut:
        starts_at = row.starts_at.astimezone(self._zone)
        return RoundOut(id=row.id, performance_id=row.performance_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=row.duration_minutes),
                        sale_opens_at=row.sale_opens_at and row.sale_opens_at.astimezone(self._zone))

    @staticmethod
    def _query() -> sa.Select:
        return (sa.select(rounds.c.id, rounds.c.performance_id, rounds.c.starts_at, rounds.c.sale_opens_at,
                          performances.c.duration_minutes)
                .join(performances, performances.c.id == rounds.c.performance_id))

    @staticmethod
    def _check_sale(starts_at: datetime, sale_opens_at: datetime | None) -> None:
        require(sale_opens_at is None or sale_opens_at < starts_at, "The sale must open before the show starts.",
                "sale_opens_at")

    async def _check_date(self, conn: AsyncConnection, performance_id: int, starts_at: datetime) -> None:
        run = (await conn.execute(sa.select(performances.c.starts_on, performances.c.ends_on)
                                  .where(performances.c.id == performance_id))).one()
        local_day = starts_at.astimezone(self._zone).date()
        if not run.starts_on <= local_day <= run.ends_on:
            raise InvalidRequest(f"The round is on {local_day} ({self._zone.key}), outside the performance's "
                                 f"run {run.starts_on}..{run.ends_on}.", fields=["starts_at"])

    async def _get(self, conn: AsyncConnection, round_id: int) -> RoundOut:
        return self._out(await one_or_404(conn, self._query().where(rounds.c.id == round_id), "round"))

    async def create(self, performance_id: int, request: RoundCreate) -> RoundOut:
        """400 when the round's local date is outside the performance's run."""
        async with self._db.begin() as conn:
            await lock_or_404(conn, performances, performance_id, "performance")
            await self._check_date(conn, performance_id, request.starts_at)
            self._check_sale(request.starts_at, request.sale_opens_at)
            result = await conn.execute(rounds.insert().values(
                performance_id=performance_id, starts_at=request.starts_at, sale_opens_at=request.sale_opens_at,
                created_at=utcnow()))
            return await self._get(conn, result.inserted_primary_key[0])

    async def list(self, performance_id: int, page: PageQuery) -> Page[RoundOut]:
        """In time order; 404 when the performance does not exist."""
        async with self._db.read() as conn:
            await one_or_404(conn, sa.select(performances.c.id).where(performances.c.id == performance_id),
                             "performance")
            rows, total = await fetch_page(conn, self._query().where(rounds.c.performance_id == performance_id)
                                           .order_by(rounds.c.starts_at, rounds.c.id), page)
        return make_page([self._out(row) for row in rows], page, total)

    async def get(self, round_id: int) -> RoundOut:
        async with self._db.read() as conn:
            return await self._get(conn, round_id)

    async def update(self, round_id: int, request: RoundUpdate) -> RoundOut:
        """Moving a round that people have booked would move their tickets: 409 while any are live. Its
        sale opening may change any time, and holds follow at once (Seating.gate_changed)."""
        changes = given_fields(request)
        require(bool(changes), "Give starts_at, sale_opens_at or both.", "starts_at", "sale_opens_at")
        async with self._db.begin() as conn:
            await lock_or_404(conn, rounds, round_id, "round")
            current = (await conn.execute(sa.select(rounds.c.performance_id, rounds.c.starts_at, rounds.c.sale_opens_at)
                                          .where(rounds.c.id == round_id))).one()
            if "starts_at" in changes:
                await refuse_if_booked(conn, [round_id], what="this round", live_only=True)
                await self._check_date(conn, current.performance_id, request.starts_at)
            self._check_sale(changes.get("starts_at", current.starts_at),
                             changes.get("sale_opens_at", current.sale_opens_at))
            await conn.execute(rounds.update().where(rounds.c.id == round_id).values(**changes))
            if "sale_opens_at" in changes and self._seating is not None:
                await self._seating.gate_changed(conn, round_id)
            return await self._get(conn, round_id)

    async def delete(self, round_id: int) -> None:
        """409 invalid_state while the round has reservations (live ones, or history to keep). Its seat
        map goes with it, on every instance (Seating.rounds_deleted)."""
        try:
            async with self._db.begin() as conn:
                await lock_or_404(conn, rounds, round_id, "round")
                await refuse_if_booked(conn, [round_id], what="this round")
                await conn.execute(rounds.delete().where(rounds.c.id == round_id))
        except IntegrityError:
            # A reservation arrived between our check and the delete (MariaDB).
            raise InvalidState("Cannot delete this round: it has reservations.") from None
        if self._seating is not None:
            await self._seating.rounds_deleted([round_id])
