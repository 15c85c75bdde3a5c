"""Poster images of performances: decoded to know what they are, stored under a new key on every upload."""
from __future__ import annotations

import asyncio
import io
import logging
import uuid

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from server.catalogue.common import lock_or_404, one_or_404
from server.db.database import Database
from server.db.tables import performances, posters
from server.db.types import utcnow
from server.errors import InvalidRequest, UnsupportedMediaType
from server.schemas.catalogue import PosterOut
from server.storage import Storage

log = logging.getLogger(__name__)
MAX_POSTER_BYTES = 5 * 1024 * 1024
MAX_POSTER_SIDE = 4096           # pixels; bounds the memory one decode takes (4096² RGBA is 64 MiB)
ACCEPTED = "PNG, JPEG or WebP"
_FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}


def identify_image(data: bytes) -> tuple[str, str]:
    """(content type, file extension) of a PNG, JPEG or WebP image, which is decoded whole: bytes
    that only start like one are refused, and the client's own claim of a type is not trusted."""
    try:
        with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
            if max(image.size) > MAX_POSTER_SIDE:
                raise InvalidRequest(f"The poster is {image.width}×{image.height} pixels; at most "
                                     f"{MAX_POSTER_SIDE} on each side, please.", fields=["file"],
                                     max_side=MAX_POSTER_SIDE)
            image.load()
            return _FORMATS[image.format]
    # Pillow reports a broken file as any of these (SyntaxError for a broken PNG).
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedMediaType(f"The poster must be a {ACCEPTED} image.",
                                   details={"accepted": ACCEPTED}) from None


class Posters:
    def __init__(self, db: Database, storage: Storage):
        self._db = db
        self._storage = storage

    async def replace(self, performance_id: int, data: bytes) -> PosterOut:
        """Store the new image, point the performance at it, then delete the old image.

        Storage is written outside the database transaction (no lock held during the upload); if the
        performance is gone by the time we commit, the new object is deleted again."""
        content_type, extension = await asyncio.to_thread(identify_image, data)     # (decoding takes a while)
        async with self._db.read_own_writes() as conn:
            await one_or_404(conn, sa.select(performances.c.id).where(performances.c.id == performance_id),
                             "performance")
        key = f"posters/{performance_id}/{uuid.uuid4().hex}.{extension}"
        await self._storage.put(key, data, content_type)
        try:
            async with self._db.begin() as conn:
                # The lock orders concurrent uploads, so each one deletes the object the previous one wrote.
                await lock_or_404(conn, performances, performance_id, "performance")
                old_key = (await conn.execute(sa.select(posters.c.storage_key).where(
                    posters.c.performance_id == performance_id))).scalar()
                await conn.execute(posters.delete().where(posters.c.performance_id == performance_id))
                await conn.execute(posters.insert().values(performance_id=performance_id, storage_key=key,
                                                           content_type=content_type, size=len(data),
                                                           uploaded_at=utcnow()))
        except BaseException:
            await self._storage.delete_quietly(key)
            raise
        if old_key:
            await self._storage.delete_quietly(old_key)
        log.info("poster of performance %s is now %s (%s, %d bytes)", performance_id, key, content_type, len(data))
        return PosterOut(poster_url=self._storage.url(key))
