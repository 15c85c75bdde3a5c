"""Performances, their cast and their poster (reads are public, writes are for admins)."""
from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from handlers.routing import ADMIN, MULTIPART, Api
from server.errors import InvalidRequest, PayloadTooLarge
from server.posters import MAX_POSTER_BYTES
from server.schemas.catalogue import (CastAdd, CastMember, PerformanceCreate, PerformanceOut, PerformanceQuery,
                                      PerformanceUpdate, PosterOut)
from server.schemas.common import Page
from server.wiring import SERVICES

api = Api("performances")
CHUNK_BYTES = 64 * 1024


@api.get("/api/performances", query=PerformanceQuery, response=Page[PerformanceOut])
async def list_performances(request: web.Request, query: PerformanceQuery) -> Page[PerformanceOut]:
    """Performances by first day; filters `category`, `hall_id`, `from`/`to` (running in that range), `q`."""
    return await request.app[SERVICES].performances.list(query)


@api.post("/api/performances", body=PerformanceCreate, response=PerformanceOut, status=201, auth=ADMIN,
          errors=(404,))
async def create_performance(request: web.Request, body: PerformanceCreate) -> PerformanceOut:
    """Create a performance with a price for every seat grade of its hall (404 for an unknown hall_id)."""
    return await request.app[SERVICES].performances.create(body)


@api.get("/api/performances/{performance_id}", response=PerformanceOut)
async def get_performance(request: web.Request, performance_id: int) -> PerformanceOut:
    """One performance with prices, poster and cast."""
    return await request.app[SERVICES].performances.get(performance_id)


@api.patch("/api/performances/{performance_id}", body=PerformanceUpdate, response=PerformanceOut, auth=ADMIN,
           errors=(409,))
async def update_performance(request: web.Request, performance_id: int, body: PerformanceUpdate) -> PerformanceOut:
    """Change the given fields; `prices` replaces the whole list and is checked against the hall."""
    return await request.app[SERVICES].performances.update(performance_id, body)


@api.delete("/api/performances/{performance_id}", status=204, auth=ADMIN, errors=(409,))
async def delete_performance(request: web.Request, performance_id: int) -> None:
    """Delete a performance with its rounds, cast, prices and poster; 409 invalid_state once booked."""
    await request.app[SERVICES].performances.delete(performance_id)


@api.post("/api/performances/{performance_id}/performers", body=CastAdd, response=CastMember, status=201,
          auth=ADMIN, errors=(409,))
async def add_cast_member(request: web.Request, performance_id: int, body: CastAdd) -> CastMember:
    """Add a performer to the cast; 409 already_exists if they are in it already."""
    return await request.app[SERVICES].cast.add(performance_id, body)


@api.delete("/api/performances/{performance_id}/performers/{performer_id}", status=204, auth=ADMIN)
async def remove_cast_member(request: web.Request, performance_id: int, performer_id: int) -> None:
    """Take a performer out of the cast; 404 if they are not in it."""
    await request.app[SERVICES].cast.remove(performance_id, performer_id)


@api.put("/api/performances/{performance_id}/poster", response=PosterOut, auth=ADMIN,
         content_type=MULTIPART)
async def put_poster(request: web.Request, performance_id: int) -> PosterOut:
    """Upload (or replace) the poster: multipart field `file`, a PNG, JPEG or WebP image of at most 5 MiB."""
    data = await read_file_field(request, "file", MAX_POSTER_BYTES)
    return await request.app[SERVICES].posters.replace(performance_id, data)


async def read_file_field(request: web.Request, name: str, limit: int) -> bytes:
    """The bytes of one multipart field, read in chunks and refused (413) as soon as they pass ``limit``.
    The app's client_max_size does not apply to a streamed body, so this is the only limit."""
    if request.content_type != MULTIPART:
        raise InvalidRequest(f"Send multipart/form-data with the file in field `{name}`.", fields=[name])
    try:
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name != name:
                continue                  # other fields are skipped (the reader drains them)
            data = bytearray()
            while chunk := await part.read_chunk(CHUNK_BYTES):
                data += chunk
                if len(data) > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit} bytes.", details={"limit_bytes": limit})
            return bytes(data)
    # aiohttp's multipart reader says "malformed" with these: ValueError (no boundary, a body that
    # does not start with it) and BadHttpMessage (a part's header lines).
    except (ValueError, BadHttpMessage):
        raise InvalidRequest(f"The multipart body is malformed; send the file in field `{name}` of a "
                             f"multipart/form-data body with a boundary.", fields=[name]) from None
    raise InvalidRequest(f"The multipart body has no field `{name}`.", fields=[name])
