"""Reservations: a user's holds become a pending reservation in one database transaction, guarded
by the unique (round, seat) key among live reservations, and only then sold in the seat engine.
If the database says no, nothing changes."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.db.database import Database
from server.db.tables import prices, reservation_seats, reservations
from server.db.types import utcnow
from server.errors import Conflict, InvalidRequest, NotFound
from server.schemas.common import Page, PageQuery
from server.schemas.reservations import ReservationCreate, ReservationOut
from server.seating import Seating

log = logging.getLogger(__name__)
LIVE_STATUSES = ("pending", "confirmed", "attended")
EXPIRE_BATCH = 500


class Reservations:
    def __init__(self, db: Database, seating: Seating, *, payment_window_seconds: int, zone: ZoneInfo):
        self._db = db
        self._zone = zone
        self._seating = seating
        self._window = timedelta(seconds=payment_window_seconds)

    async def create(self, user_id: int, request: ReservationCreate) -> ReservationOut:
        if request.coupon_id is not None:
            raise InvalidRequest("Coupons are not available yet.", fields=["coupon_id"])
        round_id = request.round_id
        seat_ids = await self._seating.checked_seats(round_id, request.seat_ids)
        held = set(await self._seating.holds_of(round_id, user_id, seat_ids))
        if not_held := [s for s in seat_ids if s not in held]:
            raise Conflict("Hold these seats first (or your hold has expired).", code="seat_unavailable",
                           details={"seat_ids": not_held})
        layout = await self._seating.layout(round_id)
        now = utcnow()
        try:
            async with self._db.begin() as conn:
                price_of = dict((await conn.execute(sa.select(prices.c.grade, prices.c.price).where(
                    prices.c.performance_id == layout.performance_id))).all())
                unpriced = {layout.seats[s].grade for s in seat_ids} - set(price_of)
                if unpriced:
                    raise Conflict("These seats have no price yet.", code="invalid_state",
                                   details={"grades": sorted(unpriced)})
                seat_prices = {s: price_of[layout.seats[s].grade] for s in seat_ids}
                amount = sum(seat_prices.values())
                order_id = f"tb-{uuid.uuid4().hex}"
                reservation_id = (await conn.execute(reservations.insert().values(
                    user_id=user_id, round_id=round_id, status="pending", amount=amount, discount=0,
                    order_id=order_id, expires_at=now + self._window, created_at=now, updated_at=now))
                ).inserted_primary_key[0]
                await conn.execute(reservation_seats.insert(), [
                    {"reservation_id": reservation_id, "seat_id": s, "round_id": round_id, "price": p, "live": True}
                    for s, p in seat_prices.items()])
        except IntegrityError:
            raise await self._already_sold(round_id, seat_ids) from None
        await self._seating.engine.sell(round_id, user_id, seat_ids)
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
            await self._seating.engine.sell(round_id, owner, [seat_id])
        log.warning("round %s: the database refused seats %s the engine thought free", round_id,
                    [s for s, _ in owners])
        return Conflict("Some of these seats are already sold.", code="seat_unavailable",
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
        seats_of: dict[int, list[int]] = {}
        for reservation_id, seat_id in seat_rows:
            seats_of.setdefault(reservation_id, []).append(seat_id)
        return [ReservationOut(id=r.id, status=r.status, round_id=r.round_id, seat_ids=seats_of.get(r.id, []),
                               amount=r.amount, discount=r.discount, order_id=r.order_id,
                               expires_at=r.expires_at.astimezone(self._zone),
                               created_at=r.created_at.astimezone(self._zone)) for r in rows]

    # ---- endings -------------------------------------------------------------------------------
    async def cancel(self, user_id: int, reservation_id: int) -> ReservationOut:
        current = await self.get(user_id, reservation_id)
        if current.status != "pending":
            raise Conflict(f"A {current.status} reservation cannot be canceled here.", code="invalid_state",
                           details={"status": current.status})
        if not await self._end(reservation_id, "canceled"):
            raise Conflict("The reservation changed meanwhile; look at it again.", code="invalid_state")
        return await self.get(user_id, reservation_id)

    async def expire_due(self) -> int:
        """Pending reservations past their payment window: expired, seats available again.
        Safe on every instance at once: each reservation ends exactly once."""
        async with self._db.read_own_writes() as conn:
            due = (await conn.execute(sa.select(reservations.c.id).where(
                reservations.c.status == "pending", reservations.c.expires_at <= utcnow())
                .order_by(reservations.c.expires_at).limit(EXPIRE_BATCH))).scalars().all()
        ended = 0
        for reservation_id in due:
            ended += await self._end(reservation_id, "expired")
        return ended

    async def _end(self, reservation_id: int, status: str, *, from_status: str = "pending") -> bool:
        """Move one reservation out of `from_status` and free its seats; False if someone else did."""
        now = utcnow()
        async with self._db.begin() as conn:
            changed = await conn.execute(reservations.update().where(
                reservations.c.id == reservation_id, reservations.c.status == from_status)
                .values(status=status, updated_at=now))
            if changed.rowcount != 1:
                return False
            round_id = (await conn.execute(sa.select(reservations.c.round_id)
                                           .where(reservations.c.id == reservation_id))).scalar_one()
            seat_ids = (await conn.execute(sa.select(reservation_seats.c.seat_id).where(
                reservation_seats.c.reservation_id == reservation_id))).scalars().all()
            await conn.execute(reservation_seats.update().where(
                reservation_seats.c.reservation_id == reservation_id).values(live=None))
        await self._seating.engine.free(round_id, list(seat_ids))
        return True
