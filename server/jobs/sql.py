"""SQL the jobs build their messages and records with, inside the database: a million JSON payloads
made by MariaDB (or SQLite) cost a fraction of what the same payloads cost made in Python and sent
back over the wire one row at a time.

`booking_payload()` is the SQL twin of `Reservations.booking()`: the same fields, the same JSON as
msgspec writes for a `Booking` (the mail and Slack channels read it back as one). The few
differences between the two databases' JSON and date functions are compiled per dialect here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from server.db.tables import halls, performances, reservation_seats, reservations, rounds, seats


def json_object(**fields: object) -> ColumnElement:
    """JSON_OBJECT / json_object: the same on both databases."""
    pairs = []
    for key, value in fields.items():
        pairs += [sa.literal(key), value if isinstance(value, ColumnElement) else sa.literal(value)]
    return sa.func.json_object(*pairs)


class json_array_agg(FunctionElement):
    """The values of a group as a JSON array, in `order_by` order."""
    inherit_cache = True
    name = "json_array_agg"

    def __init__(self, value: ColumnElement, order_by: ColumnElement):
        super().__init__(value, order_by)


@compiles(json_array_agg, "mysql")
def _mysql_array_agg(element, compiler, **kw) -> str:
    value, order_by = element.clauses
    return f"JSON_ARRAYAGG({compiler.process(value, **kw)} ORDER BY {compiler.process(order_by, **kw)})"


@compiles(json_array_agg, "sqlite")
def _sqlite_array_agg(element, compiler, **kw) -> str:
    # SQLite (before 3.44) has no ORDER BY inside an aggregate: it aggregates in scan order, which
    # for every use here is the order of a primary key that begins with the grouping key.
    value, _ = element.clauses
    return f"json(json_group_array({compiler.process(value, **kw)}))"


class json_object_agg(FunctionElement):
    """The (key, value) pairs of a group as one JSON object."""
    inherit_cache = True
    name = "json_object_agg"


@compiles(json_object_agg, "mysql")
def _mysql_object_agg(element, compiler, **kw) -> str:
    return f"JSON_OBJECTAGG({compiler.process(element.clauses, **kw)})"


@compiles(json_object_agg, "sqlite")
def _sqlite_object_agg(element, compiler, **kw) -> str:
    return f"json(json_group_object({compiler.process(element.clauses, **kw)}))"


class utc_iso(FunctionElement):
    """A UTC time column as RFC 3339 text (`2026-12-24T10:30:00.000000Z`), as msgspec reads it."""
    inherit_cache = True
    name = "utc_iso"
    type = sa.String()


@compiles(utc_iso, "mysql")
def _mysql_utc_iso(element, compiler, **kw) -> str:
    # (the format as a parameter: a literal % would need escaping that depends on the driver's call)
    iso = compiler.process(sa.literal("%Y-%m-%dT%H:%i:%s.%fZ"), **kw)
    return f"DATE_FORMAT({compiler.process(element.clauses, **kw)}, {iso})"


@compiles(utc_iso, "sqlite")
def _sqlite_utc_iso(element, compiler, **kw) -> str:
    # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]'
    return f"(replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || 'Z')"


def local_time_text(moment: datetime, zone: ZoneInfo) -> str:
    """A time as the API writes it: in the server's zone, with its offset (what msgspec makes of it)."""
    return msgspec.json.encode(moment.astimezone(zone)).decode().strip('"')


async def round_start_texts(conn: AsyncConnection, round_ids: Iterable[int], zone: ZoneInfo) -> ColumnElement:
    """`rounds.starts_at` as the API writes it, for these rounds: a CASE over their ids (the time zone
    is Python's business; a chunk of bookings spans a handful of rounds)."""
    starts = dict((await conn.execute(sa.select(rounds.c.id, rounds.c.starts_at)
                                      .where(rounds.c.id.in_(sorted(set(round_ids)))))).all())
    if not starts:
        return sa.null()
    return sa.case({round_id: sa.literal(local_time_text(at, zone)) for round_id, at in starts.items()},
                   value=rounds.c.id)


def booking_payload(starts_at: ColumnElement, *, status: str | None = None) -> ColumnElement:
    """The JSON of `Booking` for the reservation of the row (see `booking_messages`)."""
    seat = json_object(section=seats.c.section, row=seats.c.row, number=seats.c.number, grade=seats.c.grade)
    seat_list = (sa.select(json_array_agg(seat, seats.c.id))
                 .select_from(reservation_seats.join(seats, seats.c.id == reservation_seats.c.seat_id))
                 .where(reservation_seats.c.reservation_id == reservations.c.id).scalar_subquery())
    return json_object(reservation_id=reservations.c.id, performance_title=performances.c.title,
                       starts_at=starts_at, hall_name=halls.c.name, seats=seat_list, amount=reservations.c.amount,
                       discount=reservations.c.discount, refund_amount=sa.null(),
                       status=reservations.c.status if status is None else sa.literal(status))


def booking_messages(*where: ColumnElement, starts_at: ColumnElement, status: str | None = None,
                     marks: tuple[sa.Table, ColumnElement] | None = None) -> sa.Select:
    """(user_id, payload) of the reservations matching `where` (joined with `marks`, a table and its
    join condition, when given), for `enqueue_select`."""
    tables = (reservations.join(rounds, rounds.c.id == reservations.c.round_id)
              .join(performances, performances.c.id == rounds.c.performance_id)
              .join(halls, halls.c.id == performances.c.hall_id))
    if marks is not None:
        tables = tables.join(*marks)
    # The chunk's reservations (a primary key range) must drive the join: MariaDB's planner may
    # otherwise start from a small table — one performance, one hall — and walk every reservation of
    # its rounds for every chunk, a million index entries each time at a million rows.
    return (sa.select(reservations.c.user_id.label("user_id"), booking_payload(starts_at, status=status).label("payload"))
            .select_from(tables).where(*where).prefix_with("STRAIGHT_JOIN", dialect="mysql"))


# Enough for a chunk's ids (TICKETBLUE_JOB_CHUNK_SIZE ≤ 10,000) and their seats, whatever the server's default.
GROUP_CONCAT_BYTES = 16 * 1024 * 1024


async def concat_ids(conn: AsyncConnection, column: sa.Column, *where: ColumnElement, lock: bool = False
                     ) -> list[int]:
    """The ids in `column` of the rows matching `where`, in one row (GROUP_CONCAT) instead of one row
    per id; with `lock`, the rows are locked for the rest of the transaction."""
    if conn.dialect.name == "mysql":
        await conn.execute(sa.text(f"SET SESSION group_concat_max_len = {GROUP_CONCAT_BYTES}"))
    query = sa.select(sa.func.group_concat(column)).where(*where)
    return id_list((await conn.execute(query.with_for_update() if lock else query)).scalar())


def id_list(text: str | bytes | None) -> list[int]:
    """GROUP_CONCAT's text back into ids."""
    if isinstance(text, bytes):
        text = text.decode()
    return [int(i) for i in text.split(",")] if text else []
