"""Tickets: one per seat of a paid reservation, each with a code the door checks in once.

A code is `<ticket id>.<random>.<signature>`: the random part makes it unguessable, the signature
(HMAC of the rest with the server's secret) lets a forged or mistyped code be refused before the
database is asked. Tickets are made in the transaction that confirms the payment, so a paid booking
always has them; the first check-in of a booking makes it `attended`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

import segno
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.database import Database
from server.db.tables import halls, performances, reservation_seats, reservations, rounds, seats, tickets, users
from server.db.types import utcnow
from server.errors import Code, Conflict, NotFound
from server.schemas.reservations import CheckInOut, TicketOut

VALID = ("confirmed", "attended")


def booking_number(reservation_id: int) -> str:
    """What people read out and type: short, and the same as the reservation's id."""
    return f"TB-{reservation_id:06d}"


def qr_image(code: str, kind: Literal["svg", "png"]) -> bytes:
    """The QR code carrying a ticket's code: SVG for the pages, PNG for mail (which many mail readers
    cannot draw as SVG). A document of its own (with the SVG namespace, unlike svg_inline): browsers
    draw it as an image."""
    out = io.BytesIO()
    options = {"xmldecl": False} if kind == "svg" else {}
    segno.make(code, error="m").save(out, kind=kind, scale=8 if kind == "svg" else 6, border=4, **options)
    return out.getvalue()


@dataclass(frozen=True)
class PrintedTicket:
    """A ticket as the confirmation mail shows it."""
    code: str
    section: str
    row: int
    number: int
    grade: str
    price: int


@dataclass
class TicketSheet:
    """What a booking's tickets show that its messages' payload does not carry (the codes stay out of
    the outbox: they are read when the mail is written)."""
    hall_address: str = ""
    tickets: list[PrintedTicket] = field(default_factory=list)


async def ticket_sheets(conn: AsyncConnection, reservation_ids: set[int]) -> dict[int, TicketSheet]:
    """The tickets of these reservations (none for one that is no longer paid), by reservation."""
    sheets = {reservation_id: TicketSheet() for reservation_id in reservation_ids}
    if not reservation_ids:
        return sheets
    rows = (await conn.execute(
        sa.select(tickets.c.reservation_id, tickets.c.code, seats.c.section, seats.c.row, seats.c.number,
                  seats.c.grade, reservation_seats.c.price, halls.c.address)
        .join(seats, seats.c.id == tickets.c.seat_id)
        .join(reservation_seats, sa.and_(reservation_seats.c.reservation_id == tickets.c.reservation_id,
                                         reservation_seats.c.seat_id == tickets.c.seat_id))
        .join(reservations, reservations.c.id == tickets.c.reservation_id)
        .join(rounds, rounds.c.id == reservations.c.round_id)
        .join(performances, performances.c.id == rounds.c.performance_id)
        .join(halls, halls.c.id == performances.c.hall_id)
        .where(tickets.c.reservation_id.in_(reservation_ids), reservations.c.status.in_(VALID))
        .order_by(tickets.c.reservation_id, tickets.c.seat_id))).all()
    for row in rows:
        sheet = sheets[row.reservation_id]
        sheet.hall_address = row.address
        sheet.tickets.append(PrintedTicket(row.code, row.section, row.row, row.number, row.grade, row.price))
    return sheets


