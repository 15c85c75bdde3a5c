from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are rejected, not silently dropped."""


class Query(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    """Base of query strings (unknown parameters are ignored, as browsers add their own)."""


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
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class Status(msgspec.Struct):
    status: str


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
