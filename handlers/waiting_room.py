"""A round's waiting room: its rules (admins) and a place in its line (users)."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, USER, Api
from server.ratelimit import QUEUE_JOINS_PER_ACCOUNT, QUEUE_JOINS_PER_ADDRESS
from server.schemas.waiting_room import QueueOut, WaitingRoomIn, WaitingRoomOut
from server.tokens import Principal
from server.wiring import RATE_LIMITS, SERVICES

api = Api("waiting room")


@api.put("/api/rounds/{round_id}/waiting-room", body=WaitingRoomIn, response=WaitingRoomOut, auth=ADMIN,
         errors=(503,))
async def configure(request: web.Request, round_id: int, body: WaitingRoomIn) -> WaitingRoomOut:
    """Set the round's waiting room up, change it, or turn it off; takes effect at once."""
    return await request.app[SERVICES].waiting_room.configure(round_id, body)


@api.get("/api/rounds/{round_id}/waiting-room", response=WaitingRoomOut, auth=ADMIN, errors=(503,))
async def config(request: web.Request, round_id: int) -> WaitingRoomOut:
    """The rules and the live figures: waiting, admissions running, admitted in total and in the last minute."""
    return await request.app[SERVICES].waiting_room.config(round_id)


@api.post("/api/rounds/{round_id}/queue", response=QueueOut, auth=USER, errors=(403, 409, 503),
          limits=(QUEUE_JOINS_PER_ACCOUNT, QUEUE_JOINS_PER_ADDRESS))
async def join(request: web.Request, round_id: int, user: Principal) -> QueueOut:
    """Join the round's waiting room; joining again (any tab, device or instance) keeps your place."""
    address = request.app[RATE_LIMITS].address(request)
    return await request.app[SERVICES].waiting_room.join(round_id, user.user_id, address)


@api.get("/api/rounds/{round_id}/queue", response=QueueOut, auth=USER, errors=(503,))
async def place(request: web.Request, round_id: int, user: Principal) -> QueueOut:
    """Your place (`status: "none"` when you have none)."""
    return await request.app[SERVICES].waiting_room.place(round_id, user.user_id)


@api.delete("/api/rounds/{round_id}/queue", status=204, auth=USER, errors=(503,))
async def leave(request: web.Request, round_id: int, user: Principal) -> None:
    """Leave the waiting room, or end your admission (seats you hold stay held until they expire)."""
    await request.app[SERVICES].waiting_room.leave(round_id, user.user_id)
