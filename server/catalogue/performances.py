"""Performances: what is on, where, when, and at what price per seat grade."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import fetch_page, grouped, lock_or_404, make_page, one_or_404
from server.catalogue.rounds import refuse_if_booked, round_ids_of, rounds_outside
from server.db.database import Database
from server.db.tables import cast, halls, performances, performers, posters, prices, rounds, seats
from server.db.types import utcnow
from server.errors import InvalidRequest, InvalidState, require
from server.schemas.catalogue import (CastMember, PerformanceCreate, PerformanceOut, PerformanceQuery,
                                      PerformanceUpdate)
from server.schemas.common import Page, given_fields
from server.search.backend import PERFORMANCES
from server.search.sync import changed as search_changed
from server.seating import Seating
from server.storage import Storage

_SELECT = sa.select(performances.c.id, performances.c.title, performances.c.description, performances.c.category,
                    performances.c.hall_id, performances.c.starts_on, performances.c.ends_on,
                    performances.c.duration_minutes, posters.c.storage_key).outerjoin(
    posters, posters.c.performance_id == performances.c.id)


async def check_prices(conn: AsyncConnection, hall_id: int, given: dict[str, int]) -> None:
    """A price for every seat grade of the hall, and none for grades it does not have."""
    grades = set((await conn.execute(sa.select(seats.c.grade).where(seats.c.hall_id == hall_id)
                                     .distinct())).scalars())
    missing, unknown = sorted(grades - given.keys()), sorted(given.keys() - grades)
    if missing or unknown:
        raise InvalidRequest("`prices` needs exactly one price per seat grade of the hall.", fields=["prices"],
                             missing_grades=missing, unknown_grades=unknown, hall_grades=sorted(grades))


async def lock_hall(conn: AsyncConnection, hall_id: int) -> None:
    """A hall named in a body: 404 (like an unknown id in the path), with the field named; locked so
    that it cannot be deleted before the performance referring to it is committed."""
    await lock_or_404(conn, halls, hall_id, "hall", fields=["hall_id"])


async def _replace_prices(conn: AsyncConnection, performance_id: int, new_prices: dict[str, int]) -> None:
    await conn.execute(prices.delete().where(prices.c.performance_id == performance_id))
    await conn.execute(prices.insert(), [{"performance_id": performance_id, "grade": grade, "price": price}
                                         for grade, price in new_prices.items()])


class Performances:
    def __init__(self, db: Database, storage: Storage, zone: ZoneInfo, seating: Seating | None):
        """`seating` None: no seat maps to clear when rounds go (the demo loader, which only creates)."""
        self._db = db
        self._storage = storage
        self._zone = zone
        self._seating = seating

    async def _assemble(self, conn: AsyncConnection, rows) -> list[PerformanceOut]:
        """Rows of _SELECT with their prices and cast: one query for each, whatever the number of rows."""
        ids = [row.id for row in rows]
        if not ids:
            return []
        price_rows = grouped(await conn.execute(sa.select(prices).where(prices.c.performance_id.in_(ids))
                                                .order_by(prices.c.price.desc(), prices.c.grade)), "performance_id")
        cast_rows = grouped(await conn.execute(
            sa.select(cast.c.performance_id, performers.c.id, performers.c.name)
            .join(performers, performers.c.id == cast.c.performer_id)
            .where(cast.c.performance_id.in_(ids)).order_by(performers.c.name, performers.c.id)), "performance_id")
        return [PerformanceOut(
            id=row.id, title=row.title, description=row.description, category=row.category, hall_id=row.hall_id,
            starts_on=row.starts_on, ends_on=row.ends_on, duration_minutes=row.duration_minutes,
            prices={p.grade: p.price for p in price_rows.get(row.id, [])},
            poster_url=self._storage.url(row.storage_key) if row.storage_key else None,
            performers=[CastMember(id=c.id, name=c.name) for c in cast_rows.get(row.id, [])]) for row in rows]

    async def _get(self, conn: AsyncConnection, performance_id: int) -> PerformanceOut:
        row = await one_or_404(conn, _SELECT.where(performances.c.id == performance_id), "performance")
        return (await self._assemble(conn, [row]))[0]

    async def create(self, request: PerformanceCreate) -> PerformanceOut:
        """404 (details.fields=["hall_id"]) for an unknown hall; 400 for prices that do not match
        the hall's grades or a run that ends before it starts."""
        require(request.starts_on <= request.ends_on, "`ends_on` is before `starts_on`.", "starts_on", "ends_on")
        async with self._db.begin() as conn:
            await lock_hall(conn, request.hall_id)
            await check_prices(conn, request.hall_id, request.prices)
            result = await conn.execute(performances.insert().values(
                title=request.title, description=request.description, category=request.category,
                hall_id=request.hall_id, starts_on=request.starts_on, ends_on=request.ends_on,
                duration_minutes=request.duration_minutes, created_at=utcnow()))
            performance_id = result.inserted_primary_key[0]
            await _replace_prices(conn, performance_id, request.prices)
            await search_changed(conn, PERFORMANCES, [performance_id])
            return await self._get(conn, performance_id)

    async def list(self, query: PerformanceQuery) -> Page[PerformanceOut]:
        """By first day, then id. ``from``/``to`` keep the performances running on some day of the range."""
        require(not (query.from_ and query.to) or query.from_ <= query.to, "`to` is before `from`.", "from", "to")
        select = _SELECT.order_by(performances.c.starts_on, performances.c.id)
        if query.category:
            select = select.where(performances.c.category == query.category)
        if query.hall_id:
            select = select.where(performances.c.hall_id == query.hall_id)
        if query.from_:
            select = select.where(performances.c.ends_on >= query.from_)
        if query.to:
            select = select.where(performances.c.starts_on <= query.to)
        if query.q:
            select = select.where(performances.c.title.icontains(query.q, autoescape=True))
        async with self._db.read() as conn:
            rows, total = await fetch_page(conn, select, query)
            return make_page(await self._assemble(conn, rows), query, total)

    async def get(self, performance_id: int) -> PerformanceOut:
        async with self._db.read() as conn:
            return await self._get(conn, performance_id)

    async def update(self, performance_id: int, request: PerformanceUpdate) -> PerformanceOut:
        """Partial update; the result is validated as a whole (dates, prices against the hall).

        409 invalid_state when the new run would leave existing rounds outside it
        (details.round_ids), or when the hall changes although rounds exist (their seat maps would).
        """
        changes = given_fields(request)
        new_prices = changes.pop("prices", None)
        async with self._db.begin() as conn:
            current = await one_or_404(conn, sa.select(performances).where(performances.c.id == performance_id)
                                       .with_for_update(), "performance")
            merged = {**current._mapping, **changes}
            require(merged["starts_on"] <= merged["ends_on"], "`ends_on` is before `starts_on`.",
                    *[f for f in ("starts_on", "ends_on") if f in changes])
            hall_changes = merged["hall_id"] != current.hall_id
            if hall_changes:
                await lock_hall(conn, merged["hall_id"])
                has_rounds = (await conn.execute(round_ids_of(performance_id).limit(1))).first()
                if has_rounds:
                    raise InvalidState("The hall cannot change once the performance has rounds.")
            if hall_changes or new_prices is not None:
                if new_prices is None:
                    new_prices = dict((await conn.execute(sa.select(prices.c.grade, prices.c.price).where(
                        prices.c.performance_id == performance_id))).all())
                await check_prices(conn, merged["hall_id"], new_prices)
            if "starts_on" in changes or "ends_on" in changes:
                outside = await rounds_outside(conn, performance_id, merged["starts_on"], merged["ends_on"],
                                               self._zone)
                if outside:
                    raise InvalidState("Rounds would fall outside the new dates; move or delete them first.",
                                   details={"round_ids": outside})
            if changes:
                await conn.execute(performances.update().where(performances.c.id == performance_id)
                                   .values(**changes))
            if new_prices is not None:
                await _replace_prices(conn, performance_id, new_prices)
            if changes:
                await search_changed(conn, PERFORMANCES, [performance_id])
            return await self._get(conn, performance_id)

    async def delete(self, performance_id: int) -> None:
        """Deletes its rounds, cast, prices and poster too. 409 invalid_state while any of its rounds
        has reservations: live ones hold seats, past ones are booking history."""
        try:
            async with self._db.begin() as conn:
                await lock_or_404(conn, performances, performance_id, "performance")
                await refuse_if_booked(conn, round_ids_of(performance_id), what="this performance")
                poster_key = (await conn.execute(sa.select(posters.c.storage_key).where(
                    posters.c.performance_id == performance_id))).scalar()
                round_ids = list((await conn.execute(round_ids_of(performance_id))).scalars())
                for table in (posters, cast, prices, rounds):
                    await conn.execute(table.delete().where(table.c.performance_id == performance_id))
                await conn.execute(performances.delete().where(performances.c.id == performance_id))
                await search_changed(conn, PERFORMANCES, [performance_id])
        except IntegrityError:
            # A reservation arrived between our check and the delete (MariaDB).
            raise InvalidState("Cannot delete this performance: it has reservations.") from None
        if self._seating is not None:
            await self._seating.rounds_deleted(round_ids)
        if poster_key:
            await self._storage.delete_quietly(poster_key)
