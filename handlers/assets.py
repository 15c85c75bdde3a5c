"""Files sent as they are (the pages, their CSS and modules, Swagger UI's bundle): read once, compressed
once (gzip, and brotli when the package is there), kept in memory, validated by ETag.

Caching, and why it is safe:
- Every file is sent with an ETag (a hash of its content; each coding its own tag, as a cache keeps
  one copy per coding: `Vary: Accept-Encoding`). A matching If-None-Match is answered 304.
- A URL that names the content, `?v=<the file's current hash>` (see `versioned`), may be kept for a
  year without asking (`immutable`): a new file has a new hash, so a new URL.
- Every other URL is `no-cache`: browsers keep the file but ask each time (a 304 when nothing
  changed). The pages and their ES modules are like that: the modules import each other by fixed
  paths, so one module given a year's lifetime could stay old while the others moved on, and the
  same module under two URLs would run twice.
A file that changes on disk (a deploy, an edit while developing) is read again on its next request.
"""
from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import hdrs, web

from server.compression import COMPRESSORS, IDENTITY, add_vary, choose_coding
from server.request_ids import shared_task

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
VERSION_PARAM = "v"
COMPRESS_MIN_BYTES = 256
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml")
# Text types are UTF-8 in this repository (the modules hold Korean): say so rather than let a browser guess.
CHARSET_TYPES = ("text/", "application/javascript")


@dataclass(frozen=True)
class Asset:
    content_type: str
    digest: str                       # of the content; the ETag and the `?v=` of versioned URLs
    bodies: dict[str, bytes]          # coding -> bytes: identity, and each coding that came out smaller
    stamp: tuple[int, int]            # (mtime_ns, size) of the file it was read from

    def etag(self, coding: str) -> str:
        return f'"{self.digest}"' if coding == IDENTITY else f'"{self.digest}-{coding}"'


def _content_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(CHARSET_TYPES) else kind


def _read(path: Path, stamp: tuple[int, int]) -> Asset:
    """Read and compress one file (in a worker thread: the Swagger bundle takes a fifth of a second)."""
    return asset_of(path.read_bytes(), _content_type(path), stamp)


def asset_of(data: bytes, content_type: str, stamp: tuple[int, int] = (0, 0), codings=tuple(COMPRESSORS)) -> Asset:
    """Bytes made once and served many times (a file's, or the OpenAPI document's), compressed once in
    each of `codings`."""
    bodies = {IDENTITY: data}
    if len(data) >= COMPRESS_MIN_BYTES and content_type.startswith(COMPRESSIBLE):
        for coding in codings:
            packed = COMPRESSORS[coding](data)
            if len(packed) < len(data):
                bodies[coding] = packed
    return Asset(content_type, hashlib.sha256(data).hexdigest()[:20], bodies, stamp)


class AssetFolder:
    """The files under one folder, served under one URL prefix."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._assets: dict[Path, Asset] = {}
        self._loading: dict[Path, asyncio.Future[Asset]] = {}

    def _locate(self, relative: str) -> Path | None:
        """The file `relative` names under the root; None for anything else (a folder, a path that
        climbs out, a hidden file)."""
        if not relative or any(part.startswith(".") for part in relative.split("/")):
            return None
        path = (self.root / relative).resolve()
        return path if path.is_relative_to(self.root) and path.is_file() else None

    async def get(self, relative: str) -> Asset | None:
        path = self._locate(relative)
        if path is None:
            return None
        try:
            info = path.stat()
        except OSError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        known = self._assets.get(path)
        if known is not None and known.stamp == stamp:
            return known
        # One read per change, however many requests ask for the file meanwhile.
        loading = self._loading.get(path)
        if loading is None:
            loading = self._loading[path] = shared_task(asyncio.to_thread(_read, path, stamp))
            loading.add_done_callback(lambda _: self._loading.pop(path, None))
        try:
            asset = await asyncio.shield(loading)
        except OSError:               # gone between the stat and the read
            return None
        self._assets[path] = asset
        return asset

    async def versioned(self, prefix: str, relative: str) -> str:
        """The URL of a file that names its content, for a page to link: cacheable for a year."""
        asset = await self.get(relative)
        if asset is None:
            raise FileNotFoundError(self.root / relative)
        return f"{prefix}/{relative}?{VERSION_PARAM}={asset.digest}"

    def route(self):
        """A handler for `<prefix>/{path:.+}`."""
        async def serve(request: web.Request) -> web.Response:
            return await self.respond(request, request.match_info["path"])
        return serve

    async def respond(self, request: web.Request, relative: str) -> web.Response:
        asset = await self.get(relative)
        if asset is None:
            raise web.HTTPNotFound()
        return asset_response(request, asset)


def asset_response(request: web.Request, asset: Asset) -> web.Response:
    coding = choose_coding(request, asset.bodies)
    etag = asset.etag(coding)
    immutable = request.query.get(VERSION_PARAM) == asset.digest
    headers = {hdrs.ETAG: etag, hdrs.CACHE_CONTROL: IMMUTABLE if immutable else REVALIDATE}
    if _matches(request.headers.get(hdrs.IF_NONE_MATCH), etag):
        response = web.Response(status=304, headers=headers)
    else:
        if coding != IDENTITY:
            headers[hdrs.CONTENT_ENCODING] = coding
        response = web.Response(body=asset.bodies[coding], headers=headers)
        response.headers[hdrs.CONTENT_TYPE] = asset.content_type
    if len(asset.bodies) > 1:
        add_vary(response)
    return response


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2): `*`, or any listed tag, W/ or not."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags

