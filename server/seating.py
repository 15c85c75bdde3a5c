"""Seats of a round: the live map (from the seat engine) joined with the hall layout and prices
(from the database), holds, and admin blocks."""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timedelta
from typing import Awaitable, Protocol
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa

from seatmap.engine import RoundTruth, SeatEngine
from seatmap.line import FINISHED, NotAdmitted, SaleNotOpen
from seatmap.model import (AVAILABLE, BLOCKED, HELD, SOLD, Change, EngineUnavailable, HoldGranted, HoldLimitExceeded,
                           HoldTimeExceeded, NoSuchRound, Rates, SeatUnavailable, Snapshot, TooManyRequests)
from server.admission_pace import AdmissionPace
from server.best_seats import Hall, choose
from server.catalogue.common import lock_or_404
from server.db.database import Database
from server.db.tables import performances, prices, reservation_seats, reservations, round_blocks, rounds, seats
from server.db.types import utcnow
from server.errors import (Code, Conflict, Forbidden, InvalidRequest, InvalidState, NotFound, RateLimited,
                           ServiceUnavailable, require)
from server.gates import read_gate
from server.kept_reads import KeptReads
from server.metrics import Metrics
from server.outbox import enqueue
from server.ratelimit import HOLDS_PER_ACCOUNT, refused
from server.schemas.catalogue import SeatOut
from server.schemas.seating import (AvailabilityOut, BestSeatsRequest, GradeAvailability, HoldOut, RoundSeatOut,
                                    RoundSeatsOut)

log = logging.getLogger(__name__)
LAYOUT_TTL_SECONDS = 60       # halls' seats never change; a round's time rarely does
SOLD_STATUSES = ("confirmed", "attended")
REPAIR_TRIES = 3
BEST_TRIES = 20               # looks for the best seats when others keep taking them first (each loss is
                              # someone else's hold: with seats left, losing them all is next to impossible)
# The engine's refusals of a hold (answers, not failures of the engine), as /metrics counts them.
HOLD_OUTCOMES = {SaleNotOpen: "sale_not_open", NotAdmitted: "not_admitted", TooManyRequests: "rate_limited",
                 SeatUnavailable: "unavailable", HoldTimeExceeded: "limit", HoldLimitExceeded: "limit",
                 NoSuchRound: "other"}
HOLD_REFUSALS = tuple(HOLD_OUTCOMES)


class SeatEvents(Protocol):
    async def available(self, round_id: int, seat_ids: list[int]) -> None: ...
    async def held(self, round_id: int, user_id: int, seat_ids: list[int]) -> None: ...


class _NoEvents:
    async def available(self, round_id, seat_ids) -> None: ...
    async def held(self, round_id, user_id, seat_ids) -> None: ...


NO_EVENTS = _NoEvents()


@dataclass(frozen=True)
class RoundLayout:
    round_id: int
    performance_id: int
    starts_at: datetime
    seats: dict[int, SeatOut]
    seat_ids: list[int]

    @cached_property
    def hall(self) -> Hall:
        """The seats arranged for best-seat looks, once per layout (when first asked for)."""
        return Hall(self.seats.values())


async def load_truth(db: Database, round_id: int) -> RoundTruth | None:
    """What the seat engine rebuilds a round from: its live reservations and blocks (None: no such round)."""
    async with db.read_own_writes() as conn:
        if (await conn.execute(sa.select(rounds.c.id).where(rounds.c.id == round_id))).first() is None:
            return None
        live = (await conn.execute(
            sa.select(reservation_seats.c.seat_id, reservations.c.user_id, reservations.c.status)
            .join(reservations, reservations.c.id == reservation_seats.c.reservation_id)
            .where(reservation_seats.c.round_id == round_id, reservation_seats.c.live.is_(True)))).all()
        blocked = (await conn.execute(sa.select(round_blocks.c.seat_id)
                                      .where(round_blocks.c.round_id == round_id))).scalars().all()
        gate = await read_gate(conn, round_id)
    truth = RoundTruth(blocked=list(blocked), gate=gate)
    for row in live:
        if row.status in SOLD_STATUSES:
            truth.sold.append(row.seat_id)
        else:
            truth.pending[row.seat_id] = row.user_id
    return truth


