"""First-come coupons: an admin creates a run of `quantity`; users take one each, first come, first
served, exactly `quantity` in all. Issuing is one transaction: a conditional
`UPDATE coupons SET issued_count = issued_count + 1 WHERE issued_count < quantity` (the database
serialises it per row, across every instance) and the insert of the user's coupon, guarded by the
unique (coupon, user) key — a user's second try rolls the whole transaction back, count included.
Never "read the count, then write"."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalogue.common import fetch_page, given_fields, lock_or_404, make_page
from server.db.database import Database
from server.db.tables import coupons, user_coupons
from server.db.types import utcnow
from server.errors import Code, Conflict, InvalidState, NotFound, require
from server.outbox import enqueue
from server.schemas.common import Page, PageQuery
from server.schemas.coupons import CouponCreate, CouponOut, CouponUpdate, IssuedCouponOut

MIN_CARD_PAYMENT = 100        # KRW: Toss refuses card payments below this


def discount_for(discount_type: str, discount: int, total: int) -> int:
    """What a coupon takes off `total` (never more than the total)."""
    off = discount if discount_type == "amount" else total * discount // 100
    return min(off, total)


def coupon_state(row, now: datetime) -> str:
    """scheduled (its window is ahead), ended (behind), sold_out (all issued), else live."""
    if now < row.starts_at:
        return "scheduled"
    if now >= row.ends_at:
        return "ended"
    return "sold_out" if row.issued_count >= row.quantity else "live"


class Coupons:
    def __init__(self, db: Database, zone: ZoneInfo):
        self._db = db
        self._zone = zone

    def _coupon_out(self, row, now: datetime | None = None) -> CouponOut:
        return CouponOut(id=row.id, name=row.name, discount_type=row.discount_type, discount=row.discount,
                         quantity=row.quantity, issued=row.issued_count, remaining=row.quantity - row.issued_count,
                         starts_at=row.starts_at.astimezone(self._zone), ends_at=row.ends_at.astimezone(self._zone),
                         state=coupon_state(row, now or utcnow()))

    async def create(self, request: CouponCreate) -> CouponOut:
        require(request.ends_at > request.starts_at, "ends_at must be after starts_at.", "ends_at")
        require(request.discount_type == "amount" or request.discount <= 100,
                "A percent discount is at most 100.", "discount")
        async with self._db.begin() as conn:
            coupon_id = (await conn.execute(coupons.insert().values(
                name=request.name, discount_type=request.discount_type, discount=request.discount,
                quantity=request.quantity, issued_count=0, starts_at=request.starts_at, ends_at=request.ends_at,
                created_at=utcnow()))).inserted_primary_key[0]
            return self._coupon_out((await conn.execute(sa.select(coupons).where(coupons.c.id == coupon_id))).one())

    async def list_issuable(self, query: PageQuery) -> Page[CouponOut]:
        """Coupons that can be taken now: in their window and not all issued."""
        now = utcnow()
        select = (sa.select(coupons).where(coupons.c.starts_at <= now, coupons.c.ends_at > now,
                                           coupons.c.issued_count < coupons.c.quantity)
                  .order_by(coupons.c.ends_at, coupons.c.id))
        async with self._db.read() as conn:
            rows, total = await fetch_page(conn, select, query)
        return make_page([self._coupon_out(r) for r in rows], query, total)

    async def list_all(self, query: PageQuery) -> Page[CouponOut]:
        """Every coupon, whatever its state, the newest window first (for admins)."""
        select = sa.select(coupons).order_by(coupons.c.starts_at.desc(), coupons.c.id.desc())
        async with self._db.read_own_writes() as conn:
            rows, total = await fetch_page(conn, select, query)
        now = utcnow()
        return make_page([self._coupon_out(r, now) for r in rows], query, total)

    async def update(self, coupon_id: int, request: CouponUpdate) -> CouponOut:
        """Rename, move the window, or change the quantity — never below what has been issued: the
        update is conditional on the count, so an issue racing it cannot slip past the new quantity."""
        changes = given_fields(request)
        require(bool(changes), "Give at least one field to change.", "name")
        async with self._db.begin() as conn:
            row = (await conn.execute(sa.select(coupons).where(coupons.c.id == coupon_id).with_for_update())).first()
            if row is None:
                raise NotFound("No such coupon.")
            starts_at = changes.get("starts_at", row.starts_at)
            ends_at = changes.get("ends_at", row.ends_at)
            require(ends_at > starts_at, "ends_at must be after starts_at.", "ends_at")
            update = coupons.update().where(coupons.c.id == coupon_id).values(**changes)
            if "quantity" in changes:
                update = update.where(coupons.c.issued_count <= changes["quantity"])
            if (await conn.execute(update)).rowcount != 1:
                issued = (await conn.execute(sa.select(coupons.c.issued_count).where(coupons.c.id == coupon_id))).scalar_one()
                raise InvalidState(f"{issued} of these coupons have been issued: the quantity cannot be less.",
                                   details={"issued": issued})
            return self._coupon_out((await conn.execute(sa.select(coupons).where(coupons.c.id == coupon_id))).one())

    async def delete(self, coupon_id: int) -> None:
        """Only a coupon nobody has taken: the delete is conditional on the count, so it cannot race an issue."""
        async with self._db.begin() as conn:
            await lock_or_404(conn, coupons, coupon_id, "coupon")
            gone = await conn.execute(coupons.delete().where(coupons.c.id == coupon_id, coupons.c.issued_count == 0))
            if gone.rowcount != 1:
                issued = (await conn.execute(sa.select(coupons.c.issued_count).where(coupons.c.id == coupon_id))).scalar_one()
                raise InvalidState(f"{issued} of these coupons have been issued; they stay as people's coupons.",
                                   details={"issued": issued})

    async def issue(self, user_id: int, coupon_id: int) -> IssuedCouponOut:
        now = utcnow()
        try:
            async with self._db.begin() as conn:
                taken = await conn.execute(coupons.update().where(
                    coupons.c.id == coupon_id, coupons.c.issued_count < coupons.c.quantity,
                    coupons.c.starts_at <= now, coupons.c.ends_at > now)
                    .values(issued_count=coupons.c.issued_count + 1))
                if taken.rowcount != 1:
                    raise await self._why_not(conn, coupon_id, now)
                issued_id = (await conn.execute(user_coupons.insert().values(
                    coupon_id=coupon_id, user_id=user_id, issued_at=now))).inserted_primary_key[0]
                issued = await self._issued(conn, user_coupons.c.id == issued_id)
                await enqueue(conn, event="coupon.issued", user_id=user_id, payload={
                    "coupon_id": coupon_id, "issued_coupon_id": issued_id, "name": issued[0].name})
        except IntegrityError:
            raise Conflict("You already have this coupon.", code=Code.ALREADY_ISSUED) from None
        return issued[0]

    async def _why_not(self, conn: AsyncConnection, coupon_id: int, now: datetime) -> Exception:
        row = (await conn.execute(sa.select(coupons).where(coupons.c.id == coupon_id))).first()
        if row is None:
            return NotFound("No such coupon.")
        if not (row.starts_at <= now < row.ends_at):
            return InvalidState("This coupon cannot be taken now.", 
                            details={"starts_at": row.starts_at.astimezone(self._zone).isoformat(),
                                     "ends_at": row.ends_at.astimezone(self._zone).isoformat()})
        return Conflict("All of these coupons have been taken.", code=Code.SOLD_OUT)

    async def mine(self, user_id: int, query: PageQuery) -> Page[IssuedCouponOut]:
        async with self._db.read_own_writes() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(user_coupons)
                                        .where(user_coupons.c.user_id == user_id))).scalar_one()
            items = await self._issued(conn, user_coupons.c.user_id == user_id, limit=query.size,
                                       offset=query.offset)
        return make_page(items, query, total)

    async def _issued(self, conn: AsyncConnection, where, *, limit: int = 1, offset: int = 0) -> list[IssuedCouponOut]:
        rows = (await conn.execute(
            sa.select(user_coupons, coupons.c.name, coupons.c.discount_type, coupons.c.discount,
                      coupons.c.starts_at, coupons.c.ends_at)
            .join(coupons, coupons.c.id == user_coupons.c.coupon_id).where(where)
            .order_by(user_coupons.c.id.desc()).limit(limit).offset(offset))).all()
        zone = self._zone
        return [IssuedCouponOut(id=r.id, coupon_id=r.coupon_id, name=r.name, discount_type=r.discount_type,
                                discount=r.discount, issued_at=r.issued_at.astimezone(zone),
                                used_at=r.used_at.astimezone(zone) if r.used_at else None,
                                starts_at=r.starts_at.astimezone(zone), ends_at=r.ends_at.astimezone(zone))
                for r in rows]

    # ---- use, from a reservation's transaction ------------------------------------------------------
    async def use(self, conn: AsyncConnection, user_id: int, coupon_id: int, total: int) -> tuple[int, int]:
        """Mark the user's coupon of run `coupon_id` used, in the reservation's transaction; returns
        (issued coupon id, discount). The conditional update lets one reservation use it, even in a race."""
        now = utcnow()
        row = (await conn.execute(
            sa.select(user_coupons.c.id, coupons.c.discount_type, coupons.c.discount, coupons.c.starts_at,
                      coupons.c.ends_at).join(coupons, coupons.c.id == user_coupons.c.coupon_id)
            .where(user_coupons.c.coupon_id == coupon_id, user_coupons.c.user_id == user_id))).first()
        if row is None:
            raise Conflict("Take this coupon first.", code=Code.COUPON_UNUSABLE,
                           details={"reason": "not_issued", "coupon_id": coupon_id})
        issued_id = row.id
        if not (row.starts_at <= now < row.ends_at):
            raise Conflict("This coupon is not valid now.", code=Code.COUPON_UNUSABLE, details={"reason": "expired"})
        used = await conn.execute(user_coupons.update().where(
            user_coupons.c.id == issued_id, user_coupons.c.used_at.is_(None)).values(used_at=now))
        if used.rowcount != 1:
            raise Conflict("This coupon has already been used.", code=Code.COUPON_UNUSABLE,
                           details={"reason": "used"})
        discount = discount_for(row.discount_type, row.discount, total)
        if 0 < total - discount < MIN_CARD_PAYMENT:
            raise Conflict(f"After the discount {total - discount} KRW would be left to pay; card payments "
                           f"start at {MIN_CARD_PAYMENT} KRW.", code=Code.AMOUNT_BELOW_MINIMUM,
                           details={"amount": total - discount, "minimum": MIN_CARD_PAYMENT})
        return issued_id, discount

    @staticmethod
    async def give_back(conn: AsyncConnection, issued_id: int | None) -> None:
        """A reservation that ended unpaid, or was refunded, returns its coupon."""
        if issued_id is not None:
            await conn.execute(user_coupons.update().where(user_coupons.c.id == issued_id).values(used_at=None))
