"""Seat watch: a user asks to be told (SSE `seat.available`) when certain seats of a round, or any
seat of a grade, become available again.

The notice is queued after the seat map has already changed (the engine published its delta
first), and goes through the outbox like every event: watching gives no head start over people
looking at the map. A watch ends when the round starts, when its user holds the seat, or on DELETE.
Freed seats are many in a rush and watches few, so each instance keeps, per round, which seats and
grades anyone watches (read again after WATCHED_TTL_SECONDS, or at once after a change here): a
release nobody watches costs no database call.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import performances, rounds, seat_watches, seats
from server.db.types import utcnow
from server.errors import Conflict, Code, InvalidRequest, require
from server.kept_reads import KeptReads
from server.notify.messages import SeatLabel
from server.outbox import enqueue
from server.schemas.seating import WatchCreate, WatchOut
from server.seating import Seating

log = logging.getLogger(__name__)
WATCHED_TTL_SECONDS = 1.0


class Watched(NamedTuple):
    """What anyone watches in a round."""
    seats: set[int]
    grades: set[str]


class SeatWatch:
    def __init__(self, db: Database, seating: Seating, *, per_user: int):
        self._db = db
        self._seating = seating
        self._per_user = per_user
        self._watched: KeptReads[int, Watched] = KeptReads(self._read_watched, ttl_seconds=WATCHED_TTL_SECONDS)

    # ---- users ---------------------------------------------------------------------------------
    async def watch(self, user_id: int, round_id: int, body: WatchCreate) -> list[WatchOut]:
        require(bool(body.seat_ids) != (body.grade is not None), "Give seat_ids or a grade (one of them).",
                "seat_ids", "grade")
        layout = await self._seating.layout(round_id)                        # 404 for no such round
        if body.grade is not None and body.grade not in {s.grade for s in layout.seats.values()}:
            raise InvalidRequest("No seat of this round has that grade.", fields=["grade"])
        seat_ids = await self._seating.checked_seats(round_id, body.seat_ids or []) if body.seat_ids else [None]
        async with self._db.begin() as conn:
            await self._seating.lock_round(conn, round_id)
            mine = (await conn.execute(sa.select(seat_watches.c.seat_id, seat_watches.c.grade).where(
                seat_watches.c.user_id == user_id, seat_watches.c.round_id == round_id))).all()
            have = {(row.seat_id, row.grade) for row in mine}
            new = [(seat_id, body.grade) for seat_id in seat_ids if (seat_id, body.grade) not in have]
            if len(have) + len(new) > self._per_user:
                raise Conflict(f"You can watch at most {self._per_user} seats or grades of a show.",
                               code=Code.WATCH_LIMIT_EXCEEDED, details={"limit": self._per_user, "current": len(have)})
            now = utcnow()
            for seat_id, grade in new:
                await conn.execute(seat_watches.insert().values(user_id=user_id, round_id=round_id, seat_id=seat_id,
                                                                grade=grade, created_at=now))
        self._watched.forget(round_id)
        return await self.mine(user_id, round_id)

    async def mine(self, user_id: int, round_id: int) -> list[WatchOut]:
        await self._seating.layout(round_id)
        async with self._db.read_own_writes() as conn:
            rows = (await conn.execute(sa.select(seat_watches).where(
                seat_watches.c.user_id == user_id, seat_watches.c.round_id == round_id)
                .order_by(seat_watches.c.id))).all()
        return [WatchOut(id=r.id, round_id=r.round_id, seat_id=r.seat_id, grade=r.grade) for r in rows]

    async def stop(self, user_id: int, round_id: int) -> None:
        await self._seating.layout(round_id)
        async with self._db.begin() as conn:
            await conn.execute(seat_watches.delete().where(seat_watches.c.user_id == user_id,
                                                           seat_watches.c.round_id == round_id))
        self._watched.forget(round_id)

    # ---- what the seat map tells (Seating's events) ------------------------------------------------
    async def available(self, round_id: int, seat_ids: list[int]) -> None:
        """These seats became available (released, expired, a reservation ended, unblocked)."""
        if not seat_ids or not await self._anyone_watches(round_id, seat_ids):
            return
        try:
            async with self._db.begin() as conn:
                rows = (await conn.execute(
                    sa.select(seat_watches.c.user_id, seats.c.id, seats.c.section, seats.c.row, seats.c.number,
                              seats.c.grade, performances.c.title)
                    .join(seats, sa.or_(seats.c.id == seat_watches.c.seat_id, seats.c.grade == seat_watches.c.grade))
                    .join(rounds, rounds.c.id == seat_watches.c.round_id)
                    .join(performances, performances.c.id == rounds.c.performance_id)
                    .where(seat_watches.c.round_id == round_id, seats.c.id.in_(seat_ids),
                           rounds.c.starts_at > utcnow()))).all()
                freed: dict[int, dict[int, SeatLabel]] = defaultdict(dict)
                for row in rows:
                    freed[row.user_id][row.id] = SeatLabel(row.section, row.row, row.number, row.grade)
                for user_id, mine in sorted(freed.items()):                  # user order: see enqueue
                    # The seats in words too, for the event's message (server/notify/sentences.py).
                    await enqueue(conn, event="seat.available", user_id=user_id, payload={
                        "round_id": round_id, "seat_ids": sorted(mine), "performance_title": rows[0].title,
                        "seats": [mine[seat_id] for seat_id in sorted(mine)]})
        except Exception:
            # The seats are free either way; only the notices are lost.
            log.exception("seat.available notices for round %d could not be queued", round_id)

    async def held(self, round_id: int, user_id: int, seat_ids: list[int]) -> None:
        """The user holds these seats: their watches of them end."""
        if not await self._anyone_watches(round_id, seat_ids, grades=False):
            return
        async with self._db.begin() as conn:
            await conn.execute(seat_watches.delete().where(
                seat_watches.c.user_id == user_id, seat_watches.c.round_id == round_id,
                seat_watches.c.seat_id.in_(seat_ids)))
        self._watched.forget(round_id)

    async def _anyone_watches(self, round_id: int, seat_ids: list[int], *, grades: bool = True) -> bool:
        watched = await self._watched.get(round_id)
        if watched.seats.intersection(seat_ids):
            return True
        if not grades or not watched.grades:
            return False
        layout = await self._seating.layout(round_id)
        return any(layout.seats[s].grade in watched.grades for s in seat_ids if s in layout.seats)

    async def _read_watched(self, round_id: int) -> Watched:
        async with self._db.read_own_writes() as conn:
            rows = (await conn.execute(sa.select(seat_watches.c.seat_id, seat_watches.c.grade).distinct()
                                       .where(seat_watches.c.round_id == round_id))).all()
        return Watched({r.seat_id for r in rows if r.seat_id is not None}, {r.grade for r in rows if r.grade is not None})
