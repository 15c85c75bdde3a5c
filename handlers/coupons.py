"""First-come coupons: admins create runs, users take one each and apply it when reserving."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, USER, Api
from server.ratelimit import COUPON_ISSUE_PER_ACCOUNT
from server.schemas.common import Page, PageQuery
from server.schemas.coupons import CouponCreate, CouponOut, CouponUpdate, IssuedCouponOut
from server.tokens import Principal
from server.wiring import SERVICES

api = Api("coupons")


@api.post("/api/coupons", body=CouponCreate, response=CouponOut, status=201, auth=ADMIN)
async def create_coupon(request: web.Request, body: CouponCreate) -> CouponOut:
    """Create a run of `quantity` coupons, issuable between `starts_at` and `ends_at`."""
    return await request.app[SERVICES].coupons.create(body)


@api.get("/api/coupons", query=PageQuery, response=Page[CouponOut])
async def list_coupons(request: web.Request, query: PageQuery) -> Page[CouponOut]:
    """Coupons that can be taken now."""
    return await request.app[SERVICES].coupons.list_issuable(query)


@api.get("/api/admin/coupons", query=PageQuery, response=Page[CouponOut], auth=ADMIN)
async def all_coupons(request: web.Request, query: PageQuery) -> Page[CouponOut]:
    """Every coupon with its `state` (scheduled, live, sold_out, ended), the newest window first."""
    return await request.app[SERVICES].coupons.list_all(query)


@api.patch("/api/coupons/{coupon_id}", body=CouponUpdate, response=CouponOut, auth=ADMIN, errors=(404, 409))
async def update_coupon(request: web.Request, coupon_id: int, body: CouponUpdate) -> CouponOut:
    """Rename it, move its window, or change its quantity (409 `invalid_state` below what was issued)."""
    return await request.app[SERVICES].coupons.update(coupon_id, body)


@api.delete("/api/coupons/{coupon_id}", status=204, auth=ADMIN, errors=(404, 409))
async def delete_coupon(request: web.Request, coupon_id: int) -> None:
    """Delete a coupon nobody has taken (else 409 `invalid_state`, `details.issued`)."""
    await request.app[SERVICES].coupons.delete(coupon_id)


@api.post("/api/coupons/{coupon_id}/issue", response=IssuedCouponOut, status=201, auth=USER, errors=(404, 409),
          limits=(COUPON_ISSUE_PER_ACCOUNT,))
async def issue_coupon(request: web.Request, coupon_id: int, user: Principal) -> IssuedCouponOut:
    """Take one, first come, first served: 409 `sold_out` when none are left, `already_issued` if you
    have one. Apply it with `coupon_id` when reserving."""
    return await request.app[SERVICES].coupons.issue(user.user_id, coupon_id)


@api.get("/api/users/me/coupons", query=PageQuery, response=Page[IssuedCouponOut], auth=USER)
async def my_coupons(request: web.Request, query: PageQuery, user: Principal) -> Page[IssuedCouponOut]:
    """The coupons you have taken, used or not."""
    return await request.app[SERVICES].coupons.mine(user.user_id, query)
