"""Money for reservations: confirming a payment, refunding a paid reservation, and settling what a
crash or a lost answer left open, through the payment provider (Toss Payments or its sandbox).

Every call to the provider is prepared in the database first — a `payments` row with the
Idempotency-Key the call will use — so that after a crash the call can be repeated with the same key
(the provider answers it once) or the payment read back by order id. Hence money taken never
stays without a booking (the next confirm, or the expiry pass, finds the approval and confirms), and
a booking never stays without money (a reservation is confirmed only after the approval).
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.database import Database
from server.db.tables import payments, reservations
from server.db.types import utcnow
from server.errors import ApiError, Conflict, NotFound
from server.outbox import enqueue
from server.payments.toss import (PaymentAlreadyProcessed, PaymentError, PaymentNotFound, PaymentProviderError,
                                  PaymentStatus, TossPayment, TossPayments)
from server.reservations import Reservations
from server.schemas.payments import PaymentConfirm, PaymentOut
from server.schemas.reservations import ReservationOut
from server.seating import Seating

log = logging.getLogger(__name__)
REFUND_REASON = "Canceled by the customer"
FREE = "free"                       # the method of a fully discounted reservation: no provider call


class Checkout:
    def __init__(self, db: Database, toss: TossPayments, reservations: Reservations, seating: Seating,
                 zone: ZoneInfo):
        self._db = db
        self._toss = toss
        self._reservations = reservations
        self._seating = seating
        self._zone = zone

    # ---- confirm -------------------------------------------------------------------------------
    async def confirm(self, user_id: int, request: PaymentConfirm) -> PaymentOut:
        async with self._db.read_own_writes() as conn:
            r = (await conn.execute(sa.select(reservations).where(
                reservations.c.order_id == request.order_id, reservations.c.user_id == user_id))).first()
        if r is None:
            raise NotFound("No reservation of yours has this order id.")
        if r.status == "confirmed":
            return await self._already_confirmed(r, request.payment_key)
        if r.status != "pending":
            raise Conflict(f"This reservation is {r.status}; it can no longer be paid.", code="invalid_state",
                           details={"status": r.status})
        if request.amount != r.amount:
            raise ApiError("The amount is not what this reservation costs; nothing was charged.",
                           code="amount_mismatch", status=400, details={"fields": ["amount"], "expected": r.amount})
        if r.amount == 0:
            await self._approve(r.id, None, method=FREE)
            return await self._out(r.id)
        payment = await self._prepare(r, request.payment_key)
        try:
            paid = await self._toss.confirm(payment_key=request.payment_key, order_id=r.order_id, amount=r.amount,
                                            idempotency_key=payment.confirm_idempotency_key)
        except PaymentAlreadyProcessed:
            paid = await self._toss.get(request.payment_key)   # approved before (a lost answer): check it
            if not _is_payment_for(paid, r):
                raise
        except PaymentProviderError as exc:
            if not exc.outcome_unknown:
                await self._mark(payment.id, "failed")
            raise
        except PaymentError:
            await self._mark(payment.id, "failed")
            raise
        if not _is_payment_for(paid, r):
            raise PaymentProviderError("The provider approved something other than this order.",
                                       provider_code=paid.status)
        await self._approve(r.id, payment.id, method=paid.method, toss=paid)
        return await self._out(r.id)

    async def _prepare(self, r, payment_key: str):
        """The payments row for this attempt, written before the provider is called (its key is
        reused by every retry of the same payment)."""
        async with self._db.begin() as conn:
            found = (await conn.execute(sa.select(payments).where(payments.c.payment_key == payment_key))).first()
            if found is not None:
                if found.reservation_id != r.id:
                    raise Conflict("This payment belongs to another order.", code="invalid_state")
                return found
            await conn.execute(payments.insert().values(
                reservation_id=r.id, payment_key=payment_key, order_id=r.order_id, amount=r.amount,
                status="confirming", confirm_idempotency_key=TossPayments.new_idempotency_key(),
                created_at=utcnow()))
            return (await conn.execute(sa.select(payments).where(payments.c.payment_key == payment_key))).one()

    async def _approve(self, reservation_id: int, payment_id: int | None, *, method: str | None,
                       toss: TossPayment | None = None) -> None:
        """The provider approved (or nothing was due): the reservation is confirmed, the seats sold."""
        now = utcnow()
        async with self._db.begin() as conn:
            changed = await conn.execute(reservations.update().where(
                reservations.c.id == reservation_id, reservations.c.status == "pending")
                .values(status="confirmed", updated_at=now))
            if payment_id is not None:
                await conn.execute(payments.update().where(payments.c.id == payment_id).values(
                    status="approved", method=method, approved_at=toss.approved_at if toss else now))
            if changed.rowcount == 1:
                await self._reservations.announce(conn, reservation_id, "reservation.confirmed")
                await self._announce_payment(conn, reservation_id, "payment.confirmed")
        if changed.rowcount != 1:
            # Paid, but the reservation ended meanwhile (it cannot: expiry settles open payments
            # first — but if it ever does, the customer gets the money back, not a ghost booking).
            log.error("reservation %s was paid but is no longer pending: refunding", reservation_id)
            await self._refund_payment(payment_id)
            raise Conflict("This reservation ended before the payment completed; the payment was refunded.",
                           code="invalid_state")
        round_id, seat_ids = await self._seats_of(reservation_id)
        await self._seating.engine.settle(round_id, seat_ids)

    async def _already_confirmed(self, r, payment_key: str) -> PaymentOut:
        """Confirm is idempotent: the same payment again answers as the first time did."""
        out = await self._out(r.id)
        if out.payment_key != payment_key and out.method != FREE:
            raise Conflict("This reservation is already paid with another payment.", code="invalid_state")
        return out

    # ---- cancel ------------------------------------------------------------------------------------
    async def cancel(self, user_id: int, reservation_id: int) -> ReservationOut:
        """Cancel one of your reservations: a pending one at once; a paid one is refunded through the
        provider first, and only then are its seats freed."""
        current = await self._reservations.get(user_id, reservation_id)
        if current.status == "pending" and await self._settle_open_payments(reservation_id):
            current = await self._reservations.get(user_id, reservation_id)   # it had been paid after all
        if current.status == "pending":
            if not await self._reservations.end(reservation_id, "canceled"):
                raise Conflict("The reservation changed meanwhile; look at it again.", code="invalid_state")
        elif current.status == "confirmed":
            await self._refund(reservation_id)
        else:
            raise Conflict(f"A {current.status} reservation cannot be canceled.", code="invalid_state",
                           details={"status": current.status})
        return await self._reservations.get(user_id, reservation_id)

    async def _refund(self, reservation_id: int) -> None:
        async with self._db.read_own_writes() as conn:
            payment = (await conn.execute(sa.select(payments).where(
                payments.c.reservation_id == reservation_id,
                payments.c.status.in_(("approved", "canceling"))))).first()
        refunded = await self._refund_payment(payment.id) if payment is not None else 0

        async def record(conn: AsyncConnection) -> None:
            if payment is not None:
                await self._announce_payment(conn, reservation_id, "payment.canceled", refund_amount=refunded)
        if not await self._reservations.end(reservation_id, "canceled", from_status="confirmed", also=record):
            raise Conflict("The reservation changed meanwhile; look at it again.", code="invalid_state")

    async def _refund_payment(self, payment_id: int | None) -> int:
        """Refund a payment in full at the provider (idempotently); returns the amount refunded."""
        if payment_id is None:
            return 0
        async with self._db.begin() as conn:
            p = (await conn.execute(sa.select(payments).where(payments.c.id == payment_id))).one()
            key = p.cancel_idempotency_key or TossPayments.new_idempotency_key()
            await conn.execute(payments.update().where(payments.c.id == payment_id)
                               .values(status="canceling", cancel_idempotency_key=key))
        try:
            await self._toss.cancel(p.payment_key, reason=REFUND_REASON, idempotency_key=key)
        except PaymentAlreadyProcessed:
            pass                                   # ALREADY_CANCELED_PAYMENT: refunded before
        async with self._db.begin() as conn:
            await conn.execute(payments.update().where(payments.c.id == payment_id)
                               .values(status="canceled", canceled_at=utcnow()))
        return p.amount

    # ---- expiry and reconciliation ----------------------------------------------------------------
    async def expire_due(self) -> int:
        """Pending reservations past their window expire and their seats come back — but one with a
        payment in flight is first settled with the provider: if the money was taken, it is confirmed.
        Safe on every instance at once."""
        ended = 0
        for reservation_id in await self._reservations.due_for_expiry():
            try:
                if await self._settle_open_payments(reservation_id):
                    continue
            except ApiError as exc:
                log.warning("reservation %s: payment not settled (%s); expiry retries later", reservation_id, exc)
                continue
            ended += await self._reservations.end(reservation_id, "expired")
        return ended

    async def _settle_open_payments(self, reservation_id: int) -> bool:
        """Ask the provider about confirm calls whose answer we never recorded. True if one was in
        fact approved (the reservation is now confirmed)."""
        async with self._db.read_own_writes() as conn:
            open_ = (await conn.execute(sa.select(payments).where(
                payments.c.reservation_id == reservation_id, payments.c.status == "confirming"))).all()
        for p in open_:
            try:
                paid = await self._toss.get(p.payment_key)
            except PaymentNotFound:
                paid = None
            r = _Order(p.order_id, p.amount)
            if paid is not None and _is_payment_for(paid, r):
                await self._approve(reservation_id, p.id, method=paid.method, toss=paid)
                return True
            if paid is None or paid.status in (PaymentStatus.ABORTED, PaymentStatus.EXPIRED, PaymentStatus.CANCELED):
                await self._mark(p.id, "failed")
            # READY / IN_PROGRESS: still open at the provider; leave it for the next pass
        return False

    # ---- helpers -------------------------------------------------------------------------------------
    async def _mark(self, payment_id: int, status: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(payments.update().where(payments.c.id == payment_id).values(status=status))

    async def _announce_payment(self, conn: AsyncConnection, reservation_id: int, event: str, **extra) -> None:
        r = (await conn.execute(sa.select(reservations.c.user_id, reservations.c.amount, reservations.c.order_id)
                                .where(reservations.c.id == reservation_id))).one()
        await enqueue(conn, event=event, user_id=r.user_id, payload={
            "reservation_id": reservation_id, "order_id": r.order_id, "amount": r.amount, **extra})

    async def _seats_of(self, reservation_id: int) -> tuple[int, list[int]]:
        out = await self._reservation_out(reservation_id)
        return out.round_id, out.seat_ids

    async def _reservation_out(self, reservation_id: int) -> ReservationOut:
        async with self._db.read_own_writes() as conn:
            user_id = (await conn.execute(sa.select(reservations.c.user_id)
                                          .where(reservations.c.id == reservation_id))).scalar_one()
        return await self._reservations.get(user_id, reservation_id)

    async def _out(self, reservation_id: int) -> PaymentOut:
        async with self._db.read_own_writes() as conn:
            r = (await conn.execute(sa.select(reservations).where(reservations.c.id == reservation_id))).one()
            p = (await conn.execute(sa.select(payments).where(
                payments.c.reservation_id == reservation_id, payments.c.status == "approved"))).first()
        return PaymentOut(reservation_id=r.id, status=r.status, order_id=r.order_id, amount=r.amount,
                          payment_key=p.payment_key if p else "", method=p.method if p else FREE,
                          approved_at=p.approved_at.astimezone(self._zone) if p and p.approved_at else None)


class _Order:
    def __init__(self, order_id: str, amount: int):
        self.order_id, self.amount = order_id, amount


def _is_payment_for(paid: TossPayment, order) -> bool:
    return paid.status == PaymentStatus.DONE and paid.order_id == order.order_id and paid.total_amount == order.amount
