"""Domain errors. Services raise these; the error middleware turns them into docs/API.md's error shape."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.status = status or type(self).status
        self.details = details or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidRequest(ApiError):
    status, code = 400, "invalid_request"

    def __init__(self, message: str, *, fields: list[str] | None = None, **details: Any):
        super().__init__(message, details={"fields": fields or [], **details})


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    """409; always give a specific code (seat_unavailable, sold_out, email_taken, invalid_state...)."""
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


def require(condition: bool, message: str, *fields: str) -> None:
    """For rules a type cannot say (ends_on before starts_on, a price for every grade...)."""
    if not condition:
        raise InvalidRequest(message, fields=list(fields))
