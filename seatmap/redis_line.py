"""The waiting line on Redis: each step is one script in the round's hash slot (lua/line_*.lua),
next to the round's seats and gate, so that a hold checks admission in its own atomic step and
admissions made by several instances at once never pass the caps."""
from __future__ import annotations

from typing import Awaitable, Callable

from seatmap.line import AddressFull, LineFigures, Place, QueueNotOpen

Run = Callable[..., Awaitable[list]]       # RedisEngine._run: a script of a round, loading it first
PLACES_PER_CALL = 500                      # users per script when many places are read: Redis stays responsive


def clock_arg(now_ms: int | None) -> int | str:
    """A time for a script: '' lets it read the Redis clock (the same for every instance)."""
    return "" if now_ms is None else now_ms


def _number(value: str | int) -> int | None:
    return None if value == "" else int(value)


def _place(answer: list) -> Place:
    status, rank, head, until, reason, opens, last_minute = answer
    return Place(status, _number(rank), int(head), _number(until), reason or None, _number(opens), int(last_minute))


class RedisLine:
    def __init__(self, run: Run):
        self._run = run

    async def join(self, round_id, user_id, *, draw, address, address_cap, now_ms=None) -> Place:
        answer = await self._run("line_join", round_id, user_id, clock_arg(now_ms), repr(draw), address, address_cap)
        if answer[0] == "not_open":
            raise QueueNotOpen(int(answer[1]))
        if answer[0] == "address":
            raise AddressFull(int(answer[1]))
        return _place(answer)

    async def place(self, round_id, user_id, now_ms=None) -> Place:
        return _place(await self._run("line_place", round_id, user_id, clock_arg(now_ms)))

    async def places(self, round_id, user_ids, now_ms=None) -> list[Place]:
        places: list[Place] = []
        for start in range(0, len(user_ids), PLACES_PER_CALL):
            flat = await self._run("line_places", round_id, clock_arg(now_ms), *user_ids[start:start + PLACES_PER_CALL])
            places += [_place(flat[i:i + 7]) for i in range(1, len(flat), 7)]
        return places

    async def end(self, round_id, user_id, reason=None) -> None:
        await self._run("line_end", round_id, user_id, reason or "")

    async def touch(self, round_id, user_ids, now_ms=None) -> None:
        if user_ids:
            await self._run("line_touch", round_id, clock_arg(now_ms), *user_ids)

    async def admit(self, round_id, *, grace_ms, rate_factor=1.0, budget=1000, step_ms=0, now_ms=None) -> int:
        admitted, _head = await self._run("line_admit", round_id, clock_arg(now_ms), grace_ms, repr(rate_factor),
                                          budget, step_ms)
        return int(admitted)

    async def figures(self, round_id, now_ms=None) -> LineFigures:
        _, waiting, active, total, last_minute, head, sold_out, opens = await self._run("line_figures", round_id,
                                                                                          clock_arg(now_ms))
        return LineFigures(int(waiting), int(active), int(total), int(last_minute), int(head), bool(sold_out),
                           _number(opens))
