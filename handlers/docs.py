"""/openapi.json generated from the endpoint declarations and msgspec types; Swagger UI at /docs."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import swagger_ui
from aiohttp import web

from handlers.assets import REVALIDATE, AssetFolder, asset_of, asset_response
from handlers.routing import ADMIN, MULTIPART, OPTIONAL, PUBLIC, STAFF, Endpoint
from server.compression import GZIP
from server.middleware import json_response
from server.schemas.common import ErrorBody

SWAGGER_STATIC = Path(swagger_ui.__file__).parent / "static"
_STATUS_TEXT = {400: "Invalid request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
                409: "Conflict", 413: "Payload too large", 415: "Unsupported media type",
                429: "Rate limited", 502: "Upstream provider error", 503: "Unavailable"}

SWAGGER_PREFIX = "/docs/static"
# The bundle's and the style sheet's URLs name their content (?v=<hash>): a browser keeps them for a
# year and the page itself, which links them, revalidates.
SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ticket Blue API</title>
<link rel="stylesheet" href="{css}"></head>
<body><div id="swagger-ui" data-spec="/openapi.json"></div>
<script src="{bundle}"></script>
<script src="/docs/init.js"></script>
</body></html>"""
# A file of its own, not inline: the Content-Security-Policy allows no inline scripts.
SWAGGER_INIT = """const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({url: root.dataset.spec, domNode: root, deepLinking: true});
"""


def openapi(endpoints: list[Endpoint], version: str) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for e in endpoints:
        types += [t for t in (e.body, e.query, e.response) if t is not None]
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    schema_of = dict(zip(map(id, types), schemas))
    paths: dict[str, dict] = {}
    for e in endpoints:
        path = _openapi_path(e.path)
        paths.setdefault(path, {})[e.method.lower()] = _operation(e, schema_of, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ticket Blue", "version": version,
                 "description": "Realtime ticket booking. Errors always have the shape "
                                "`{\"error\": {\"code\", \"message\", \"details\"}}`."},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "token_query": {"type": "apiKey", "in": "query", "name": "token"}}},
    }


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


def _operation(e: Endpoint, schema_of: dict[int, Any], components: dict) -> dict[str, Any]:
    op: dict[str, Any] = {"tags": [e.tag], "summary": e.summary, "operationId": e.handler.__name__}
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
              for p in e.path_params]
    if e.query is not None:
        props = components[e.query.__name__]
        required = set(props.get("required", []))
        params += [{"name": n, "in": "query", "required": n in required, "schema": s}
                   for n, s in props["properties"].items()]
    if params:
        op["parameters"] = params
    if e.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_of[id(e.body)]}}}
    elif e.content_type:
        op["requestBody"] = {"required": True, "content": {e.content_type: {"schema": {
            "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}
    ok: dict[str, Any] = {"description": "OK" if e.status < 300 else "Done"}
    if e.response is not None:
        ok["content"] = {"application/json": {"schema": schema_of[id(e.response)]}}
    op["responses"] = {str(e.status): ok}
    if e.auth not in (PUBLIC, OPTIONAL):
        op["security"] = [{"bearer": []}, {"token_query": []}] if e.token_in_query else [{"bearer": []}]
    for status in error_statuses(e):
        op["responses"][str(status)] = {"description": _STATUS_TEXT.get(status, "Error"), "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    if "429" in op["responses"]:
        op["responses"]["429"]["headers"] = {"Retry-After": {
            "description": "Seconds until the limit has room again", "schema": {"type": "integer", "minimum": 1}}}
    return op


def error_statuses(e: Endpoint) -> list[int]:
    """Every error status the endpoint can answer: what its declaration implies, and its own `errors`.
    (405 is not an operation's answer: it answers the methods that are not operations.)"""
    statuses = set(e.errors) | {400}                       # the query, the body or a rule
    if e.auth != PUBLIC:
        statuses.add(401)                                   # no token where one is needed, or a bad one
    if e.auth in (ADMIN, STAFF):
        statuses.add(403)
    if e.path_params:
        statuses.add(404)
    if e.body is not None or e.content_type:
        statuses.add(413)                                   # over the body limit
    if e.content_type == MULTIPART:
        statuses.add(415)                                   # a file of a type it does not take
    if e.limits:
        statuses |= {429, 503}                              # over a limit; the limits' storage is down
    return sorted(statuses)


def setup(app: web.Application, endpoints: list[Endpoint], version: str) -> None:
    # Built and gzipped once, not for every request (gzip as every large JSON answer): the routes do not change.
    spec = asset_of(json_response(openapi(endpoints, version)).body, "application/json", codings=(GZIP,))

    async def openapi_json(request: web.Request) -> web.Response:
        return asset_response(request, spec)

    swagger = AssetFolder(SWAGGER_STATIC)

    async def docs(request: web.Request) -> web.Response:
        page = SWAGGER_PAGE.format(css=await swagger.versioned(SWAGGER_PREFIX, "swagger-ui.css"),
                                   bundle=await swagger.versioned(SWAGGER_PREFIX, "swagger-ui-bundle.js"))
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": REVALIDATE})

    async def docs_init(request: web.Request) -> web.Response:
        return web.Response(text=SWAGGER_INIT, content_type="text/javascript")

    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", docs)
    app.router.add_get("/docs/init.js", docs_init)
    app.router.add_get(SWAGGER_PREFIX + "/{path:.+}", swagger.route())
