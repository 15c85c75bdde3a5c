"""Reservations: made from the caller's holds, listed, read and canceled."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import USER, Api
from server.schemas.common import Page, PageQuery
from server.schemas.reservations import ReservationCreate, ReservationOut
from server.tokens import Principal
from server.wiring import SERVICES

api = Api("reservations")


@api.post("/api/reservations", body=ReservationCreate, response=ReservationOut, status=201, auth=USER,
          errors=(404, 409, 503))        # 503: the seat engine cannot be reached to see the holds
async def create(request: web.Request, body: ReservationCreate, user: Principal) -> ReservationOut:
    """Turn seats you hold into a pending reservation, to be paid before `expires_at`."""
    return await request.app[SERVICES].reservations.create(user.user_id, body)


@api.get("/api/reservations", query=PageQuery, response=Page[ReservationOut], auth=USER)
async def list_mine(request: web.Request, query: PageQuery, user: Principal) -> Page[ReservationOut]:
    """Your reservations, newest first."""
    return await request.app[SERVICES].reservations.list_mine(user.user_id, query)


@api.get("/api/reservations/{reservation_id}", response=ReservationOut, auth=USER)
async def get(request: web.Request, reservation_id: int, user: Principal) -> ReservationOut:
    """One of your reservations."""
    return await request.app[SERVICES].reservations.get(user.user_id, reservation_id)


@api.post("/api/reservations/{reservation_id}/cancel", response=ReservationOut, auth=USER, errors=(409, 502))
async def cancel(request: web.Request, reservation_id: int, user: Principal) -> ReservationOut:
    """Cancel a reservation; a paid one is refunded through the payment provider first (until the
    refund cut-off before its round: 409 `too_late` after). Its seats become available again."""
    return await request.app[SERVICES].checkout.cancel(user.user_id, reservation_id)
