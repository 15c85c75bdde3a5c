"""Reservations: a user's holds become a pending reservation in one database transaction, guarded
by the unique (round, seat) key among live reservations, and only then sold in the seat engine.
If the database says no, nothing changes."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sqlalchemy.ext.asyncio import AsyncConnection

from server.coupons import Coupons
from server.db.database import Database
from server.db.tables import halls, performances, prices, reservation_seats, reservations, rounds, seats
from server.db.types import utcnow
from server.errors import Code, Conflict, InvalidState, NotFound
from server.metrics import Metrics
from server.notify.messages import Booking, SeatLabel
from server.outbox import enqueue
from server.schemas.common import Page, PageQuery
from server.schemas.reservations import ReservationCreate, ReservationOut
from server.seating import Seating
from server.tickets import Tickets, booking_number

log = logging.getLogger(__name__)
LIVE_STATUSES = ("pending", "confirmed", "attended")
EXPIRE_BATCH = 500


class Reservations:
    def __init__(self, db: Database, seating: Seating, coupons: Coupons, tickets: Tickets, *,
                 payment_window_seconds: int, zone: ZoneInfo, metrics: Metrics | None = None):
        self._db = db
        self._metrics = metrics or Metrics()
        self.tickets = tickets
        self._zone = zone
        self._seating = seating
        self._coupons = coupons
        self._window = timedelta(seconds=payment_window_seconds)

    async def create(self, user_id: int, request: ReservationCreate) -> ReservationOut:
        round_id = request.round_id
        seat_ids = await self._seating.checked_seats(round_id, request.seat_ids)
        held = set(await self._seating.holds_of(round_id, user_id, seat_ids))
        if not_held := [s for s in seat_ids if s not in held]:
            raise Conflict("Hold these seats first (or your hold has expired).", code=Code.SEAT_UNAVAILABLE,
                           details={"seat_ids": not_held})
        layout = await self._seating.layout(round_id)
        now = utcnow()
        try:
            async with self._db.begin() as conn:
                price_of = dict((await conn.execute(sa.select(prices.c.grade, prices.c.price).where(
                    prices.c.performance_id == layout.performance_id))).all())
                unpriced = {layout.seats[s].grade for s in seat_ids} - set(price_of)
                if unpriced:
                    raise InvalidState("These seats have no price yet.", 
                                   details={"grades": sorted(unpriced)})
                seat_prices = {s: price_of[layout.seats[s].grade] for s in seat_ids}
                total = sum(seat_prices.values())
                issued_id, discount = None, 0
                if request.coupon_id is not None:
                    issued_id, discount = await self._coupons.use(conn, user_id, request.coupon_id, total)
                order_id = f"tb-{uuid.uuid4().hex}"          # Toss: 6-64 of [A-Za-z0-9_-]
                reservation_id = (await conn.execute(reservations.insert().values(
                    user_id=user_id, round_id=round_id, status="pending", amount=total - discount,
                    discount=discount, order_id=order_id, user_coupon_id=issued_id,
                    expires_at=now + self._window, created_at=now, updated_at=now))).inserted_primary_key[0]
                await conn.execute(reservation_seats.insert(), [
                    {"reservation_id": reservation_id, "seat_id": s, "round_id": round_id, "price": p, "live": True}
                    for s, p in seat_prices.items()])
                await self.announce(conn, reservation_id, "reservation.created")
        except IntegrityError:
            raise await self._already_sold(round_id, seat_ids) from None
        self._metrics.reservation("created")
        await self._seating.sell(round_id, user_id, seat_ids)
        return await self.get(user_id, reservation_id)

    async def _already_sold(self, round_id: int, seat_ids: list[int]) -> Conflict:
        """The database refused: the engine did not know these seats were sold. Teach it, say no."""
        async with self._db.read_own_writes() as conn:
            owners = (await conn.execute(
                sa.select(reservation_seats.c.seat_id, reservations.c.user_id)
                .join(reservations, reservations.c.id == reservation_seats.c.reservation_id)
                .where(reservation_seats.c.round_id == round_id, reservation_seats.c.seat_id.in_(seat_ids),
                       reservation_seats.c.live.is_(True)))).all()
        for seat_id, owner in owners:
            await self._seating.sell(round_id, owner, [seat_id])
        log.warning("round %s: the database refused seats %s the engine thought free", round_id,
                    [s for s, _ in owners])
        return Conflict("Some of these seats are already sold.", code=Code.SEAT_UNAVAILABLE,
                        details={"seat_ids": sorted(s for s, _ in owners)})

    # ---- reads -------------------------------------------------------------------------------
    async def get(self, user_id: int, reservation_id: int) -> ReservationOut:
        page = await self._select(sa.and_(reservations.c.id == reservation_id, reservations.c.user_id == user_id))
        if not page:
            raise NotFound("No such reservation.")
        return page[0]

    async def list_mine(self, user_id: int, query: PageQuery) -> Page[ReservationOut]:
        mine = reservations.c.user_id == user_id
        async with self._db.read_own_writes() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(reservations).where(mine))).scalar_one()
        items = await self._select(mine, limit=query.size, offset=query.offset)
        return Page(items=items, page=query.page, size=query.size, total=total)

    async def _select(self, where, *, limit: int = 1, offset: int = 0) -> list[ReservationOut]:
        async with self._db.read_own_writes() as conn:
            rows = (await conn.execute(sa.select(reservations).where(where)
                                       .order_by(reservations.c.id.desc()).limit(limit).offset(offset))).all()
            ids = [r.id for r in rows]
            seat_rows = (await conn.execute(
                sa.select(reservation_seats.c.reservation_id, reservation_seats.c.seat_id)
                .where(reservation_seats.c.reservation_id.in_(ids))
                .order_by(reservation_seats.c.seat_id))).all() if ids else []
            tickets_of = await self.tickets.of(conn, ids)
        seats_of: dict[int, list[int]] = {}
        for reservation_id, seat_id in seat_rows:
            seats_of.setdefault(reservation_id, []).append(seat_id)
        return [ReservationOut(id=r.id, status=r.status, round_id=r.round_id, seat_ids=seats_of.get(r.id, []),
                               amount=r.amount, discount=r.discount, order_id=r.order_id,
                               expires_at=r.expires_at.astimezone(self._zone),
                               created_at=r.created_at.astimezone(self._zone), booking_number=booking_number(r.id),
                               tickets=tickets_of.get(r.id, [])) for r in rows]

    # ---- endings -------------------------------------------------------------------------------
    async def due_for_expiry(self) -> list[int]:
        """Pending reservations past their payment window, oldest first."""
        async with self._db.read_own_writes() as conn:
            return list((await conn.execute(sa.select(reservations.c.id).where(
                reservations.c.status == "pending", reservations.c.expires_at <= utcnow())
                .order_by(reservations.c.expires_at).limit(EXPIRE_BATCH))).scalars())

    async def end(self, reservation_id: int, status: str, *, from_status: str = "pending",
                  also: Callable[[AsyncConnection], Awaitable[None]] | None = None) -> bool:
        """Move one reservation from `from_status` to canceled or expired in one transaction (with
        `also`, e.g. the refund's record, and the messages it causes), give its coupon back, then free
        its seats. False if it was not in `from_status` (someone else ended it): safe to race."""
        now = utcnow()
        async with self._db.begin() as conn:
            # Locked by its primary key first, as the checkout locks it: the update below may search by
            # status, and locking that index before the row would deadlock against the checkout on MariaDB.
            row = (await conn.execute(sa.select(reservations.c.round_id, reservations.c.user_coupon_id)
                                      .where(reservations.c.id == reservation_id).with_for_update())).first()
            changed = await conn.execute(reservations.update().where(
                reservations.c.id == reservation_id, reservations.c.status == from_status)
                .values(status=status, updated_at=now, user_coupon_id=None))
            if row is None or changed.rowcount != 1:
                return False                 # (the conditional update is what decides, not the read)
            await self._coupons.give_back(conn, row.user_coupon_id)
            seat_ids = (await conn.execute(sa.select(reservation_seats.c.seat_id).where(
                reservation_seats.c.reservation_id == reservation_id))).scalars().all()
            await conn.execute(reservation_seats.update().where(
                reservation_seats.c.reservation_id == reservation_id).values(live=None))
            if also is not None:
                await also(conn)
            await self.announce(conn, reservation_id, f"reservation.{status}")
        self._metrics.reservation(status)
        await self._seating.free(row.round_id, list(seat_ids))
        return True

    # ---- messages --------------------------------------------------------------------------------
    async def booking(self, conn: AsyncConnection, reservation_id: int, **extra) -> Booking:
        """What a reservation's messages (SSE, mail, Slack) say about it."""
        r = (await conn.execute(
            sa.select(reservations.c.id, reservations.c.status, reservations.c.amount, reservations.c.discount,
                      rounds.c.starts_at, performances.c.title, halls.c.name)
            .join(rounds, rounds.c.id == reservations.c.round_id)
            .join(performances, performances.c.id == rounds.c.performance_id)
            .join(halls, halls.c.id == performances.c.hall_id)
            .where(reservations.c.id == reservation_id))).one()
        labels = (await conn.execute(
            sa.select(seats.c.section, seats.c.row, seats.c.number, seats.c.grade)
            .join(reservation_seats, reservation_seats.c.seat_id == seats.c.id)
            .where(reservation_seats.c.reservation_id == reservation_id).order_by(seats.c.id))).all()
        return Booking(reservation_id=r.id, performance_title=r.title, starts_at=r.starts_at.astimezone(self._zone),
                       hall_name=r.name, seats=[SeatLabel(*label) for label in labels], amount=r.amount,
                       discount=r.discount, status=r.status, **extra)

    async def announce(self, conn: AsyncConnection, reservation_id: int, event: str, **extra) -> None:
        """Queue `event` about the reservation in the caller's transaction (the outbox)."""
        user_id = (await conn.execute(sa.select(reservations.c.user_id)
                                      .where(reservations.c.id == reservation_id))).scalar_one()
        await enqueue(conn, event=event, user_id=user_id, payload=await self.booking(conn, reservation_id, **extra))