class Tickets:
    def __init__(self, db: Database, zone: ZoneInfo, *, secret: str):
        self._db = db
        self._zone = zone
        self._key = hashlib.sha256(b"ticket-codes:" + secret.encode()).digest()

    def _signature(self, body: str) -> str:
        digest = hmac.digest(self._key, body.encode(), "sha256")[:10]
        return base64.b32encode(digest).decode().rstrip("=")

    def _signed(self, ticket_id: int) -> str:
        body = f"{ticket_id}.{base64.b32encode(secrets.token_bytes(10)).decode().rstrip('=')}"
        return f"{body}.{self._signature(body)}"

    def _ticket_id(self, code: str) -> int | None:
        """The ticket a code names, if its signature holds."""
        body, _, signature = code.strip().upper().rpartition(".")
        ticket_id = body.partition(".")[0]
        if not ticket_id.isdigit() or not hmac.compare_digest(signature, self._signature(body)):
            return None
        return int(ticket_id)

    async def issue(self, conn: AsyncConnection, reservation_id: int) -> None:
        """In the transaction that confirms the reservation: a ticket per seat (once)."""
        if (await conn.execute(sa.select(tickets.c.id).where(tickets.c.reservation_id == reservation_id)
                               .limit(1))).first() is not None:
            return
        seat_ids = (await conn.execute(sa.select(reservation_seats.c.seat_id).where(
            reservation_seats.c.reservation_id == reservation_id).order_by(reservation_seats.c.seat_id))).scalars()
        now = utcnow()
        for seat_id in seat_ids:
            # (the id is in the code: insert, then sign with it)
            placeholder = f"new.{secrets.token_hex(16)}"
            ticket_id = (await conn.execute(tickets.insert().values(
                reservation_id=reservation_id, seat_id=seat_id, code=placeholder, created_at=now))).inserted_primary_key[0]
            await conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(code=self._signed(ticket_id)))

    async def of(self, conn: AsyncConnection, reservation_ids: list[int]) -> dict[int, list[TicketOut]]:
        """The tickets of these reservations, by reservation."""
        if not reservation_ids:
            return {}
        rows = (await conn.execute(sa.select(tickets).where(tickets.c.reservation_id.in_(reservation_ids))
                                   .order_by(tickets.c.seat_id))).all()
        out: dict[int, list[TicketOut]] = {}
        for row in rows:
            out.setdefault(row.reservation_id, []).append(TicketOut(
                id=row.id, seat_id=row.seat_id, code=row.code, qr_url=f"/api/tickets/{row.id}/qr.svg",
                checked_in_at=row.checked_in_at and row.checked_in_at.astimezone(self._zone)))
        return out

    async def qr_svg(self, user_id: int, ticket_id: int) -> bytes:
        """The ticket's QR code, for its holder (404 for anyone else)."""
        async with self._db.read_own_writes() as conn:
            code = (await conn.execute(sa.select(tickets.c.code).join(
                reservations, reservations.c.id == tickets.c.reservation_id).where(
                tickets.c.id == ticket_id, reservations.c.user_id == user_id))).scalar()
        if code is None:
            raise NotFound("No such ticket.")
        return qr_image(code, "svg")

    async def check_in(self, code: str, staff_id: int) -> CheckInOut:
        """Once per ticket: a second scan is 409 already_checked_in (with the first's time), a ticket of
        a canceled booking 409 ticket_canceled, a code that is not ours 404."""
        ticket_id = self._ticket_id(code)
        if ticket_id is None:
            raise NotFound("No such ticket.")
        async with self._db.begin() as conn:
            row = (await conn.execute(
                sa.select(tickets.c.id, tickets.c.code, tickets.c.checked_in_at, tickets.c.reservation_id,
                          reservations.c.status, users.c.name, seats.c.section, seats.c.row, seats.c.number,
                          seats.c.grade, performances.c.title, rounds.c.starts_at)
                .join(reservations, reservations.c.id == tickets.c.reservation_id)
                .join(users, users.c.id == reservations.c.user_id)
                .join(seats, seats.c.id == tickets.c.seat_id)
                .join(rounds, rounds.c.id == reservations.c.round_id)
                .join(performances, performances.c.id == rounds.c.performance_id)
                .where(tickets.c.id == ticket_id).with_for_update(of=tickets))).first()
            if row is None or not hmac.compare_digest(row.code, code.strip().upper()):
                raise NotFound("No such ticket.")
            if row.status not in VALID:
                raise Conflict("This ticket's booking was canceled.", code=Code.TICKET_CANCELED,
                               details={"status": row.status})
            if row.checked_in_at is not None:
                first = row.checked_in_at.astimezone(self._zone)
                raise Conflict(f"This ticket was already checked in at {first:%H:%M:%S}.",
                               code=Code.ALREADY_CHECKED_IN, details={"checked_in_at": first.isoformat()})
            now = utcnow()
            # (the conditional update decides, should two scans pass the read at once on SQLite)
            changed = await conn.execute(tickets.update().where(tickets.c.id == ticket_id,
                                                                tickets.c.checked_in_at.is_(None))
                                         .values(checked_in_at=now, checked_in_by=staff_id))
            if changed.rowcount != 1:
                raise Conflict("This ticket was already checked in.", code=Code.ALREADY_CHECKED_IN)
            await conn.execute(reservations.update().where(reservations.c.id == row.reservation_id,
                                                           reservations.c.status == "confirmed")
                               .values(status="attended", updated_at=now))
        return CheckInOut(ticket_id=row.id, booking_number=booking_number(row.reservation_id),
                          performance_title=row.title, starts_at=row.starts_at.astimezone(self._zone),
                          section=row.section, row=row.row, number=row.number, grade=row.grade,
                          holder_name=row.name, checked_in_at=now.astimezone(self._zone))
