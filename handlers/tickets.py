"""Tickets: their QR codes (the holder) and the door's check-in (staff and admins)."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import STAFF, USER, Api
from server.schemas.reservations import CheckInOut, CheckInRequest
from server.tokens import Principal
from server.wiring import SERVICES

api = Api("tickets")


@api.post("/api/tickets/check-in", body=CheckInRequest, response=CheckInOut, auth=STAFF, errors=(409,))
async def check_in(request: web.Request, body: CheckInRequest, user: Principal) -> CheckInOut:
    """Check a ticket in at the door, once: the seat and the holder."""
    return await request.app[SERVICES].tickets.check_in(body.code, user.user_id)


@api.get("/api/tickets/{ticket_id}/qr.svg", auth=USER, content_type=None)
async def qr_code(request: web.Request, ticket_id: int, user: Principal) -> web.Response:
    """Your ticket's QR code (SVG), carrying its code."""
    svg = await request.app[SERVICES].tickets.qr_svg(user.user_id, ticket_id)
    return web.Response(body=svg, content_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})
