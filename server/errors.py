"""Domain errors. Services raise these; the error middleware turns them into docs/API.md's error shape.

Every code the API answers with is a member of `Code` (the OpenAPI document lists them as the `code`
field's values, and docs/API.md "Errors" says when each is answered): a new code is added here first.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    # 400
    INVALID_REQUEST = "invalid_request"
    AMOUNT_MISMATCH = "amount_mismatch"
    AMOUNT_BELOW_MINIMUM = "amount_below_minimum"
    PAYMENT_INVALID = "payment_invalid"
    # 401, 402, 403
    UNAUTHORIZED = "unauthorized"
    PAYMENT_DECLINED = "payment_declined"
    FORBIDDEN = "forbidden"
    NOT_ADMITTED = "not_admitted"
    ADDRESS_LIMIT = "address_limit"
    # 404, 405
    NOT_FOUND = "not_found"
    PAYMENT_NOT_FOUND = "payment_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # 409
    INVALID_STATE = "invalid_state"
    SEAT_UNAVAILABLE = "seat_unavailable"
    HOLD_LIMIT_EXCEEDED = "hold_limit_exceeded"
    HOLD_TIME_EXCEEDED = "hold_time_exceeded"
    WATCH_LIMIT_EXCEEDED = "watch_limit_exceeded"
    NOT_ENOUGH_SEATS = "not_enough_seats"
    SOLD_OUT = "sold_out"
    ALREADY_ISSUED = "already_issued"
    COUPON_UNUSABLE = "coupon_unusable"
    EMAIL_TAKEN = "email_taken"
    ALREADY_REVIEWED = "already_reviewed"
    ALREADY_EXISTS = "already_exists"
    JOB_RUNNING = "job_running"
    TOO_LATE = "too_late"
    SALE_NOT_OPEN = "sale_not_open"
    ALREADY_CHECKED_IN = "already_checked_in"
    TICKET_CANCELED = "ticket_canceled"
    QUEUE_NOT_OPEN = "queue_not_open"
    PAYMENT_ALREADY_PROCESSED = "payment_already_processed"
    PAYMENT_NOT_CANCELABLE = "payment_not_cancelable"
    # 413, 415, 429
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    # 5xx, and an HTTP error of the framework's that has no code of its own
    INTERNAL_ERROR = "internal_error"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    LOGIN_PROVIDER_ERROR = "login_provider_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    HTTP_ERROR = "http_error"


class ApiError(Exception):
    status = 400
    code = Code.INVALID_REQUEST

    def __init__(self, message: str, *, code: Code | None = None, details: dict[str, Any] | None = None,
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
    status, code = 400, Code.INVALID_REQUEST

    def __init__(self, message: str, *, fields: list[str] | None = None, **details: Any):
        super().__init__(message, details={"fields": fields or [], **details})


class Unauthorized(ApiError):
    status, code = 401, Code.UNAUTHORIZED


class Forbidden(ApiError):
    status, code = 403, Code.FORBIDDEN


class NotFound(ApiError):
    status, code = 404, Code.NOT_FOUND


class Conflict(ApiError):
    """409, with the specific code of the conflict (seat_unavailable, sold_out, email_taken, ...)."""
    status = 409

    def __init__(self, message: str, *, code: Code, details: dict[str, Any] | None = None):
        super().__init__(message, code=code, details=details)


class InvalidState(Conflict):
    """409 invalid_state: the thing is not in a state that allows this (details.status where it has one)."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message, code=Code.INVALID_STATE, details=details)


class PayloadTooLarge(ApiError):
    status, code = 413, Code.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ApiError):
    status, code = 415, Code.UNSUPPORTED_MEDIA_TYPE


class RateLimited(ApiError):
    status, code = 429, Code.RATE_LIMITED


class ServiceUnavailable(ApiError):
    status, code = 503, Code.SERVICE_UNAVAILABLE


def require(condition: bool, message: str, *fields: str) -> None:
    """For rules a type cannot say (ends_on before starts_on, a price for every grade...)."""
    if not condition:
        raise InvalidRequest(message, fields=list(fields))
