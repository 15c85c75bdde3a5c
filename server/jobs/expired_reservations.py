"""expired-reservations: pending reservations past their payment window expire and their seats are
sold again.

In bulk, what `Reservations.end(id, "expired")` does for one: per chunk, one UPDATE for the
reservations, one giving their coupons back, one freeing their seats' live key, the search index
and the owners told (reservation.expired, SSE and mail) — then the seat engine frees the seats. A
reservation with a payment still in flight ('confirming': the provider's answer was never recorded)
is left out of the bulk pass: `Checkout.expire_due()` settles those with the provider first (the
money may have been taken: then it is confirmed, not expired), one by one — there are few.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tables import payments, reservation_seats, reservations, user_coupons
from server.jobs.base import Counts, Job
from server.jobs.chunks import between, in_ranges
from server.jobs.sql import booking_messages, concat_ids, id_list, round_start_texts
from server.outbox import enqueue_select
from server.search.sync import reservations_changed


class ExpiredReservations(Job, name="expired-reservations", every_seconds=60,
                          counted=("expired", "expired_after_payment_check")):
    """Pending reservations past their payment window expire and their seats are sold again; one with a
    payment in flight is settled with the payment provider first."""

    async def run(self, counts: Counts) -> None:
        now, ctx = self.ctx.clock(), self.ctx
        paying = sa.exists().where(payments.c.reservation_id == reservations.c.id, payments.c.status == "confirming")
        due = sa.and_(reservations.c.status == "pending", reservations.c.expires_at <= now, ~paying)

        async def expire(conn: AsyncConnection, low: int, high: int) -> dict[int, list[int]]:
            # The chunk's due reservations, locked first: until the commit they stay as they are (a
            # payment starting on one waits), so every statement below sees the same rows.
            expiring = sa.and_(between(reservations.c.id, low, high), due)
            ids = await concat_ids(conn, reservations.c.id, expiring, lock=True)
            these = sa.select(reservations.c.id).where(expiring)
            # Coupon ids as a list, not IN (SELECT ...): MariaDB 10.11 would scan all issued coupons.
            coupons = await concat_ids(conn, reservations.c.user_coupon_id, expiring,
                                       reservations.c.user_coupon_id.is_not(None))
            await conn.execute(user_coupons.update().values(used_at=None).where(user_coupons.c.id.in_(coupons)))
            their_seats = sa.and_(between(reservation_seats.c.reservation_id, low, high),
                                  reservation_seats.c.reservation_id.in_(these))
            freed = {round_id: id_list(seat_ids) for round_id, seat_ids in await conn.execute(
                sa.select(reservation_seats.c.round_id, sa.func.group_concat(reservation_seats.c.seat_id))
                .where(their_seats).group_by(reservation_seats.c.round_id))}
            await conn.execute(reservation_seats.update().where(their_seats).values(live=None))
            starts_at = await round_start_texts(conn, freed, ctx.zone)
            await enqueue_select(conn, event="reservation.expired",
                                 source=booking_messages(expiring, starts_at=starts_at, status="expired"))
            # (After the messages, unlike `enqueue`'s advice: only rows already locked are left to change.)
            await conn.execute(reservations.update().where(expiring)
                               .values(status="expired", updated_at=now, user_coupon_id=None))
            await reservations_changed(conn, ids)
            counts.add(expired=len(ids))
            return freed

        async def free_seats(freed: dict[int, list[int]]) -> None:
            for round_id, seat_ids in freed.items():
                await ctx.seating.free(round_id, seat_ids)

        await in_ranges(ctx.db, reservations.c.id, due, size=ctx.chunk_size, handle=expire, after_commit=free_seats)
        counts.add(expired_after_payment_check=await ctx.checkout.expire_due())
