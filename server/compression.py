"""Content codings: which one a client accepts, the compressors, and gzip for large JSON answers.

Static files are compressed once and kept (handlers/assets.py); a JSON answer is compressed as it
leaves, when it is large enough to be worth the CPU (a seat map, the OpenAPI document, a page of
bookings) and the client said it takes gzip.
"""
from __future__ import annotations

import gzip

import brotli
from aiohttp import hdrs, web
from aiohttp.web import ContentCoding

IDENTITY, GZIP, BROTLI = "identity", "gzip", "br"
JSON_COMPRESS_MIN_BYTES = 1024    # below about a packet, compressing saves nothing worth its time
# Static files are compressed once and kept, so both spend more CPU than a live answer would. Brotli
# 9, not 11: 11 takes about 3 s on the 1.45 MB Swagger bundle for 8% less (9: 0.13 s, 359 KB of 1485 KB).
GZIP_LEVEL = 9
BROTLI_QUALITY = 9
COMPRESSORS = {GZIP: lambda data: gzip.compress(data, GZIP_LEVEL, mtime=0),
               BROTLI: lambda data: brotli.compress(data, quality=BROTLI_QUALITY)}
PREFERENCE = (BROTLI, GZIP)       # smallest first, when the client takes both


def accepted_codings(header: str) -> set[str]:
    """The content codings an Accept-Encoding value allows (RFC 9110 12.5.3): q=0 refuses one, `*`
    stands for the others. Identity is acceptable unless refused. Anything unparsable counts as not
    offered: a client gets identity rather than a coding it might not read."""
    accepted, refused, wildcard = set(), set(), False
    for item in header.lower().split(","):
        name, _, params = item.partition(";")
        name = name.strip()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name == "*":
            wildcard = quality > 0
        elif quality > 0:
            accepted.add(name)
        else:
            refused.add(name)
    if wildcard:
        accepted |= set(PREFERENCE) - refused
    if IDENTITY not in refused:
        accepted.add(IDENTITY)
    return accepted


def choose_coding(request: web.BaseRequest, available) -> str:
    """The smallest of the `available` codings the request accepts; identity when none is."""
    accepted = accepted_codings(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    return next((coding for coding in PREFERENCE if coding in available and coding in accepted), IDENTITY)


def add_vary(response: web.StreamResponse, header: str = hdrs.ACCEPT_ENCODING) -> None:
    """A cache keeps one copy per coding: say that the answer depends on Accept-Encoding."""
    present = [v.strip().lower() for v in response.headers.get(hdrs.VARY, "").split(",") if v.strip()]
    if header.lower() not in present:
        response.headers[hdrs.VARY] = ", ".join([*filter(None, [response.headers.get(hdrs.VARY)]), header])


@web.middleware
async def compress_large_json(request: web.Request, handler) -> web.StreamResponse:
    """gzip a JSON answer over JSON_COMPRESS_MIN_BYTES for a client that takes gzip. Streams (SSE),
    sockets and files are left alone: only a whole JSON body is compressed, in one go."""
    response = await handler(request)
    if (type(response) is web.Response and response.content_type == "application/json"
            and isinstance(response.body, bytes) and len(response.body) >= JSON_COMPRESS_MIN_BYTES
            and hdrs.CONTENT_ENCODING not in response.headers):
        add_vary(response)
        if choose_coding(request, (GZIP,)) == GZIP:
            response.enable_compression(ContentCoding.gzip)
    return response
