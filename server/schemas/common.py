"""What every request type shares: its base classes, paging, and the text, time and id types.

Text comes in two kinds, each refusing NUL and the other control characters (they are invisible,
break logs, mail and CSV exports, and no name or review needs them): `Line` for names, e-mail
addresses and postal addresses (one line, not only blanks) and `Text` for descriptions and
reviews (newlines and tabs allowed). Times and dates in requests are between `EARLIEST` and
`LATEST`, far from the ends of Python's range, so converting one to another zone or adding a
show's duration cannot overflow; times must carry their offset.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

import msgspec

from server.errors import Code

T = TypeVar("T")
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
_EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)
_LATEST_TIME = datetime(3000, 1, 1, tzinfo=timezone.utc)


def _check_times(struct: msgspec.Struct) -> None:
    """msgspec.Meta has no range for dates and times, so every request struct checks its own here.
    A ValueError becomes msgspec's ValidationError; routing.validation_error names the field."""
    for name in struct.__struct_fields__:
        value = getattr(struct, name)
        if isinstance(value, datetime):
            early, late = _EARLIEST_TIME, _LATEST_TIME
            if value.tzinfo is None:          # (naive times are refused by the type where it says tz=True)
                early, late = early.replace(tzinfo=None), late.replace(tzinfo=None)
            if not early <= value < late:
                raise ValueError(f"`{_wire_name(struct, name)}`: Expected a time in the years "
                                 f"{EARLIEST.year}..{LATEST.year}")
        elif isinstance(value, date) and not EARLIEST <= value <= LATEST:
            raise ValueError(f"`{_wire_name(struct, name)}`: Expected a date from {EARLIEST} to {LATEST}")


def _wire_name(struct: msgspec.Struct, name: str) -> str:
    return struct.__struct_encode_fields__[struct.__struct_fields__.index(name)]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are rejected, not silently dropped."""

    def __post_init__(self) -> None:
        _check_times(self)


class Query(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    """Base of query strings (unknown parameters are ignored, as browsers add their own)."""

    def __post_init__(self) -> None:
        _check_times(self)


def given_fields(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually contained (``None`` included: it clears an optional field)."""
    return {name: value for name in update.__struct_fields__
            if (value := getattr(update, name)) is not msgspec.UNSET}


def page_offset(page: int, size: int) -> int:
    """Rows before page `page` (counted from 1) of `size` rows."""
    return (page - 1) * size


class PageQuery(Query):
    page: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1
    size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20

    @property
    def offset(self) -> int:
        return page_offset(self.page, self.size)


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int


class ErrorDetail(msgspec.Struct):
    code: Code                     # every code the API answers with (server/errors.py)
    message: str
    details: dict[str, Any]


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class Status(msgspec.Struct):
    status: str


# ---- text -----------------------------------------------------------------------------------------
_CONTROL = r"\x00-\x1f\x7f-\x9f"                        # C0, DEL and C1
_TEXT_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"     # the same less tab, line feed, carriage return
LINE_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"
TEXT_PATTERN = rf"^[^{_TEXT_CONTROL}]*$"
# No surrounding blanks either: "VIP" and "VIP " would be two grades that look like one.
TRIMMED_PATTERN = rf"^[^\s{_CONTROL}]([^{_CONTROL}]*[^\s{_CONTROL}])?$"
EMAIL_PATTERN = rf"^[^@\s{_CONTROL}]+@[^@\s{_CONTROL}]+\.[^@\s{_CONTROL}]+$"

# What each pattern means, for error messages (msgspec's own message quotes the regex).
PATTERN_MEANINGS = {
    LINE_PATTERN: "one line of text, not only blanks, without control characters",
    TEXT_PATTERN: "text without control characters (newlines and tabs are fine)",
    TRIMMED_PATTERN: "one line of text without surrounding blanks or control characters",
    EMAIL_PATTERN: "an e-mail address like kim@example.com",
}


def line(max_length: int, **meta: Any) -> Any:
    """A single line of text of 1..max_length characters (names, addresses)."""
    return Annotated[str, msgspec.Meta(min_length=1, max_length=max_length, pattern=LINE_PATTERN, **meta)]


def text(max_length: int, **meta: Any) -> Any:
    """Text that may span lines (descriptions, reviews)."""
    return Annotated[str, msgspec.Meta(max_length=max_length, pattern=TEXT_PATTERN, **meta)]


Name = line(200)

# The languages the server speaks to a person in (mail, SSE messages), Korean first and by default.
Language = Literal["ko", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "ko"
Email = Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=254, examples=["kim@example.com"])]

# ---- times, dates, ids ---------------------------------------------------------------------------
Instant = Annotated[datetime, msgspec.Meta(
    tz=True, examples=["2026-12-24T19:30:00+09:00"],
    description=f"RFC 3339 with an offset, in the years {EARLIEST.year}..{LATEST.year}")]
Day = Annotated[date, msgspec.Meta(description=f"From {EARLIEST} to {LATEST}")]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
