"""Live places for the waiting room's sockets (`/ws/rounds/{id}/queue`, docs/websocket.md).

One loop per round with sockets on this instance, whatever their number. Each tick it reads the
line's figures once (one call: the admission's head, the last minute's admissions, sold out), and
from them every waiting socket's position: a user's rank in the line is fixed once the sale opened,
so the position is rank − head + 1 and needs no call of its own. The tick's shared part of the
frame (clock, opening, head) is encoded once; each socket adds its numbers. Only users whose place
may have changed in another way (reached by the head, their admission's time up, the sale just
opened, sold out or not) are looked up, together, in one call. Sockets are a sign of life: their
users are touched every TOUCH_SECONDS, well within the grace period.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import replace
from typing import Protocol

import msgspec

from seatmap.line import CLOSED, SOLD_OUT, WAITING, LineFigures, Place, WaitingLine
from server.background import Background, nap
from server.schemas.waiting_room import QueueFrame
from server.waiting_room import WaitingRoom, admission_rate

log = logging.getLogger(__name__)
TICK_SECONDS = 0.9           # a waiting socket hears its position each tick it moved,
QUIET_TICKS = 2              # and at least every this many ticks (1.8 s: within the 2 s promised)
YIELD_EVERY = 500            # sockets told between turns of the event loop
TOUCH_SECONDS = 10.0
_encode = msgspec.json.encode


class Listener(Protocol):
    user_id: int | None

    def push(self, frame: bytes) -> None: ...


class _Told:
    """What a socket was last told."""
    __slots__ = ("status", "position", "tick")

    def __init__(self):
        self.status: str | None = None
        self.position: int | None = None
        self.tick = 0


class _Room:
    def __init__(self, round_id: int):
        self.round_id = round_id
        self.places: dict[Listener, Place] = {}
        self.told: dict[Listener, _Told] = {}
        self.ticks = 0
        self.touched = -math.inf


class QueueWatch:
    def __init__(self, waiting_room: WaitingRoom, line: WaitingLine):
        self._room = waiting_room
        self._line = line
        self._rooms: dict[int, _Room] = {}
        self._loops = Background()

    async def join(self, round_id: int, socket: Listener) -> None:
        """The socket hears the user's place at once, then as it changes."""
        place = await self._room.look(round_id, socket.user_id)      # a sign of life too
        room = self._rooms.get(round_id)
        if room is None:
            room = self._rooms[round_id] = _Room(round_id)
            self._loops.spawn(f"queue-watch-{round_id}", lambda stopping: self._watch(room, stopping))
        room.places[socket] = place          # (before any await: the loop ends when it has no socket)
        room.told[socket] = _Told()
        await self._tell(room, socket, place, time.time() * 1000)

    def leave(self, round_id: int, socket: Listener) -> None:
        room = self._rooms.get(round_id)
        if room is not None:
            room.places.pop(socket, None)
            room.told.pop(socket, None)

    async def close(self) -> None:
        await self._loops.stop()

    async def _watch(self, room: _Room, stopping: asyncio.Event) -> None:
        """Ticks on a fixed schedule (a tick's own work does not push the next one back)."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while not stopping.is_set() and room.places:
            try:
                await self._tick(room)
            except Exception:
                log.exception("queue watch of round %d failed", room.round_id)
            next_tick = max(next_tick + TICK_SECONDS, loop.time())
            await nap(stopping, next_tick - loop.time())
        if self._rooms.get(room.round_id) is room:
            del self._rooms[room.round_id]

    async def _tick(self, room: _Room) -> None:
        round_id, now = room.round_id, time.time() * 1000
        room.ticks += 1
        if time.monotonic() - room.touched > TOUCH_SECONDS:
            await self._line.touch(round_id, list({s.user_id for s in room.places}))
            room.touched = time.monotonic()
        figures = await self._line.figures(round_id)
        stale = [s for s, place in room.places.items() if _may_have_changed(place, figures, now)]
        if stale:
            for socket, place in zip(stale, await self._line.places(round_id, [s.user_id for s in stale])):
                if socket in room.places:
                    room.places[socket] = place
        head, ticks = figures.head, room.ticks
        shared = None
        for i, (socket, place) in enumerate(list(room.places.items())):
            if i and i % YIELD_EVERY == 0:
                await asyncio.sleep(0)          # a tick over many sockets does not hold the loop up
                if socket not in room.places:
                    continue
            told = room.told[socket]
            if place.status != told.status:
                await self._tell(room, socket, replace(place, head=head, opens_ms=figures.opens_ms,
                                                       admitted_last_minute=figures.admitted_last_minute), now)
                continue
            if place.status != WAITING:
                continue
            rank = place.rank
            position = None if rank is None or rank < head else rank - head + 1
            if position == told.position and ticks - told.tick < QUIET_TICKS:
                continue
            if shared is None:                  # once per tick: the rate and the frame's shared part
                shared = await self._shared(round_id, figures, now)
            per_second, tail = shared
            if position is None:
                numbers = b'"position":null,"ahead":null,"eta_seconds":null'
            else:
                eta = b"%d" % math.ceil(position / per_second) if per_second else b"null"
                numbers = b'"position":%d,"ahead":%d,"eta_seconds":%s' % (position, position - 1, eta)
            socket.push(b'{"type":"queue","status":"waiting",' + numbers + tail)
            told.position, told.tick = position, ticks

    async def _shared(self, round_id: int, figures: LineFigures, now: float) -> tuple[float, bytes]:
        per_second = (admission_rate(figures.admitted_last_minute, figures.opens_ms, now)
                      or await self._room.allowed_rate(round_id) / 60)
        tail = _encode({"admitted_until": None, "reason": None, "opens_at": self._room.local_ms(figures.opens_ms),
                        "server_time": self._room.local_ms(now), "serving": figures.head})
        return per_second, b"," + tail[1:]

    async def _tell(self, room: _Room, socket: Listener, place: Place, now: float) -> None:
        told = room.told[socket]
        out = await self._room.told(room.round_id, place, now)
        socket.push(_encode(QueueFrame(**msgspec.structs.asdict(out), serving=place.head)))
        told.status, told.position, told.tick = place.status, out.position, room.ticks


def _may_have_changed(place: Place, figures: LineFigures, now: float) -> bool:
    """Whether a place can have changed in a way its rank and the head do not tell. Waiting places
    are many and need no look until the head reaches them; the others are few (admissions are
    capped), and may change any time (a leave or a new join in another tab, the admission's end).
    When sold out, everyone waiting is closed: they are many again, and wait for seats to return."""
    if place.status == WAITING:
        if place.rank is None:
            return figures.opens_ms is None or now >= figures.opens_ms    # the opening gives it a rank
        return place.rank < figures.head or figures.sold_out
    if place.status == CLOSED and place.reason == SOLD_OUT:
        return not figures.sold_out
    return True
