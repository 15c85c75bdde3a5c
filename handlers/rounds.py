"""Rounds: the show times of a performance (reads are public, writes are for admins)."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, Api
from server.schemas.catalogue import RoundCreate, RoundOut, RoundUpdate
from server.schemas.common import Page, PageQuery
from server.wiring import SERVICES

api = Api("rounds")


@api.get("/api/performances/{performance_id}/rounds", query=PageQuery, response=Page[RoundOut])
async def list_rounds(request: web.Request, performance_id: int, query: PageQuery) -> Page[RoundOut]:
    """A performance's rounds in time order."""
    return await request.app[SERVICES].rounds.list(performance_id, query)


@api.post("/api/performances/{performance_id}/rounds", body=RoundCreate, response=RoundOut, status=201,
          auth=ADMIN)
async def create_round(request: web.Request, performance_id: int, body: RoundCreate) -> RoundOut:
    """Add a round; its local date must be within the performance's run."""
    return await request.app[SERVICES].rounds.create(performance_id, body)


@api.get("/api/rounds/{round_id}", response=RoundOut)
async def get_round(request: web.Request, round_id: int) -> RoundOut:
    """One round; times are in the server's configured time zone."""
    return await request.app[SERVICES].rounds.get(round_id)


@api.patch("/api/rounds/{round_id}", body=RoundUpdate, response=RoundOut, auth=ADMIN, errors=(409, 503))
async def update_round(request: web.Request, round_id: int, body: RoundUpdate) -> RoundOut:
    """Move a round; 409 invalid_state while it has live reservations."""
    return await request.app[SERVICES].rounds.update(round_id, body)


@api.delete("/api/rounds/{round_id}", status=204, auth=ADMIN, errors=(409,))
async def delete_round(request: web.Request, round_id: int) -> None:
    """Delete a round; 409 invalid_state while it has reservations."""
    await request.app[SERVICES].rounds.delete(round_id)
