"""Reviews of a performance, by people who booked it."""
from __future__ import annotations

from aiohttp import web

from handlers.routing import USER, Api
from server.schemas.common import Page, PageQuery
from server.schemas.reviews import ReviewCreate, ReviewOut
from server.tokens import Principal
from server.wiring import SERVICES

api = Api("reviews")


@api.post("/api/performances/{performance_id}/reviews", body=ReviewCreate, response=ReviewOut, status=201,
          auth=USER, errors=(404, 409))
async def create_review(request: web.Request, performance_id: int, body: ReviewCreate,
                        user: Principal) -> ReviewOut:
    """Review it with your own confirmed or attended reservation of it; once per reservation."""
    return await request.app[SERVICES].reviews.create(user.user_id, performance_id, body)


@api.get("/api/performances/{performance_id}/reviews", query=PageQuery, response=Page[ReviewOut], errors=(404,))
async def list_reviews(request: web.Request, performance_id: int, query: PageQuery) -> Page[ReviewOut]:
    """Its reviews, newest first."""
    return await request.app[SERVICES].reviews.list(performance_id, query)
