"""Declaring an endpoint: its auth, body and query types, response type and status in one place.

    api = Api("halls")

    @api.post("/api/halls", body=HallCreate, response=HallOut, status=201, auth=ADMIN)
    async def create_hall(request, body: HallCreate, user: Principal) -> HallOut: ...

The wrapper authenticates (a signed token of an account that may still use it), decodes with
msgspec (400 with `details.fields` on bad input), counts the request against the rate limits it
declared (`limits=(LOGIN_PER_ADDRESS, ...)`, 429), calls the handler with what it declared, and
encodes the result. The same declarations generate /openapi.json, so the documentation cannot
drift from the code.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import msgspec
from aiohttp import web

from server.errors import Forbidden, InvalidRequest, NotFound, Unauthorized
from server.middleware import json_response
from server.ratelimit import ACCOUNT, ADDRESS, EMAIL, Limit, email_key
from server.schemas.common import PATTERN_MEANINGS
from server.tokens import Principal
from server.wiring import RATE_LIMITS, SERVICES, TOKENS

PUBLIC, OPTIONAL, USER, ADMIN, STAFF = "public", "optional", "user", "admin", "staff"     # STAFF: staff or admin
MULTIPART = "multipart/form-data"
MAX_ID = 2**31 - 1
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_ID = re.compile(r"[0-9]{1,10}")        # 2³¹−1 has 10 digits; more would only be parsed to be refused


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    summary: str
    auth: str = PUBLIC
    body: type | None = None
    query: type | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    limits: tuple[Limit, ...] = ()       # counted after authentication and decoding, before the handler
    token_in_query: bool = False
    content_type: str | None = None      # for non-JSON bodies (multipart uploads)
    tag: str = ""
    path_params: list[str] = field(default_factory=list)


@dataclass
class Api:
    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(self, method: str, path: str, **options) -> Callable:
        def register(handler):
            summary = options.pop("summary", None) or (inspect.getdoc(handler) or handler.__name__).splitlines()[0]
            endpoint = Endpoint(method, path, handler, summary, tag=self.tag,
                                path_params=_PATH_PARAM.findall(path), **options)
            self.endpoints.append(endpoint)
            return handler
        return register

    def get(self, path, **o): return self.route("GET", path, **o)
    def post(self, path, **o): return self.route("POST", path, **o)
    def put(self, path, **o): return self.route("PUT", path, **o)
    def patch(self, path, **o): return self.route("PATCH", path, **o)
    def delete(self, path, **o): return self.route("DELETE", path, **o)

    def add_to(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint))


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    wants = set(inspect.signature(endpoint.handler).parameters)

    async def handle(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        principal = await authenticate(request, endpoint.auth, token_in_query=endpoint.token_in_query)
        if "user" in wants:
            kwargs["user"] = principal
        for name in endpoint.path_params:
            kwargs[name] = path_id(request, name)
        if endpoint.query is not None:
            kwargs["query"] = decode_query(request, endpoint.query)
        body = None
        if endpoint.body is not None:
            body = kwargs["body"] = await decode_body(request, endpoint.body)
        await rate_limit(request, endpoint.limits, principal, body)
        result = await endpoint.handler(request, **kwargs)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204 if endpoint.status == 200 else endpoint.status)
        return json_response(result, status=endpoint.status)

    handle.__name__ = endpoint.handler.__name__
    return handle


async def authenticate(request: web.Request, auth: str, *, token_in_query: bool = False) -> Principal | None:
    """The caller, from `Authorization: Bearer` (or `?token=` where browsers cannot set headers). A public
    route looks at no token (its Authorization header may be meant for it, as /metrics' is)."""
    if auth == PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if token is None and token_in_query:
        token = request.query.get("token")
    if not token:
        if auth == OPTIONAL:
            return None
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access_token>`.")
    principal = request.app[TOKENS].verify(token)     # raises Unauthorized
    await still_valid(request, principal)
    if auth == ADMIN and principal.role != "admin":
        raise Forbidden("This needs an admin account.")
    if auth == STAFF and principal.role not in ("admin", "staff"):
        raise Forbidden("This needs a staff or admin account.")
    return principal


async def still_valid(request: web.Request, principal: Principal) -> None:
    """Unauthorized once the account is deleted or the token was ended by a logout or password change;
    asked again by connections that outlive their first request (each WebSocket hold, each SSE write)."""
    await request.app[SERVICES].revocation.check(principal)


async def rate_limit(request: web.Request, limits: tuple[Limit, ...], principal: Principal | None,
                     body: Any = None) -> None:
    """Count this request against each of `limits` (429 `rate_limited` when one is used up). A
    per-account limit does not apply to an anonymous caller; a per-e-mail one counts `body.email`."""
    rate_limits = request.app[RATE_LIMITS]
    for limit in limits:
        if limit.per == ADDRESS:
            await rate_limits.hit(limit, rate_limits.address(request))
        elif limit.per == ACCOUNT and principal is not None:
            await rate_limits.hit(limit, principal.user_id)
        elif limit.per == EMAIL:
            await rate_limits.hit(limit, email_key(body.email))


def path_id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    # ASCII digits only: str.isdigit() and int() also take '²', '①' and the full-width '１'.
    if not _ID.fullmatch(raw) or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"No such {name.removesuffix('_id').replace('_', ' ')}.")
    return int(raw)


async def decode_body(request: web.Request, type_: type) -> Any:
    raw = await request.read()        # over client_max_size: 413 from aiohttp, shaped by middleware
    if not raw.strip():
        raise InvalidRequest("A JSON body is required.", fields=[])
    return decode_json(raw, type_)


def decode_json(raw: bytes | str, type_: type) -> Any:
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"Malformed JSON: {exc}", fields=[]) from None


def decode_query(request: web.Request, type_: type) -> Any:
    try:
        return msgspec.convert(dict(request.query), type_, strict=False)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None


_AT = re.compile(r" - at `\$\.?(.*)`$")
# A field msgspec names in the message itself, or one a struct's own check names (schemas/common.py).
_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`|^`([^`]+)`: ")
_REGEX = re.compile(r"`str` matching regex '(.*)'$")


def validation_error(exc: msgspec.ValidationError) -> InvalidRequest:
    """msgspec's message names the path (`$.sections[0].rows`); that becomes `details.fields`."""
    message = str(exc)
    at = _AT.search(message)
    path = at.group(1) if at else ""
    named = _FIELD.search(message)
    if named:
        name = named.group(1) or named.group(2)
        path = f"{path}.{name}" if path else name
    text = _AT.sub("", message)
    if named and named.group(2):
        text = text[named.end():]
    pattern = _REGEX.search(text)
    if pattern:         # say what the pattern means rather than quote it
        meaning = PATTERN_MEANINGS.get(pattern.group(1).encode().decode("unicode_escape"))
        text = text[:pattern.start()] + meaning if meaning else text
    return InvalidRequest(f"{text} (at {path})" if path else text, fields=[path] if path else [])

