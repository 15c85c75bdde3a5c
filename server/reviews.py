"""Reviews: only by someone who went (their own confirmed or attended reservation of that
performance), once per reservation — the unique key on reservation_id says "once", not a read."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.catalogue.common import fetch_page, make_page
from server.db.database import Database
from server.db.tables import performances, reservations, reviews, rounds, users
from server.db.types import utcnow
from server.errors import Code, Conflict, InvalidState, NotFound
from server.schemas.common import Page, PageQuery
from server.schemas.reviews import ReviewCreate, ReviewOut

_COLUMNS = (reviews.c.id, reviews.c.performance_id, reviews.c.reservation_id, users.c.name, reviews.c.rating,
            reviews.c.content, reviews.c.created_at)


class Reviews:
    def __init__(self, db: Database, zone: ZoneInfo):
        self._db = db
        self._zone = zone

    def _out(self, row) -> ReviewOut:
        return ReviewOut(id=row.id, performance_id=row.performance_id, reservation_id=row.reservation_id,
                         user_name=row.name, rating=row.rating, content=row.content,
                         created_at=row.created_at.astimezone(self._zone))

    async def create(self, user_id: int, performance_id: int, request: ReviewCreate) -> ReviewOut:
        try:
            async with self._db.begin() as conn:
                found = (await conn.execute(
                    sa.select(reservations.c.status, rounds.c.performance_id)
                    .join(rounds, rounds.c.id == reservations.c.round_id)
                    .where(reservations.c.id == request.reservation_id, reservations.c.user_id == user_id))).first()
                if found is None or found.performance_id != performance_id:
                    if (await conn.execute(sa.select(performances.c.id)
                                           .where(performances.c.id == performance_id))).first() is None:
                        raise NotFound("No such performance.")
                    raise InvalidState("Review a performance with your own reservation of it.", 
                                   details={"reason": "not_your_reservation"})
                if found.status not in ("confirmed", "attended"):
                    raise InvalidState(f"A {found.status} reservation cannot be reviewed.", 
                                   details={"status": found.status})
                review_id = (await conn.execute(reviews.insert().values(
                    performance_id=performance_id, reservation_id=request.reservation_id, user_id=user_id,
                    rating=request.rating, content=request.content, created_at=utcnow()))).inserted_primary_key[0]
                row = (await conn.execute(sa.select(*_COLUMNS).join(users, users.c.id == reviews.c.user_id)
                                          .where(reviews.c.id == review_id))).one()
        except IntegrityError:
            raise Conflict("This reservation has already been reviewed.", code=Code.ALREADY_REVIEWED) from None
        return self._out(row)

    async def list(self, performance_id: int, query: PageQuery) -> Page[ReviewOut]:
        select = (sa.select(*_COLUMNS).join(users, users.c.id == reviews.c.user_id)
                  .where(reviews.c.performance_id == performance_id).order_by(reviews.c.id.desc()))
        async with self._db.read() as conn:
            if (await conn.execute(sa.select(performances.c.id)
                                   .where(performances.c.id == performance_id))).first() is None:
                raise NotFound("No such performance.")
            rows, total = await fetch_page(conn, select, query)
        return make_page([self._out(r) for r in rows], query, total)
