"""Money for reservations: confirming a payment, refunding a paid reservation, and settling what a
crash or a lost answer left open, through the payment provider (Toss Payments or its sandbox).

Every call to the provider is prepared in the database first — a `payments` row with the
Idempotency-Key the call will use — so that after a crash the call can be repeated with the same key
(the provider answers it once) or the payment read back. Hence money taken never stays without a
booking (the next confirm, or the expiry pass, finds the approval and confirms), and a booking never
stays without money (a reservation is confirmed only after the approval).

What holds under any interleaving of confirms, cancels and the expiry pass, on any instance:
- One payment confirms a reservation, decided under the reservation's row lock (`_settle`): the
  approval that finds it pending confirms it, and that payment is marked as the booking's
  (`approved_at` is set on it and on no other). A twin request for that payment answers as that
  confirmation; any other approved payment (a second payment of the order, or one that completed
  after the reservation ended) is refunded and answered 409.
- An answer that does not say what happened (no answer, IDEMPOTENT_REQUEST_PROCESSING to the end,
  ALREADY_PROCESSED_PAYMENT) is settled by reading the payment back, never by guessing.
- A payment's refund Idempotency-Key is chosen once (a conditional update), so concurrent cancels
  send the same request and the provider refunds once.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.database import Database
from server.db.tables import payments, reservations, rounds
from server.db.types import utcnow
from server.errors import ApiError, Code, Conflict, InvalidState, NotFound
from server.metrics import Metrics
from server.outbox import enqueue
from server.payments.toss import (PaymentAlreadyProcessed, PaymentError, PaymentNotFound, PaymentProviderError,
                                  PaymentStatus, TossPayment, TossPayments, error_for)
from server.reservations import Reservations
from server.schemas.payments import PaymentConfirm, PaymentOut
from server.schemas.reservations import ReservationOut
from server.seating import Seating

log = logging.getLogger(__name__)
REFUND_REASON = "Canceled by the customer"
FREE = "free"                       # the method of a fully discounted reservation: no provider call
PAID = ("confirmed", "attended")
# Toss statuses of a payment that may still be approved (the widget is done, the confirm is not).
OPEN = (PaymentStatus.READY, PaymentStatus.IN_PROGRESS, PaymentStatus.WAITING_FOR_DEPOSIT)
# How far back the expiry pass looks for payments left half done on reservations that are no longer
# pending (found through the reservation's updated_at, which is indexed; payments' status is not).
SETTLE_WINDOW = timedelta(days=1)


class Checkout:
    def __init__(self, db: Database, toss: TossPayments, reservations: Reservations, seating: Seating,
                 zone: ZoneInfo, *, refund_cutoff_minutes: int = 0, metrics: Metrics | None = None):
        self._db = db
        self._metrics = metrics or Metrics()
        self._toss = toss
        self._reservations = reservations
        self._seating = seating
        self._zone = zone
        self._refund_cutoff_minutes = refund_cutoff_minutes

    # ---- confirm -------------------------------------------------------------------------------
    async def confirm(self, user_id: int, request: PaymentConfirm) -> PaymentOut:
        async with self._db.read_own_writes() as conn:
            r = (await conn.execute(sa.select(reservations).where(
                reservations.c.order_id == request.order_id, reservations.c.user_id == user_id))).first()
        if r is None:
            raise NotFound("No reservation of yours has this order id.")
        if r.status in PAID:
            return await self._already_paid(r, request.payment_key)
        if r.status != "pending":
            raise _ended(r.status)
        if request.amount != r.amount:
            raise ApiError("The amount is not what this reservation costs; nothing was charged.",
                           code=Code.AMOUNT_MISMATCH, status=400, details={"fields": ["amount"], "expected": r.amount})
        if r.amount == 0:
            return await self._settle(r.id, None, None)
        payment = await self._prepare(r, request.payment_key)
        paid = await self._confirm_at_provider(payment)
        return await self._settle(r.id, payment, paid)

    async def _prepare(self, r, payment_key: str):
        """The payments row for this attempt, written before the provider is called (its key is
        reused by every retry of the same payment, and by twin requests racing this one)."""
        try:
            async with self._db.begin() as conn:
                await conn.execute(payments.insert().values(
                    reservation_id=r.id, payment_key=payment_key, order_id=r.order_id, amount=r.amount,
                    status="confirming", confirm_idempotency_key=TossPayments.new_idempotency_key(),
                    created_at=utcnow()))
        except IntegrityError:
            pass                                   # (payment_key is unique) a twin, or a retry, wrote it first
        async with self._db.read_own_writes() as conn:
            found = (await conn.execute(sa.select(payments).where(payments.c.payment_key == payment_key))).one()
        if found.reservation_id != r.id:
            raise InvalidState("This payment belongs to another order.")
        return found

    async def _confirm_at_provider(self, payment) -> TossPayment:
        """The provider's approval of this payment, for its order and amount; anything else raises (and
        marks the payment failed once the provider has said that it will never be approved)."""
        try:
            paid = await self._toss.confirm(payment_key=payment.payment_key, order_id=payment.order_id,
                                            amount=payment.amount, idempotency_key=payment.confirm_idempotency_key)
        except PaymentAlreadyProcessed as exc:
            paid = await self._read_back(payment, exc)
        except PaymentProviderError as exc:
            if not exc.outcome_unknown:            # (nothing happened: the same key may try again)
                await self._mark_failed(payment.id)
                raise
            paid = await self._read_back(payment, exc)
        except PaymentError:
            await self._mark_failed(payment.id)
            raise
        if not _is_payment_for(paid, payment):
            raise PaymentProviderError("The provider approved something other than this order.",
                                       provider_code=paid.status)
        return paid

    async def _read_back(self, payment, error: PaymentError) -> TossPayment:
        """What became of a confirm whose answer did not say: the payment as the provider has it."""
        try:
            paid = await self._toss.get(payment.payment_key)
        except PaymentNotFound:
            await self._mark_failed(payment.id)
            raise error from None
        if paid.status == PaymentStatus.DONE:
            return paid
        if paid.status in (PaymentStatus.CANCELED, PaymentStatus.PARTIAL_CANCELED):
            raise InvalidState("This payment has been refunded.", details={"refunded": True})
        if paid.status in OPEN and not isinstance(error, PaymentAlreadyProcessed):
            # Still being processed (a twin's call is in flight, or ours is stuck): the expiry pass, the
            # next confirm or a cancel will ask again.
            raise PaymentProviderError("The payment provider is still processing this payment; look at the "
                                       "reservation again shortly.", provider_code=error.provider_code,
                                       outcome_unknown=True)
        # Declined, expired, or (DUPLICATED_ORDER_ID) never to be approved: another payment of the order was.
        await self._mark_failed(payment.id)
        if paid.failure is not None:
            raise error_for(400, paid.failure.code, paid.failure.message)
        raise error

    async def _settle(self, reservation_id: int, payment, paid: TossPayment | None) -> PaymentOut:
        """The provider approved `payment` (None: nothing was due). Under the reservation's row lock:
        the first approval of a pending reservation confirms it; a twin request of the payment that
        confirmed it answers as that confirmation; any other approval is refunded and answered 409."""
        async with self._db.begin() as conn:
            status = (await conn.execute(sa.select(reservations.c.status).where(reservations.c.id == reservation_id)
                                         .with_for_update())).scalar_one()
            # (approved_at is only ever set under this lock, so a plain read of it is exact)
            booked = payment is None or (await conn.execute(
                sa.select(payments.c.approved_at).where(payments.c.id == payment.id))).scalar_one() is not None
            if status == "pending":
                await conn.execute(reservations.update().where(reservations.c.id == reservation_id)
                                   .values(status="confirmed", updated_at=utcnow()))
                if payment is not None:
                    await conn.execute(payments.update().where(payments.c.id == payment.id).values(
                        status="approved", method=paid.method, approved_at=paid.approved_at or utcnow()))
                await self._reservations.tickets.issue(conn, reservation_id)
                await self._reservations.announce(conn, reservation_id, "reservation.confirmed")
                await self._announce_payment(conn, reservation_id, "payment.confirmed")
        if status == "pending":
            self._metrics.reservation("confirmed")
            if payment is not None:
                self._metrics.payment("confirmed", payment.amount)
            user_id, booked_out = await self._booking_of(reservation_id)
            await self._seating.paid(booked_out.round_id, user_id, booked_out.seat_ids)
        elif not booked:
            log.warning("reservation %s is %s: refunding payment %s, which it does not need", reservation_id,
                        status, payment.id)
            await self._refund_payment(payment.id)
            raise InvalidState("This reservation is already paid with another payment, or ended before this one "
                           "completed; this payment was refunded.", 
                           details={"status": status, "refunded": True})
        elif status not in PAID:
            raise _ended(status)
        return await self._out(reservation_id)

    async def _already_paid(self, r, payment_key: str) -> PaymentOut:
        """Confirm is idempotent: the same payment again answers as the first time did. Another payment
        is never sent to the provider for a paid order."""
        out = await self._out(r.id)
        if out.payment_key != payment_key and out.method != FREE:
            raise InvalidState("This reservation is already paid with another payment; this one is not used.",
                           details={"status": r.status, "refunded": False})
        return out

    # ---- cancel ------------------------------------------------------------------------------------
    async def cancel(self, user_id: int, reservation_id: int) -> ReservationOut:
        """Cancel one of your reservations: a pending one at once; a paid one (until the refund cut-off
        before its round) is refunded through the provider first, and only then are its seats freed."""
        current = await self._reservations.get(user_id, reservation_id)
        if current.status == "pending":
            await self._settle_open_payments(reservation_id)          # it may have been paid after all
            if await self._reservations.end(reservation_id, "canceled"):
                return await self._reservations.get(user_id, reservation_id)
            current = await self._reservations.get(user_id, reservation_id)   # paid meanwhile
        if current.status != "confirmed":
            raise InvalidState(f"A {current.status} reservation cannot be canceled.", 
                           details={"status": current.status})
        await self._check_refund_cutoff(reservation_id)
        await self._refund_booking(reservation_id)
        return await self._reservations.get(user_id, reservation_id)

    async def _check_refund_cutoff(self, reservation_id: int) -> None:
        async with self._db.read_own_writes() as conn:
            starts_at = (await conn.execute(sa.select(rounds.c.starts_at).join(
                reservations, reservations.c.round_id == rounds.c.id).where(reservations.c.id == reservation_id))
            ).scalar_one()
        minutes = self._refund_cutoff_minutes
        if utcnow() >= starts_at - timedelta(minutes=minutes):
            when = f"within {minutes} minutes of its start" if minutes else "once its round has started"
            raise Conflict(f"A paid reservation can no longer be canceled {when}.", code=Code.TOO_LATE,
                           details={"round_starts_at": starts_at.astimezone(self._zone), "cutoff_minutes": minutes})

    async def _refund_booking(self, reservation_id: int) -> None:
        """Refund the payment that confirmed the reservation, then cancel it (also how the expiry pass
        finishes a cancel whose refund answer was lost)."""
        async with self._db.read_own_writes() as conn:
            payment = (await conn.execute(sa.select(payments.c.id).where(
                payments.c.reservation_id == reservation_id, payments.c.approved_at.is_not(None)))).first()
        refunded = await self._refund_payment(payment.id) if payment is not None else 0

        async def record(conn: AsyncConnection) -> None:
            if payment is not None:
                await self._announce_payment(conn, reservation_id, "payment.canceled", refund_amount=refunded)
        if not await self._reservations.end(reservation_id, "canceled", from_status="confirmed", also=record):
            async with self._db.read_own_writes() as conn:
                status = (await conn.execute(sa.select(reservations.c.status)
                                             .where(reservations.c.id == reservation_id))).scalar_one()
            if status != "canceled":                       # (canceled: a concurrent cancel finished first)
                raise InvalidState("The reservation changed meanwhile; look at it again.", 
                               details={"status": status})

    async def _refund_payment(self, payment_id: int) -> int:
        """Refund a payment in full at the provider, once however many ask at the same time; returns the
        amount refunded."""
        async with self._db.begin() as conn:
            p = (await conn.execute(sa.select(payments).where(payments.c.id == payment_id))).one()
            if p.status == "canceled":
                return p.amount
            # (the reservation first, as everywhere: the lock order. Its updated_at is how the expiry pass
            # finds a refund left unfinished.)
            await conn.execute(reservations.update().where(reservations.c.id == p.reservation_id)
                               .values(updated_at=utcnow()))
            await conn.execute(payments.update().where(payments.c.id == payment_id).values(
                status="canceling", cancel_idempotency_key=sa.func.coalesce(
                    payments.c.cancel_idempotency_key, TossPayments.new_idempotency_key())))
            p = (await conn.execute(sa.select(payments).where(payments.c.id == payment_id))).one()
        try:
            await self._toss.cancel(p.payment_key, reason=REFUND_REASON, idempotency_key=p.cancel_idempotency_key)
        except PaymentAlreadyProcessed:
            pass                                   # ALREADY_CANCELED_PAYMENT: refunded before
        except PaymentProviderError as exc:
            if not exc.outcome_unknown:
                await self._refund_refused(p)
                raise
            if not await self._refunded_at_provider(p.payment_key):
                raise                              # left 'canceling': the expiry pass finishes it
        except PaymentError:
            await self._refund_refused(p)
            raise
        async with self._db.begin() as conn:
            # (not over an earlier end: twin refunds each get here, and the refund is counted once)
            ended = await conn.execute(payments.update().where(payments.c.id == payment_id,
                                                               payments.c.status != "canceled")
                                       .values(status="canceled", canceled_at=utcnow()))
        if ended.rowcount == 1:
            self._metrics.payment("canceled", p.amount)
        return p.amount

    async def _refunded_at_provider(self, payment_key: str) -> bool:
        try:
            return (await self._toss.get(payment_key)).status == PaymentStatus.CANCELED
        except PaymentError:
            return False

    async def _refund_refused(self, p) -> None:
        """The provider refused the refund and nothing happened: a later attempt needs a new key. The
        booking's payment is live again (its reservation stays confirmed); any other is left to the
        expiry pass, which tries again, and to a person, told by the log."""
        if p.approved_at is None:
            log.error("payment %s (order %s) could not be refunded; it is retried, but may need a person",
                      p.id, p.order_id)
        live_again = {"status": "approved"} if p.approved_at is not None else {}
        async with self._db.begin() as conn:
            await conn.execute(payments.update().where(
                payments.c.id == p.id, payments.c.status == "canceling",
                payments.c.cancel_idempotency_key == p.cancel_idempotency_key)
                .values(cancel_idempotency_key=None, **live_again))

    # ---- expiry and reconciliation ----------------------------------------------------------------
    async def expire_due(self) -> int:
        """Pending reservations past their window expire and their seats come back — but one with a
        payment in flight is first settled with the provider: if the money was taken, it is confirmed.
        Payments left half done on other reservations are settled first. Safe on every instance at once."""
        await self._settle_left_open()
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
        """Ask the provider about confirm calls on a pending reservation whose answer we never recorded.
        True if one was in fact approved (the reservation is now confirmed)."""
        async with self._db.read_own_writes() as conn:
            open_ = (await conn.execute(sa.select(payments).where(
                payments.c.reservation_id == reservation_id, payments.c.status == "confirming"))).all()
        confirmed = False
        for p in open_:
            confirmed |= await self._settle_confirming(p, payable=True)
        return confirmed

    async def _settle_left_open(self) -> None:
        """Payments left half done (a crash, a lost answer) on reservations that are no longer pending: a
        confirm never recorded (refunded if it was charged) or a refund never finished (finished)."""
        async with self._db.read_own_writes() as conn:
            rows = (await conn.execute(
                sa.select(payments, reservations.c.status.label("reservation_status"))
                .join(reservations, reservations.c.id == payments.c.reservation_id)
                .where(reservations.c.updated_at >= utcnow() - SETTLE_WINDOW, reservations.c.status != "pending",
                       payments.c.status.in_(("confirming", "canceling"))))).all()
        for p in rows:
            try:
                if p.status == "confirming":
                    await self._settle_confirming(p, payable=False)
                elif p.approved_at is not None and p.reservation_status == "confirmed":
                    await self._refund_booking(p.reservation_id)        # a cancel whose refund was lost
                else:
                    await self._refund_payment(p.id)
            except ApiError as exc:
                log.warning("payment %s: not settled (%s); retried later", p.id, exc)

    async def _settle_confirming(self, p, *, payable: bool) -> bool:
        """Settle one 'confirming' payment by what the provider says of it; True if it confirmed its
        reservation. One still open at the provider stays open while its reservation can be paid."""
        try:
            paid = await self._toss.get(p.payment_key)
        except PaymentNotFound:
            paid = None
        if paid is not None and _is_payment_for(paid, p):
            try:
                await self._settle(p.reservation_id, p, paid)
            except Conflict:
                return False                       # not the booking's payment: it was refunded
            return payable
        if paid is None or paid.status not in OPEN or not payable:
            await self._mark_failed(p.id)
        return False

    # ---- helpers -------------------------------------------------------------------------------------
    async def _mark_failed(self, payment_id: int) -> None:
        """(Only from 'confirming': a twin request may have approved the same payment meanwhile.)"""
        async with self._db.begin() as conn:
            failed = await conn.execute(payments.update().where(payments.c.id == payment_id,
                                                                payments.c.status == "confirming")
                                        .values(status="failed"))
        if failed.rowcount == 1:
            self._metrics.payment("failed")

    async def _announce_payment(self, conn: AsyncConnection, reservation_id: int, event: str, **extra) -> None:
        r = (await conn.execute(sa.select(reservations.c.user_id, reservations.c.amount, reservations.c.order_id)
                                .where(reservations.c.id == reservation_id))).one()
        await enqueue(conn, event=event, user_id=r.user_id, payload={
            "reservation_id": reservation_id, "order_id": r.order_id, "amount": r.amount, **extra})

    async def _booking_of(self, reservation_id: int) -> tuple[int, ReservationOut]:
        """Whose reservation it is, and the reservation."""
        async with self._db.read_own_writes() as conn:
            user_id = (await conn.execute(sa.select(reservations.c.user_id)
                                          .where(reservations.c.id == reservation_id))).scalar_one()
        return user_id, await self._reservations.get(user_id, reservation_id)

    async def _out(self, reservation_id: int) -> PaymentOut:
        async with self._db.read_own_writes() as conn:
            r = (await conn.execute(sa.select(reservations).where(reservations.c.id == reservation_id))).one()
            p = (await conn.execute(sa.select(payments).where(
                payments.c.reservation_id == reservation_id, payments.c.approved_at.is_not(None)))).first()
        return PaymentOut(reservation_id=r.id, status=r.status, order_id=r.order_id, amount=r.amount,
                          payment_key=p.payment_key if p else "", method=p.method if p else FREE,
                          approved_at=p.approved_at.astimezone(self._zone) if p and p.approved_at else None)


def _ended(status: str) -> Conflict:
    return InvalidState(f"This reservation is {status}; it can no longer be paid.", 
                    details={"status": status})


def _is_payment_for(paid: TossPayment, payment) -> bool:
    """An approval of this payment of ours (a `payments` row): its key, its order, its amount."""
    return (paid.status == PaymentStatus.DONE and paid.payment_key == payment.payment_key
            and paid.order_id == payment.order_id and paid.total_amount == payment.amount)
