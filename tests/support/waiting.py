"""Rounds with a sale opening and a waiting room, through the public API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.support.api import eventually


def moment(seconds_from_now: float) -> str:
    """An RFC 3339 time that many seconds from now (to the millisecond)."""
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now)).isoformat(timespec="milliseconds")


async def set_sale(client, admin: str, round_id: int, opens_in: float | None) -> dict:
    """Move the round's sale opening to that many seconds from now (None: on sale)."""
    reply = await client.patch(f"/api/rounds/{round_id}", token=admin,
                               json={"sale_opens_at": None if opens_in is None else moment(opens_in)})
    assert reply.status == 200, reply.json
    return reply.json


async def set_room(client, admin: str, round_id: int, **rules) -> dict:
    body = {"enabled": True, "max_active": 5, "admit_per_minute": 1000, "prequeue_minutes": 120} | rules
    reply = await client.put(f"/api/rounds/{round_id}/waiting-room", token=admin, json=body)
    assert reply.status == 200, reply.json
    return reply.json


async def place_of(client, round_id: int, token: str) -> dict:
    reply = await client.get(f"/api/rounds/{round_id}/queue", token=token)
    assert reply.status == 200, reply.json
    return reply.json


async def admitted(client, round_id: int, token: str, timeout: float = 15) -> dict:
    """Wait until the user's admission runs (the admission steps run in the background)."""
    async def probe():
        place = await place_of(client, round_id, token)
        return place if place["status"] == "admitted" else None
    return await eventually(probe, timeout=timeout, every=0.05)


async def queued(client, admin: str, round_id: int, count: int, *, opens_in: float | None = None,
                 **rules) -> list[str]:
    """A waiting room (`rules`; the sale opening `opens_in` seconds from now, or as it is) and
    `count` new users who joined it; their tokens."""
    await set_room(client, admin, round_id, **rules)
    if opens_in is not None:
        await set_sale(client, admin, round_id, opens_in)
    tokens = [await client.token() for _ in range(count)]
    for token in tokens:
        reply = await client.post(f"/api/rounds/{round_id}/queue", token=token)
        assert reply.status == 200, reply.json
    return tokens
