"""Seats of a round: the live map, availability, holds and admin blocks."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, OPTIONAL, USER, Api
from server.schemas.seating import (AvailabilityOut, BestSeatsRequest, BlocksOut, HoldOut, RoundSeatsOut,
                                    SeatIdsRequest, WatchCreate, WatchOut)
from server.tokens import Principal
from server.wiring import SERVICES

api = Api("seats")
# (503 on each: every call here asks the seat engine, which may not answer: Redis down, or failing over)


@api.get("/api/rounds/{round_id}/seats", response=RoundSeatsOut, auth=OPTIONAL, errors=(503,))
async def round_seats(request: web.Request, round_id: int, user: Principal | None) -> RoundSeatsOut:
    """Every seat of the round with its price and status (`mine` for the caller's own holds)."""
    return await request.app[SERVICES].seating.round_seats(round_id, user.user_id if user else None)


@api.get("/api/rounds/{round_id}/availability", response=AvailabilityOut, errors=(503,))
async def availability(request: web.Request, round_id: int) -> AvailabilityOut:
    """How many seats are available, held and sold, in total and by grade."""
    return await request.app[SERVICES].seating.availability(round_id)


# (429: the holds' rate limit, which the seat engine counts with the hold itself: server/ratelimit.py;
# 403: not admitted through the round's waiting room)
@api.post("/api/rounds/{round_id}/holds", body=SeatIdsRequest, response=HoldOut, auth=USER,
          errors=(403, 409, 429, 503))
async def hold(request: web.Request, round_id: int, body: SeatIdsRequest, user: Principal) -> HoldOut:
    """Hold seats, all or nothing; holding a seat you hold extends it."""
    return await request.app[SERVICES].seating.hold(round_id, user.user_id, body.seat_ids)


@api.post("/api/rounds/{round_id}/holds/best", body=BestSeatsRequest, response=HoldOut, auth=USER,
          errors=(403, 409, 429, 503))
async def hold_best(request: web.Request, round_id: int, body: BestSeatsRequest, user: Principal) -> HoldOut:
    """Hold the best `count` seats for you: together in a row nearest the stage if possible."""
    return await request.app[SERVICES].seating.hold_best(round_id, user.user_id, body)


@api.delete("/api/rounds/{round_id}/holds", body=SeatIdsRequest, status=204, auth=USER, errors=(429, 503))
async def release(request: web.Request, round_id: int, body: SeatIdsRequest, user: Principal) -> None:
    """Release held seats; seats you do not hold are ignored."""
    await request.app[SERVICES].seating.release(round_id, user.user_id, body.seat_ids)


@api.post("/api/rounds/{round_id}/blocks", body=SeatIdsRequest, response=BlocksOut, auth=ADMIN, errors=(409, 503))
async def block(request: web.Request, round_id: int, body: SeatIdsRequest) -> BlocksOut:
    """Take seats off sale for this round (held seats lose their hold; sold seats cannot be blocked)."""
    return BlocksOut(seat_ids=await request.app[SERVICES].seating.block(round_id, body.seat_ids))


@api.delete("/api/rounds/{round_id}/blocks", body=SeatIdsRequest, status=204, auth=ADMIN, errors=(503,))
async def unblock(request: web.Request, round_id: int, body: SeatIdsRequest) -> None:
    """Put blocked seats back on sale."""
    await request.app[SERVICES].seating.unblock(round_id, body.seat_ids)


@api.post("/api/rounds/{round_id}/watches", body=WatchCreate, response=list[WatchOut], status=201, auth=USER,
          errors=(409,))
async def watch(request: web.Request, round_id: int, body: WatchCreate, user: Principal) -> list[WatchOut]:
    """Be told (SSE `seat.available`) when these seats, or any seat of a grade, are available again."""
    return await request.app[SERVICES].seat_watch.watch(user.user_id, round_id, body)


@api.get("/api/rounds/{round_id}/watches", response=list[WatchOut], auth=USER)
async def my_watches(request: web.Request, round_id: int, user: Principal) -> list[WatchOut]:
    """Your watches in this round."""
    return await request.app[SERVICES].seat_watch.mine(user.user_id, round_id)


@api.delete("/api/rounds/{round_id}/watches", status=204, auth=USER)
async def stop_watching(request: web.Request, round_id: int, user: Principal) -> None:
    """End your watches in this round."""
    await request.app[SERVICES].seat_watch.stop(user.user_id, round_id)
