"""Halls and their seat maps: generated from sections or given seat by seat, stored in one bulk insert."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import fetch_page, lock_or_404, make_page, one_or_404, patch_row
from server.db.database import Database
from server.db.tables import halls, performances, seats
from server.db.types import utcnow
from server.errors import InvalidRequest, InvalidState, require
from server.schemas.catalogue import (MAX_SEATS_PER_HALL, HallCreate, HallDetail, HallOut, HallUpdate, SeatOut,
                                      SectionSpec, SeatSpec)
from server.schemas.common import Page, PageQuery
from server.search.backend import HALLS
from server.search.sync import changed as search_changed

SECTION_GAP_ROWS = 2        # empty rows between stacked sections on the generated map
SHOWN_DUPLICATES = 10


def lay_out(sections: list[SectionSpec]) -> list[dict]:
    """Seats of the sections, stacked top to bottom, each section centred on the widest one.
    x is the seat's position across, y down; both in seat widths."""
    widest = max(s.seats_per_row for s in sections)
    out, top = [], 0
    for section in sections:
        indent = (widest - section.seats_per_row) / 2
        for row in range(1, section.rows + 1):
            out += [dict(section=section.name, row=row, number=number, x=indent + number, y=top + row,
                         grade=section.grade) for number in range(1, section.seats_per_row + 1)]
        top += section.rows + SECTION_GAP_ROWS
    return out


def seats_from_request(request: HallCreate) -> list[dict]:
    require((request.sections is None) != (request.seats is None),
            "Give either `sections` (seats are generated) or `seats` (an explicit seat map), not both.",
            "sections", "seats")
    if request.sections is not None:
        names = Counter(s.name.casefold() for s in request.sections)
        require(max(names.values()) == 1, "Section names must be unique.", "sections")
        total = sum(s.rows * s.seats_per_row for s in request.sections)
        require(total <= MAX_SEATS_PER_HALL, f"{total} seats; a hall has at most {MAX_SEATS_PER_HALL}.",
                "sections")
        return lay_out(request.sections)
    _reject_duplicates(request.seats)
    return [dict(section=s.section, row=s.row, number=s.number, x=s.x, y=s.y, grade=s.grade)
            for s in request.seats]


def _reject_duplicates(seat_specs: list[SeatSpec]) -> None:
    # casefold: MariaDB compares section names without case, so "A" and "a" are one section there.
    seen: set[tuple[str, int, int]] = set()
    duplicates = []
    for seat in seat_specs:
        key = (seat.section.casefold(), seat.row, seat.number)
        if key in seen:
            duplicates.append({"section": seat.section, "row": seat.row, "number": seat.number})
        seen.add(key)
    if duplicates:
        raise InvalidRequest("Two seats have the same section, row and number.", fields=["seats"],
                             duplicates=duplicates[:SHOWN_DUPLICATES])


def _capacity() -> sa.Subquery:
    return sa.select(seats.c.hall_id, sa.func.count().label("capacity")).group_by(seats.c.hall_id).subquery()


def _hall_query() -> sa.Select:
    capacity = _capacity()
    return (sa.select(halls.c.id, halls.c.name, halls.c.address,
                      sa.func.coalesce(capacity.c.capacity, 0).label("capacity"))
            .outerjoin(capacity, capacity.c.hall_id == halls.c.id))


async def hall_detail(conn: AsyncConnection, hall_id: int) -> HallDetail:
    hall = await one_or_404(conn, _hall_query().where(halls.c.id == hall_id), "hall")
    rows = await conn.execute(sa.select(seats.c.id, seats.c.section, seats.c.row, seats.c.number, seats.c.x,
                                        seats.c.y, seats.c.grade)
                              .where(seats.c.hall_id == hall_id).order_by(seats.c.id))
    return HallDetail(id=hall.id, name=hall.name, address=hall.address, capacity=hall.capacity,
                      seats=[SeatOut(*row) for row in rows])


class Halls:
    def __init__(self, db: Database):
        self._db = db

    async def create(self, request: HallCreate) -> HallDetail:
        """400 when the seats are not exactly one of sections/seats, repeat a seat, or exceed the limit."""
        seat_rows = seats_from_request(request)
        try:
            async with self._db.begin() as conn:
                result = await conn.execute(halls.insert().values(
                    name=request.name, address=request.address, created_at=utcnow()))
                hall_id = result.inserted_primary_key[0]
                await conn.execute(seats.insert(), [{**seat, "hall_id": hall_id} for seat in seat_rows])
                await search_changed(conn, HALLS, [hall_id])
                return await hall_detail(conn, hall_id)
        except IntegrityError:
            # Names equal to the database but not to casefold() (MariaDB also ignores accents).
            raise InvalidRequest("Two seats have the same section, row and number.", fields=["seats"]) from None

    async def list(self, page: PageQuery) -> Page[HallOut]:
        async with self._db.read() as conn:
            rows, total = await fetch_page(conn, _hall_query().order_by(halls.c.id), page)
        return make_page([HallOut(*row) for row in rows], page, total)

    async def get(self, hall_id: int) -> HallDetail:
        async with self._db.read() as conn:
            return await hall_detail(conn, hall_id)

    async def update(self, hall_id: int, request: HallUpdate) -> HallDetail:
        """Name and address only: the seat map is fixed once performances may be sold on it."""
        async with self._db.begin() as conn:
            await patch_row(conn, halls, hall_id, "hall", request, HALLS)
            return await hall_detail(conn, hall_id)

    async def delete(self, hall_id: int) -> None:
        """409 invalid_state while a performance uses the hall."""
        try:
            async with self._db.begin() as conn:
                await lock_or_404(conn, halls, hall_id, "hall")
                used_by = (await conn.execute(sa.select(performances.c.id).where(
                    performances.c.hall_id == hall_id).order_by(performances.c.id))).scalars().all()
                if used_by:
                    raise InvalidState("Performances use this hall; delete them first.", 
                                   details={"performance_ids": list(used_by)})
                await conn.execute(seats.delete().where(seats.c.hall_id == hall_id))
                await conn.execute(halls.delete().where(halls.c.id == hall_id))
                await search_changed(conn, HALLS, [hall_id])
        except IntegrityError:
            # A performance was created on the hall after our check (possible on MariaDB only).
            raise InvalidState("Performances use this hall; delete them first.") from None
