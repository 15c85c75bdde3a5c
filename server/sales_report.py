"""The live on-sale figures of a round, for the box office: its seats by grade (sold, held, available,
blocked), what its sales brought in and gave back, and its sales minute by minute over the last hour.

Sold seats and money come from the database (a seat is sold once its booking is paid); holds and
blocks from the seat engine, which is their truth. A seat the engine still calls sold that the
database no longer does (a refund the engine has not heard of yet) counts as held, off sale but not
sold, until it catches up.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from seatmap.model import BLOCKED
from server.db.database import Database
from server.db.tables import payments, prices, reservation_seats, reservations
from server.db.types import utcnow
from server.schemas.sales_report import GradeSales, MinuteSales, SalesOut
from server.seating import SOLD_STATUSES, Seating

MINUTES = 60
KEPT = ("approved", "canceling")      # payments whose money is in (a refund under way has not given it back)
REFUNDED = "canceled"


class SalesReport:
    def __init__(self, db: Database, seating: Seating, zone: ZoneInfo):
        self._db = db
        self._seating = seating
        self._zone = zone

    async def of_round(self, round_id: int) -> SalesOut:
        layout = await self._seating.layout(round_id)           # 404 for an unknown round
        snapshot = await self._seating.snapshot(round_id)
        now = utcnow()
        first_minute = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
        paid_of_round = sa.and_(payments.c.reservation_id == reservations.c.id, reservations.c.round_id == round_id)
        async with self._db.read() as conn:
            price_of = dict((await conn.execute(sa.select(prices.c.grade, prices.c.price)
                                                .where(prices.c.performance_id == layout.performance_id))).all())
            sold = set((await conn.execute(
                sa.select(reservation_seats.c.seat_id)
                .join(reservations, reservations.c.id == reservation_seats.c.reservation_id)
                .where(reservation_seats.c.round_id == round_id, reservation_seats.c.live.is_(True),
                       reservations.c.status.in_(SOLD_STATUSES)))).scalars())
            revenue, refunds = (await conn.execute(sa.select(
                sa.func.coalesce(sa.func.sum(sa.case((payments.c.status.in_(KEPT), payments.c.amount))), 0),
                sa.func.coalesce(sa.func.sum(sa.case(
                    (sa.and_(payments.c.status == REFUNDED, payments.c.approved_at.is_not(None)), payments.c.amount))),
                    0))
                .where(paid_of_round))).one()
            seats_of = (sa.select(sa.func.count()).where(reservation_seats.c.reservation_id == reservations.c.id)
                        .correlate(reservations).scalar_subquery())
            recent = (await conn.execute(
                sa.select(payments.c.approved_at, payments.c.amount, seats_of.label("seats"))
                .where(paid_of_round, payments.c.status.in_(KEPT), payments.c.approved_at >= first_minute))).all()
        return SalesOut(round_id=round_id, by_grade=self._by_grade(layout, snapshot, sold, price_of),
                        sold_seats=len(sold), revenue=int(revenue), refunds=int(refunds),
                        per_minute=self._per_minute(first_minute, recent), updated_at=now.astimezone(self._zone))

    @staticmethod
    def _by_grade(layout, snapshot, sold: set[int], price_of: dict[str, int]) -> list[GradeSales]:
        """Each grade's seats as sold (paid), blocked, held (by someone, or booked and awaiting payment)
        or available; grades in the order of the hall's seats."""
        grades: dict[str, GradeSales] = {}
        for seat in layout.seats.values():
            g = grades.get(seat.grade)
            if g is None:
                g = grades[seat.grade] = GradeSales(grade=seat.grade, price=price_of.get(seat.grade, 0), seats=0,
                                                    sold=0, held=0, available=0, blocked=0)
            g.seats += 1
            state = snapshot.seats.get(seat.id)
            if seat.id in sold:
                g.sold += 1
            elif state is None:
                g.available += 1
            elif state.state == BLOCKED:
                g.blocked += 1
            else:                           # held, pending, or sold in the engine but refunded since
                g.held += 1
        return list(grades.values())

    def _per_minute(self, first_minute: datetime, recent) -> list[MinuteSales]:
        """The last hour minute by minute, every minute there even when nothing was sold in it."""
        seats, revenue = Counter(), Counter()
        for row in recent:
            approved = row.approved_at.replace(second=0, microsecond=0)
            seats[approved] += row.seats
            revenue[approved] += row.amount
        minutes = [first_minute + timedelta(minutes=i) for i in range(MINUTES)]
        return [MinuteSales(minute=m.astimezone(self._zone), seats=seats[m], revenue=revenue[m]) for m in minutes]
