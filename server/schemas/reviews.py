from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from server.schemas.common import Id, Request, text


class ReviewCreate(Request):
    reservation_id: Id
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    content: Annotated[text(5000), msgspec.Meta(min_length=1)]


class ReviewOut(msgspec.Struct):
    id: int
    performance_id: int
    reservation_id: int
    user_name: str
    rating: int
    content: str
    created_at: datetime
