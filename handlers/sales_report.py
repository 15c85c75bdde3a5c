"""Admin: a round's live on-sale figures for the box office."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, Api
from server.schemas.sales_report import SalesOut
from server.wiring import SERVICES

api = Api("sales")


@api.get("/api/admin/rounds/{round_id}/sales", response=SalesOut, auth=ADMIN, errors=(503,))
async def round_sales(request: web.Request, round_id: int) -> SalesOut:
    """Seats sold, held and available by grade, revenue, refunds, and sales per minute over the last hour."""
    return await request.app[SERVICES].sales_report.of_round(round_id)
