"""Search: the catalogue (public) and bookings (admin)."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, Api
from server.schemas.common import Page
from server.search.schemas import CatalogueQuery, CatalogueResults, ReservationHit, ReservationQuery
from server.wiring import SERVICES

api = Api("search")


@api.get("/api/search", query=CatalogueQuery, response=CatalogueResults, errors=(400, 503))
async def search_catalogue(request: web.Request, query: CatalogueQuery) -> CatalogueResults:
    """Performances, halls and performers matching every word of `q` (or part of a word), best first."""
    return await request.app[SERVICES].search.catalogue(query)


@api.get("/api/admin/reservations/search", query=ReservationQuery, response=Page[ReservationHit], auth=ADMIN,
         errors=(400, 503))
async def search_reservations(request: web.Request, query: ReservationQuery) -> Page[ReservationHit]:
    """Bookings matching every given filter, newest first."""
    return await request.app[SERVICES].search.reservations(query)