class Seating:
    def __init__(self, db: Database, engine: SeatEngine, *, hold_seconds: int, max_seats_per_user: int,
                 zone: ZoneInfo, max_hold_seconds: int = 0, hold_cooldown_seconds: int = 0,
                 hold_rates: Rates = (), pace: AdmissionPace | None = None, metrics: Metrics | None = None):
        """`max_hold_seconds` 0: twice the hold; `hold_cooldown_seconds` 0: one hold (the settings' defaults).
        `hold_rates`: how often one user may hold or release in a round (requests, window ms), counted
        by the engine in the same step as the hold."""
        self._db = db
        self._zone = zone
        self._engine = engine
        self._hold_ms = hold_seconds * 1000
        self._max_hold_ms = (max_hold_seconds or 2 * hold_seconds) * 1000
        self._cooldown_ms = (hold_cooldown_seconds or hold_seconds) * 1000
        self._limit = max_seats_per_user
        self._rates = hold_rates
        self._pace = pace or AdmissionPace(slow_hold_ms=1000, error_share=1)
        self._metrics = metrics or Metrics()
        self.events: SeatEvents = NO_EVENTS          # who else hears of freed and held seats (seat watch)
        self._choosing: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)     # round -> best seats
        # One load at a time per round: when a popular round's copy expires, hundreds of requests
        # arrive together, and each parsing thousands of seats would stall them all.
        self._layouts: KeptReads[int, RoundLayout] = KeptReads(self._load_layout, ttl_seconds=LAYOUT_TTL_SECONDS)

    @contextmanager
    def _asking_engine(self, round_id: int):
        """Around engine calls for a request: a round the engine refuses was deleted (maybe by another
        instance, while this one still had its layout): 404, and the layout is forgotten. An engine
        that does not answer (Redis down, or failing over): 503, at once."""
        try:
            yield
        except NoSuchRound:
            self._layouts.forget(round_id)
            raise NotFound("No such round.") from None
        except EngineUnavailable as exc:
            log.warning("round %s: %s", round_id, exc)
            raise ServiceUnavailable("The seat map cannot be reached right now; try again shortly.") from None

    async def _following_database(self, round_id: int, what: str, call: Awaitable[None]) -> None:
        """An engine call after the database has decided: an engine that does not answer must not
        undo what the database committed (a sale is a sale). The repair pass (repair_recent) puts the
        engine right once it answers again; until then nothing is sold twice, the database's unique
        key sees to that."""
        try:
            await call
        except EngineUnavailable as exc:
            log.warning("round %s: the seat engine missed that seats were %s (%s); the repair pass will "
                        "tell it", round_id, what, exc)

    async def rounds_deleted(self, round_ids: list[int]) -> None:
        """After the commit that deleted these rounds: every instance's engine forgets them and
        refuses them from now on, their viewers are told, and this instance's layouts go."""
        for round_id in round_ids:
            self._layouts.forget(round_id)
            await self._engine.drop(round_id)

    async def gate_changed(self, conn, round_id: int) -> None:
        """Inside the transaction that changed the round's sale opening or waiting room, its row
        locked: the gate's version goes up, and every hold checks the new gate at once, on every
        instance (the engine keeps the newest version it was given, so neither changes that race
        nor a load that read the database before this one commits can bring an older one back)."""
        await conn.execute(rounds.update().where(rounds.c.id == round_id)
                           .values(gate_version=rounds.c.gate_version + 1))
        with self._asking_engine(round_id):         # (503: the change is rolled back, to be made again)
            await self._engine.set_gate(round_id, await read_gate(conn, round_id))

    # ---- layout ----------------------------------------------------------------------------
    async def layout(self, round_id: int) -> RoundLayout:
        return await self._layouts.get(round_id)

    async def _load_layout(self, round_id: int) -> RoundLayout:
        async with self._db.read() as conn:
            found = (await conn.execute(
                sa.select(rounds.c.performance_id, rounds.c.starts_at, performances.c.hall_id)
                .join(performances, performances.c.id == rounds.c.performance_id)
                .where(rounds.c.id == round_id))).first()
            if found is None:
                raise NotFound("No such round.")
            rows = (await conn.execute(sa.select(seats).where(seats.c.hall_id == found.hall_id)
                                       .order_by(seats.c.id))).all()
        infos = {r.id: SeatOut(id=r.id, section=r.section, row=r.row, number=r.number, x=r.x, y=r.y,
                               grade=r.grade) for r in rows}
        return RoundLayout(round_id, found.performance_id, found.starts_at, infos, list(infos))

    async def seat_ids(self, round_id: int) -> list[int]:
        return (await self.layout(round_id)).seat_ids

    async def checked_seats(self, round_id: int, seat_ids: list[int], *, on_sale: bool = True) -> list[int]:
        """The seats, deduplicated, if all are in the round's hall (and the show has not started)."""
        layout = await self.layout(round_id)
        unknown = [s for s in seat_ids if s not in layout.seats]
        if unknown:
            raise InvalidRequest("These seats are not in this round's hall.", fields=["seat_ids"], seat_ids=unknown)
        if on_sale and layout.starts_at <= utcnow():
            raise InvalidState("This show has already started.")
        return list(dict.fromkeys(seat_ids))

    # ---- reads -------------------------------------------------------------------------------
    async def snapshot(self, round_id: int) -> Snapshot:
        """The seat engine's states of the round's seats that are not available, as of now (held with
        their holders, pending, sold, blocked); 404 for a deleted round, 503 when the engine does not answer."""
        with self._asking_engine(round_id):
            return await self._engine.snapshot(round_id)

    async def round_seats(self, round_id: int, viewer_id: int | None) -> RoundSeatsOut:
        layout = await self.layout(round_id)
        async with self._db.read() as conn:
            price_of = dict((await conn.execute(sa.select(prices.c.grade, prices.c.price)
                                                .where(prices.c.performance_id == layout.performance_id))).all())
        snapshot = await self.snapshot(round_id)
        out = []
        for s in layout.seats.values():
            state = snapshot.seats.get(s.id)
            status = AVAILABLE if state is None else Change(s.id, state.state, state.user_id).public_state(viewer_id)
            out.append(RoundSeatOut(**msgspec.structs.asdict(s), price=price_of.get(s.grade, 0), status=status))
        return RoundSeatsOut(round_id=round_id, seq=snapshot.seq, seats=out)

    async def availability(self, round_id: int) -> AvailabilityOut:
        layout = await self.layout(round_id)
        snapshot = await self.snapshot(round_id)
        counts = {AVAILABLE: 0, HELD: 0, SOLD: 0, BLOCKED: 0}
        by_grade: dict[str, GradeAvailability] = {}
        for s in layout.seats.values():
            state = snapshot.seats.get(s.id)
            status = AVAILABLE if state is None else Change(s.id, state.state).public_state(None)
            counts[status] += 1
            grade = by_grade.setdefault(s.grade, GradeAvailability(total=0, available=0))
            grade.total += 1
            grade.available += status == AVAILABLE
        return AvailabilityOut(total=len(layout.seats), available=counts[AVAILABLE], held=counts[HELD],
                               sold=counts[SOLD], blocked=counts[BLOCKED], by_grade=by_grade)

    # ---- what reservations do to seats (the database has decided; the engine follows) ----------
    async def sell(self, round_id: int, user_id: int, seat_ids: list[int]) -> None:
        """The seats became a pending reservation of this user."""
        await self._following_database(round_id, "sold", self._engine.sell(round_id, user_id, seat_ids))

    async def paid(self, round_id: int, user_id: int, seat_ids: list[int]) -> None:
        """Their reservation was paid: the seats are sold, and the user's admission through the
        round's waiting room (if any) ends, freeing its place for the next in line."""
        await self._following_database(round_id, "paid", self._engine.settle(round_id, seat_ids))
        await self._following_database(round_id, "paid (the admission's end)",
                                       self._engine.line.end(round_id, user_id, FINISHED))

    async def free(self, round_id: int, seat_ids: list[int]) -> None:
        """Their reservation ended (canceled, expired): they are available again."""
        await self._following_database(round_id, "freed", self._engine.free(round_id, seat_ids))
        await self.events.available(round_id, seat_ids)

    # ---- holds -------------------------------------------------------------------------------
    async def hold(self, round_id: int, user_id: int, seat_ids: list[int]) -> HoldOut:
        seat_ids = await self.checked_seats(round_id, seat_ids)
        try:
            with self._asking_engine(round_id):
                granted = await self._timed_hold(round_id, user_id, seat_ids)
        except SaleNotOpen as exc:
            opens_at = datetime.fromtimestamp(exc.opens_ms / 1000, self._zone)
            raise Conflict("The sale of this show has not opened yet.", code=Code.SALE_NOT_OPEN,
                           details={"opens_at": opens_at.isoformat()}) from None
        except NotAdmitted as exc:
            raise Forbidden("This show has a waiting room: join it, and hold seats once you are let in.",
                            code=Code.NOT_ADMITTED, details={"position": exc.position}) from None
        except TooManyRequests as exc:
            raise self._over_rate(exc) from None
        except SeatUnavailable as exc:
            raise Conflict("Some of these seats are not available.", code=Code.SEAT_UNAVAILABLE,
                           details={"seat_ids": exc.seat_ids}) from None
        except HoldTimeExceeded as exc:
            retry_after = math.ceil(exc.retry_after_ms / 1000)
            raise Conflict(f"You have held some of these seats for as long as one person may; others can take "
                           f"them now, and you can hold them again in {retry_after} seconds.",
                           code=Code.HOLD_TIME_EXCEEDED,
                           details={"seat_ids": exc.seat_ids, "retry_after": retry_after}) from None
        except HoldLimitExceeded as exc:
            raise Conflict(f"You can hold or reserve at most {exc.limit} seats of a show.",
                           code=Code.HOLD_LIMIT_EXCEEDED,
                           details={"limit": exc.limit, "current": exc.current}) from None
        await self.events.held(round_id, user_id, list(granted.seat_ids))
        return HoldOut(seat_ids=list(granted.seat_ids),
                       expires_at=datetime.fromtimestamp(granted.expires_ms / 1000, self._zone))

    async def hold_best(self, round_id: int, user_id: int, request: BestSeatsRequest) -> HoldOut:
        """Hold the best `count` seats for this user (server/best_seats.py), all or nothing like any hold.
        On this instance one look-and-hold runs at a time per round: people asking at once would all
        pick the same best seats and all but one lose. Another instance's user may still take one of
        them between the look and the hold: then look again, among a few more of the next-best choices
        each time, so that the two instances stop picking alike."""
        require(request.count <= self._limit, f"At most {self._limit} seats per person.", "count")
        layout = await self.layout(round_id)
        async with self._choosing[round_id]:
            return await self._hold_best(layout, round_id, user_id, request)

    async def _hold_best(self, layout: RoundLayout, round_id: int, user_id: int, request: BestSeatsRequest) -> HoldOut:
        for attempt in range(BEST_TRIES):
            snapshot = await self.snapshot(round_id)
            free = {seat_id for seat_id in layout.seat_ids if seat_id not in snapshot.seats}
            chosen = choose(layout.hall, free, request.count, grade=request.grade,
                            section=request.section, spread=2 * attempt)
            if chosen is None:
                raise Conflict(f"There are not {request.count} seats left here.", code=Code.NOT_ENOUGH_SEATS,
                               details={"count": request.count})
            try:
                return await self.hold(round_id, user_id, chosen)
            except Conflict as exc:
                if exc.code != Code.SEAT_UNAVAILABLE or attempt == BEST_TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _timed_hold(self, round_id: int, user_id: int, seat_ids: list[int]) -> HoldGranted:
        """The engine's hold, timed for the waiting rooms' admission pace: a refusal is an answer, any
        other exception a failure of the engine."""
        started = time.perf_counter()
        failed, outcome = True, "other"
        try:
            granted = await self._engine.hold(round_id, user_id, seat_ids, ttl_ms=self._hold_ms, limit=self._limit,
                                              max_hold_ms=self._max_hold_ms, cooldown_ms=self._cooldown_ms,
                                              rates=self._rates)
            failed, outcome = False, "granted"
            return granted
        except HOLD_REFUSALS as exc:
            failed, outcome = False, HOLD_OUTCOMES[type(exc)]
            raise
        finally:
            self._pace.record(time.perf_counter() - started, failed=failed)
            self._metrics.hold(outcome)

    def _over_rate(self, exc: TooManyRequests) -> RateLimited:
        """The 429 for holds and releases over the per-account rate (counted by the engine)."""
        self._metrics.rate_limited(HOLDS_PER_ACCOUNT.setting)
        return refused(HOLDS_PER_ACCOUNT, exc.retry_after_ms / 1000)

    async def release(self, round_id: int, user_id: int, seat_ids: list[int]) -> list[int]:
        seat_ids = await self.checked_seats(round_id, seat_ids, on_sale=False)
        try:
            with self._asking_engine(round_id):
                released = await self._engine.release(round_id, user_id, seat_ids, rates=self._rates)
        except TooManyRequests as exc:
            raise self._over_rate(exc) from None
        self._metrics.released("released", len(released))
        await self.events.available(round_id, released)
        return released

    async def holds_of(self, round_id: int, user_id: int, seat_ids: list[int]) -> list[int]:
        """Which of `seat_ids` this user holds right now (not expired)."""
        snapshot = await self.snapshot(round_id)
        now_ms = time.time() * 1000
        return [s for s in seat_ids if (st := snapshot.seats.get(s)) is not None and st.state == HELD
                and st.user_id == user_id and (st.expires_ms is None or st.expires_ms > now_ms)]

    async def expire_holds(self) -> int:
        """The sweeper: release due holds and tell their holders (SSE `hold.expired`)."""
        expired = await self._engine.expire_due()
        if not expired:
            return 0
        self._metrics.released("expired", len(expired))
        seats_of: dict[tuple[int, int], list[int]] = defaultdict(list)
        for hold in expired:
            seats_of[(hold.user_id, hold.round_id)].append(hold.seat_id)
        try:
            async with self._db.begin() as conn:
                for (user_id, round_id), seat_ids in sorted(seats_of.items()):   # user order: see enqueue
                    await enqueue(conn, event="hold.expired", user_id=user_id,
                                  payload={"round_id": round_id, "seat_ids": sorted(seat_ids)})
        except Exception:
            # The seats are free either way (the engine decides holds); only the notices are lost.
            log.exception("hold.expired notices for %d holds could not be queued", len(expired))
        freed: dict[int, list[int]] = defaultdict(list)
        for hold in expired:
            freed[hold.round_id].append(hold.seat_id)
        for round_id, seat_ids in freed.items():
            await self.events.available(round_id, sorted(seat_ids))
        return len(expired)

    # ---- repair -------------------------------------------------------------------------------
    async def repair_recent(self, window_seconds: float) -> int:
        """A process that died between its database commit and its engine call leaves the engine
        wrong about a seat (held instead of pending, pending instead of free, blocked or not).
        Rounds whose reservations or blocks changed lately are compared with the database and fixed;
        the database was never wrong, so nothing was sold twice meanwhile. Safe on every instance at
        once. Returns rounds fixed."""
        since = utcnow() - timedelta(seconds=window_seconds)
        async with self._db.read_own_writes() as conn:
            round_ids = (await conn.execute(sa.union(
                sa.select(reservations.c.round_id).where(reservations.c.updated_at >= since),
                sa.select(rounds.c.id).where(rounds.c.blocks_changed_at >= since)))).scalars().all()
        fixed = 0
        for round_id in round_ids:
            try:
                if await self._repair(round_id):
                    fixed += 1
            except NoSuchRound:
                pass                                          # deleted since we listed it: nothing to repair
        return fixed

    async def _repair(self, round_id: int) -> bool:
        for _ in range(REPAIR_TRIES):                     # a busy round may change while we look
            seen = await self._engine.snapshot(round_id)   # its seq first, then the database
            truth = await load_truth(self._db, round_id)
            if truth is None:
                return False
            if truth.states() == {s: st for s, st in seen.seats.items() if st.state != HELD}:
                return False
            if await self._engine.repair(round_id, truth, seen.seq):
                log.warning("round %s: seat map repaired from the database", round_id)
                return True
        return False

    # ---- blocks (admin) ------------------------------------------------------------------------
    async def block(self, round_id: int, seat_ids: list[int]) -> list[int]:
        seat_ids = await self.checked_seats(round_id, seat_ids, on_sale=False)
        async with self._db.begin() as conn:
            await self.lock_round(conn, round_id)
            sold = (await conn.execute(sa.select(reservation_seats.c.seat_id).where(
                reservation_seats.c.round_id == round_id, reservation_seats.c.seat_id.in_(seat_ids),
                reservation_seats.c.live.is_(True)))).scalars().all()
            if sold:
                raise Conflict("Sold seats cannot be blocked.", code=Code.SEAT_UNAVAILABLE,
                               details={"seat_ids": sorted(sold)})
            already = set((await conn.execute(sa.select(round_blocks.c.seat_id).where(
                round_blocks.c.round_id == round_id, round_blocks.c.seat_id.in_(seat_ids)))).scalars())
            now = utcnow()
            new = [{"round_id": round_id, "seat_id": s, "created_at": now} for s in seat_ids if s not in already]
            if new:
                await conn.execute(round_blocks.insert(), new)
                await self._blocks_changed(conn, round_id)
        with self._asking_engine(round_id):
            self._metrics.released("blocked", await self._engine.block(round_id, seat_ids))
        return seat_ids

    async def unblock(self, round_id: int, seat_ids: list[int]) -> None:
        seat_ids = await self.checked_seats(round_id, seat_ids, on_sale=False)
        async with self._db.begin() as conn:
            await self.lock_round(conn, round_id)
            removed = await conn.execute(round_blocks.delete().where(round_blocks.c.round_id == round_id,
                                                                     round_blocks.c.seat_id.in_(seat_ids)))
            if removed.rowcount:
                await self._blocks_changed(conn, round_id)
        with self._asking_engine(round_id):
            await self._engine.unblock(round_id, seat_ids)
        await self.events.available(round_id, seat_ids)

    async def lock_round(self, conn, round_id: int) -> None:
        """The round, from the database rather than the cached layout, locked so that it cannot be
        deleted before the blocks are committed (a deleted round's blocks: 404, not a foreign key error)."""
        try:
            await lock_or_404(conn, rounds, round_id, "round")
        except NotFound:
            self._layouts.forget(round_id)
            raise

    @staticmethod
    async def _blocks_changed(conn, round_id: int) -> None:
        """Marks the round for the repair pass until the engine has surely heard (see repair_recent)."""
        await conn.execute(rounds.update().where(rounds.c.id == round_id).values(blocks_changed_at=utcnow()))
