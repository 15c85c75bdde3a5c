"""Performers (reads are public, writes are for admins)."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, Api
from server.schemas.catalogue import PerformerCreate, PerformerOut, PerformerQuery, PerformerUpdate
from server.schemas.common import Page
from server.wiring import SERVICES

api = Api("performers")


@api.get("/api/performers", query=PerformerQuery, response=Page[PerformerOut])
async def list_performers(request: web.Request, query: PerformerQuery) -> Page[PerformerOut]:
    """Performers by name; `q` keeps names containing it."""
    return await request.app[SERVICES].performers.list(query)


@api.post("/api/performers", body=PerformerCreate, response=PerformerOut, status=201, auth=ADMIN)
async def create_performer(request: web.Request, body: PerformerCreate) -> PerformerOut:
    """Add a performer."""
    return await request.app[SERVICES].performers.create(body)


@api.get("/api/performers/{performer_id}", response=PerformerOut)
async def get_performer(request: web.Request, performer_id: int) -> PerformerOut:
    """One performer."""
    return await request.app[SERVICES].performers.get(performer_id)


@api.patch("/api/performers/{performer_id}", body=PerformerUpdate, response=PerformerOut, auth=ADMIN)
async def update_performer(request: web.Request, performer_id: int, body: PerformerUpdate) -> PerformerOut:
    """Change the given fields; `null` clears birth_date or nationality."""
    return await request.app[SERVICES].performers.update(performer_id, body)


@api.delete("/api/performers/{performer_id}", status=204, auth=ADMIN)
async def delete_performer(request: web.Request, performer_id: int) -> None:
    """Delete a performer (and take them out of every cast)."""
    await request.app[SERVICES].performers.delete(performer_id)
