"""Posters for tests: real images, uploads through the API, and what the media folder holds."""
from __future__ import annotations

import io
from pathlib import Path

import aiohttp
from PIL import Image


def image(format: str, *, size: tuple[int, int] = (30, 40)) -> bytes:
    """A real, decodable image of one colour."""
    out = io.BytesIO()
    Image.new("RGB", size, (24, 70, 199)).save(out, format=format)
    return out.getvalue()


PNG, JPEG, WEBP = image("PNG"), image("JPEG"), image("WEBP")
GIF = image("GIF")


def upload(data: bytes, *, field: str = "file", claimed_type: str = "image/png") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("note", "the file follows")
    form.add_field(field, data, filename="poster.bin", content_type=claimed_type)
    return form


async def put_poster(client, token: str, performance_id: int, data: bytes, **kw):
    return await client.put(f"/api/performances/{performance_id}/poster", token=token, data=upload(data, **kw))


def media_files(settings) -> list[Path]:
    return sorted(p for p in settings.resolved_media_dir.rglob("*") if p.is_file())
