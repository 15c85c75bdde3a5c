"""A round's waiting room: what admins set, what users are told, and the admission steps.

The line itself lives in the seat engine beside the round's seats (seatmap/line.py), so that a hold
checks admission in its own atomic step, and every instance sees one line. What this service adds:
- the rules, kept in the database (the engine's copy is rebuilt from it, see server/gates.py);
- each user's draw for the pre-queue: a keyed hash of round and user, uniform in [0, 1) and secret
  to users, so the order at the opening is random, yet a user who joins again (even after the
  engine lost the line) draws the same and keeps their order;
- the ETA, from the admissions of the last minute;
- the admission steps: every instance steps every open waiting room, at a pace slowed while its
  holds struggle (server/admission_pace.py); the engine keeps the caps across instances.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from seatmap.engine import SeatEngine
from seatmap.line import WAITING, AddressFull, Place, QueueNotOpen
from seatmap.model import EngineUnavailable, NoSuchRound
from server.admission_pace import AdmissionPace
from server.catalogue.common import lock_or_404
from server.db.database import Database
from server.db.tables import rounds, waiting_rooms
from server.db.types import utcnow
from server.errors import Code, Conflict, Forbidden, InvalidState, NotFound, ServiceUnavailable
from server.metrics import Metrics
from server.schemas.waiting_room import PREQUEUE_MINUTES, SESSION_SECONDS, QueueOut, WaitingRoomIn, WaitingRoomOut
from server.seating import Seating

log = logging.getLogger(__name__)
OPEN_ROOMS_TTL_SECONDS = 2       # how long an instance's list of rooms to step may be stale


def admission_rate(admitted_last_minute: int, opens_ms: int | None, now_ms: float) -> float:
    """Admissions per second, measured over the last minute (in the first minute after the opening,
    over the time since it)."""
    window = 60.0
    if opens_ms is not None:
        window = min(60.0, max(1.0, (now_ms - opens_ms) / 1000))
    return admitted_last_minute / window


class WaitingRoom:
    def __init__(self, db: Database, engine: SeatEngine, seating: Seating, zone: ZoneInfo, *, draw_key: str,
                 grace_seconds: int, accounts_per_address: int, pace: AdmissionPace, step_seconds: float,
                 metrics: Metrics | None = None):
        self._db = db
        self._metrics = metrics or Metrics()
        self._line = engine.line
        self._seating = seating
        self._zone = zone
        self._draw_key = hashlib.sha256(b"waiting-room-draw:" + draw_key.encode()).digest()
        self._grace_ms = grace_seconds * 1000
        self._step_ms = int(step_seconds * 1000)
        self._per_address = accounts_per_address
        self._pace = pace
        self._open_rooms: dict[int, int] = {}      # round -> admit_per_minute, of rooms to step
        self._open_rooms_read = -math.inf

    # ---- admins ------------------------------------------------------------------------------
    async def configure(self, round_id: int, body: WaitingRoomIn) -> WaitingRoomOut:
        """Takes effect at once, on every instance: the engine's gate changes in the same locked step."""
        async with self._db.begin() as conn:
            await lock_or_404(conn, rounds, round_id, "round")
            values = dict(enabled=body.enabled, prequeue_minutes=body.prequeue_minutes, max_active=body.max_active,
                          admit_per_minute=body.admit_per_minute, session_seconds=body.session_seconds,
                          updated_at=utcnow())
            # (the round's row lock makes update-else-insert safe)
            changed = await conn.execute(waiting_rooms.update().where(waiting_rooms.c.round_id == round_id)
                                         .values(**values))
            if not changed.rowcount:
                await conn.execute(waiting_rooms.insert().values(round_id=round_id, **values))
            await self._seating.gate_changed(conn, round_id)
        self._open_rooms_read = -math.inf
        return await self.config(round_id)

    async def config(self, round_id: int) -> WaitingRoomOut:
        async with self._db.read_own_writes() as conn:
            row = (await conn.execute(sa.select(rounds.c.sale_opens_at, waiting_rooms)
                                      .outerjoin(waiting_rooms, waiting_rooms.c.round_id == rounds.c.id)
                                      .where(rounds.c.id == round_id))).first()
        if row is None:
            raise NotFound("No such round.")
        figures = await self._call(round_id, self._line.figures(round_id))
        per_minute = row.admit_per_minute
        return WaitingRoomOut(
            round_id=round_id, enabled=bool(row.enabled),
            prequeue_minutes=row.prequeue_minutes if row.enabled is not None else PREQUEUE_MINUTES,
            max_active=row.max_active, admit_per_minute=per_minute,
            session_seconds=row.session_seconds if row.enabled is not None else SESSION_SECONDS,
            waiting=figures.waiting, active=figures.active, admitted_total=figures.admitted_total,
            admitted_last_minute=figures.admitted_last_minute,
            effective_admit_per_minute=max(1, int((per_minute or 0) * self._pace.factor)) if per_minute else 0,
            sale_opens_at=self._local(row.sale_opens_at))

    # ---- users -------------------------------------------------------------------------------
    async def join(self, round_id: int, user_id: int, address: str) -> QueueOut:
        await self._not_started(round_id)
        try:
            place = await self._call(round_id, self._line.join(
                round_id, user_id, draw=self.draw(round_id, user_id), address=address,
                address_cap=self._per_address))
        except QueueNotOpen as exc:
            raise Conflict("The waiting room of this show is not open yet.", code=Code.QUEUE_NOT_OPEN,
                           details={"opens_at": self.local_ms(exc.opens_ms).isoformat()}) from None
        except AddressFull as exc:
            raise Forbidden(f"Your network already has {exc.cap} places in this waiting room.",
                            code=Code.ADDRESS_LIMIT, details={"limit": exc.cap}) from None
        return await self.told(round_id, place)

    async def place(self, round_id: int, user_id: int) -> QueueOut:
        return await self.told(round_id, await self.look(round_id, user_id))

    async def look(self, round_id: int, user_id: int) -> Place:
        """The user's place as the line keeps it; a sign of life (404 for a deleted round)."""
        return await self._call(round_id, self._line.place(round_id, user_id))

    async def leave(self, round_id: int, user_id: int) -> None:
        await self._call(round_id, self._line.end(round_id, user_id))

    async def touch(self, round_id: int, user_ids: list[int]) -> None:
        """These users' queue sockets are open (a sign of life for the grace period)."""
        await self._call(round_id, self._line.touch(round_id, user_ids))

    def draw(self, round_id: int, user_id: int) -> float:
        digest = hmac.digest(self._draw_key, f"{round_id}:{user_id}".encode(), "sha256")
        return (int.from_bytes(digest[:8], "big") >> 11) / (1 << 53)

    async def told(self, round_id: int, place: Place, now_ms: float | None = None) -> QueueOut:
        """A place as its user is told it."""
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        per_second = (admission_rate(place.admitted_last_minute, place.opens_ms, now_ms)
                      or await self.allowed_rate(round_id) / 60)
        position = place.position
        eta = math.ceil(position / per_second) if position and place.status == WAITING and per_second else None
        return QueueOut(status=place.status, position=position, ahead=None if position is None else position - 1,
                        eta_seconds=eta, opens_at=self.local_ms(place.opens_ms),
                        admitted_until=self.local_ms(place.admitted_until_ms), reason=place.reason,
                        server_time=self.local_ms(now_ms))

    async def allowed_rate(self, round_id: int) -> float:
        """The admissions per minute the room's rules and this instance's pace allow."""
        await self._rooms_to_step()
        return self._open_rooms.get(round_id, 0) * self._pace.factor

    # ---- admission ---------------------------------------------------------------------------
    async def step(self) -> int:
        """One admission step of every open waiting room (every instance runs these)."""
        factor = self._pace.adjust()
        admitted = 0
        for round_id in await self._rooms_to_step():
            try:
                admitted += await self._line.admit(round_id, grace_ms=self._grace_ms, rate_factor=factor,
                                                   step_ms=self._step_ms)
            except NoSuchRound:
                self._open_rooms.pop(round_id, None)
            except Exception:
                log.exception("admission step of round %d failed", round_id)
        self._metrics.admitted(admitted)
        return admitted

    async def waiting(self) -> int:
        """How many people wait now in all the waiting rooms of rounds not yet started (for /metrics):
        one query for the rooms, one look at each line."""
        async with self._db.read() as conn:
            round_ids = (await conn.execute(
                sa.select(waiting_rooms.c.round_id).join(rounds, rounds.c.id == waiting_rooms.c.round_id)
                .where(waiting_rooms.c.enabled.is_(True), rounds.c.starts_at > utcnow()))).scalars().all()
        return sum(f.waiting for f in await asyncio.gather(*(self._line.figures(r) for r in round_ids)))

    async def _rooms_to_step(self) -> list[int]:
        if time.monotonic() - self._open_rooms_read > OPEN_ROOMS_TTL_SECONDS:
            now = utcnow()
            async with self._db.read() as conn:
                rows = (await conn.execute(
                    sa.select(waiting_rooms.c.round_id, waiting_rooms.c.admit_per_minute)
                    .join(rounds, rounds.c.id == waiting_rooms.c.round_id)
                    .where(waiting_rooms.c.enabled.is_(True), rounds.c.starts_at > now,
                           sa.or_(rounds.c.sale_opens_at.is_(None),
                                  rounds.c.sale_opens_at <= now + timedelta(seconds=OPEN_ROOMS_TTL_SECONDS))))).all()
            self._open_rooms = dict(rows)
            self._open_rooms_read = time.monotonic()
        return list(self._open_rooms)

    # ---- helpers -----------------------------------------------------------------------------
    async def _not_started(self, round_id: int) -> None:
        layout = await self._seating.layout(round_id)             # 404 for no such round
        if layout.starts_at <= utcnow():
            raise InvalidState("This show has already started.")

    async def _call(self, round_id: int, call):
        try:
            return await call
        except NoSuchRound:
            raise NotFound("No such round.") from None
        except EngineUnavailable:
            raise ServiceUnavailable("The waiting room cannot be reached right now; try again shortly.") from None

    def local_ms(self, value: float | None) -> datetime | None:
        return None if value is None else datetime.fromtimestamp(value / 1000, self._zone)

    def _local(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(self._zone)
