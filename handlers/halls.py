"""Halls and their seat maps (reads are public, writes are for admins)."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, Api
from server.schemas.catalogue import HallCreate, HallDetail, HallOut, HallUpdate
from server.schemas.common import Page, PageQuery
from server.wiring import SERVICES

api = Api("halls")


@api.get("/api/halls", query=PageQuery, response=Page[HallOut])
async def list_halls(request: web.Request, query: PageQuery) -> Page[HallOut]:
    """Halls with their capacity (without seats), oldest first."""
    return await request.app[SERVICES].halls.list(query)


@api.post("/api/halls", body=HallCreate, response=HallDetail, status=201, auth=ADMIN)
async def create_hall(request: web.Request, body: HallCreate) -> HallDetail:
    """Create a hall from `sections` (seats generated) or an explicit `seats` map (exactly one of them)."""
    return await request.app[SERVICES].halls.create(body)


@api.get("/api/halls/{hall_id}", response=HallDetail)
async def get_hall(request: web.Request, hall_id: int) -> HallDetail:
    """A hall with every seat."""
    return await request.app[SERVICES].halls.get(hall_id)


@api.patch("/api/halls/{hall_id}", body=HallUpdate, response=HallDetail, auth=ADMIN)
async def update_hall(request: web.Request, hall_id: int, body: HallUpdate) -> HallDetail:
    """Rename a hall or change its address (the seat map cannot change)."""
    return await request.app[SERVICES].halls.update(hall_id, body)


@api.delete("/api/halls/{hall_id}", status=204, auth=ADMIN, errors=(409,))
async def delete_hall(request: web.Request, hall_id: int) -> None:
    """Delete a hall and its seats; 409 invalid_state while performances use it."""
    await request.app[SERVICES].halls.delete(hall_id)
