"""The Redis engine: every change is one Lua script (state, seq, history and publish in one
atomic step), so every server instance sees a round's deltas in the same order.

One pub/sub connection per process, subscribed to the channels of the rounds that have local
viewers. If the connection drops, listeners are told they may have missed deltas (`None`). When a
round is deleted, its channel carries the notice (RoundDeleted) to every instance's listeners.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from functools import partial
from pathlib import Path

import msgspec
import redis.asyncio as redis

from seatmap.engine import HISTORY, ExpiredHold, Listener, Loader, RoundTruth
from seatmap.model import (BLOCKED, HELD, PENDING, SOLD, Change, Delta, HoldGranted, HoldLimitExceeded,
                           HoldTimeExceeded, NoSuchRound, RoundDeleted, SeatState, SeatUnavailable, Snapshot,
                           TooManyRequests)
from server.background import Background
from server.redis_client import listen, namespace

log = logging.getLogger(__name__)
_LUA = Path(__file__).parent / "lua"
_SCRIPTS = ("hold", "release", "sell", "settle", "free", "block", "unblock", "snapshot", "load", "expire", "repair",
            "drop")
EXPIRE_BATCH = 1000
# A deleted round's tombstone only has to outlast a load that read the database before the deletion
# (and the other instances' cached layouts): afterwards the database itself says there is no such round.
TOMBSTONE_SECONDS = 86_400


class _WireMessage(msgspec.Struct):
    round_id: int
    seq: int = 0
    changes: list[list[int | str]] = []    # [seat, state] or [seat, state, user]
    deleted: bool = False                  # drop.lua's notice


_decode_message = msgspec.json.Decoder(_WireMessage).decode


def round_keys(round_id: int) -> list[str]:
    """Must match round_ctx in lua/prelude.lua."""
    base = f"tb:{{r:{round_id}}}:"
    return [base + "seats", base + "owned", base + "seq", base + "log", base + "last", base + "gone"]


def requests_key(round_id: int, user_id: int) -> str:
    """A user's recent hold and release times in a round (lua/prelude.lua count_request); it expires
    by itself after the longest rate window."""
    return f"tb:{{r:{round_id}}}:requests:{user_id}"


def _rate_args(rates) -> list[int]:
    """The rates as the scripts take them: how many values follow, then amount, window, amount, ..."""
    flat = [value for rate in rates for value in rate]
    return [len(flat), *flat]


def parse_message(payload: str | bytes) -> Delta | RoundDeleted:
    wire = _decode_message(payload)
    if wire.deleted:
        return RoundDeleted(wire.round_id)
    return Delta(wire.round_id, wire.seq, tuple(Change(*c) for c in wire.changes))


def _encode_state(s: SeatState) -> str:
    return {PENDING: f"p|{s.user_id}", SOLD: "s", BLOCKED: "b"}[s.state]


def _truth_pairs(truth: RoundTruth) -> list[object]:
    """seat, value, seat, value, ... as the Lua scripts take a round's database truth."""
    return [x for seat, state in truth.states().items() for x in (seat, _encode_state(state))]


def _clock_arg(now_ms: int | None) -> int | str:
    """A time for a script: '' lets it read the Redis clock (the same for every instance)."""
    return "" if now_ms is None else now_ms


def _decode_state(value: str) -> SeatState:
    kind, _, rest = value.partition("|")
    if kind == "h":
        user, expires, *since = rest.split("|")
        return SeatState(HELD, int(user), int(expires), int(since[0]) if since else None)
    if kind == "p":
        return SeatState(PENDING, int(rest))
    return SeatState(SOLD if kind == "s" else BLOCKED)


class RedisEngine:
    def __init__(self, client: redis.Redis, loader: Loader):
        """`client` (from `connect`) must decode responses; the engine closes it."""
        self._redis = client
        self._loader = loader
        self._channel = namespace(client) + "d:"
        prelude = (_LUA / "prelude.lua").read_text().replace("local CHANNEL = 'tb:d:'",
                                                             f"local CHANNEL = '{self._channel}'")
        self._scripts = {name: client.register_script(prelude + (_LUA / f"{name}.lua").read_text())
                         for name in _SCRIPTS}
        self._listeners: dict[int, list[Listener]] = defaultdict(list)
        self._pubsub = client.pubsub()
        self._reader: Background | None = None

    # ---- changes ---------------------------------------------------------------------------
    async def _run(self, name: str, round_id: int, *args, extra_keys: tuple[str, ...] = ()) -> list:
        keys = round_keys(round_id) + list(extra_keys)
        for _ in range(3):
            result = await self._scripts[name](keys=keys, args=[round_id, *args])
            if result[0] == "gone":
                raise NoSuchRound(round_id)
            if result[0] != "not_loaded":
                return result
            await self._load(round_id)
        raise RuntimeError(f"round {round_id} would not load")

    async def _load(self, round_id: int) -> None:
        truth = await self._loader(round_id)
        if truth is None or await self._scripts["load"](keys=round_keys(round_id),
                                                       args=[round_id, *_truth_pairs(truth)]) == -1:
            raise NoSuchRound(round_id)

    async def hold(self, round_id, user_id, seat_ids, *, ttl_ms, limit, max_hold_ms=0, cooldown_ms=0, rates=(),
                   now_ms=None) -> HoldGranted:
        seat_ids = list(dict.fromkeys(seat_ids))
        result = await self._run("hold", round_id, user_id, ttl_ms, limit, _clock_arg(now_ms), max_hold_ms,
                                 cooldown_ms, *_rate_args(rates), *seat_ids, extra_keys=(requests_key(round_id, user_id),))
        if result[0] == "rate":
            raise TooManyRequests(int(result[1]))
        if result[0] == "taken":
            raise SeatUnavailable([int(s) for s in result[1]])
        if result[0] == "hold_time":
            raise HoldTimeExceeded([int(s) for s in result[1]], int(result[2]))
        if result[0] == "limit":
            raise HoldLimitExceeded(limit, int(result[1]))
        return HoldGranted(tuple(seat_ids), int(result[1]))

    async def release(self, round_id, user_id, seat_ids, *, rates=(), now_ms=None) -> list[int]:
        result = await self._run("release", round_id, user_id, _clock_arg(now_ms), *_rate_args(rates),
                                 *dict.fromkeys(seat_ids), extra_keys=(requests_key(round_id, user_id),))
        if result[0] == "rate":
            raise TooManyRequests(int(result[1]))
        return [int(s) for s in result[1]]

    async def sell(self, round_id, user_id, seat_ids) -> None:
        await self._run("sell", round_id, user_id, *seat_ids)

    async def settle(self, round_id, seat_ids) -> None:
        await self._run("settle", round_id, *seat_ids)

    async def free(self, round_id, seat_ids) -> None:
        await self._run("free", round_id, *seat_ids)

    async def block(self, round_id, seat_ids) -> None:
        result = await self._run("block", round_id, *dict.fromkeys(seat_ids))
        if result[0] == "taken":
            raise SeatUnavailable([int(s) for s in result[1]])

    async def unblock(self, round_id, seat_ids) -> None:
        await self._run("unblock", round_id, *seat_ids)

    async def repair(self, round_id, truth, seen_seq) -> bool:
        result = await self._run("repair", round_id, seen_seq, *_truth_pairs(truth))
        return result[0] == "ok"

    async def expire_due(self, now_ms=None) -> list[ExpiredHold]:
        flat = await self._scripts["expire"](keys=[], args=[0, _clock_arg(now_ms), EXPIRE_BATCH])
        return [ExpiredHold(int(flat[i]), int(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3)]

    # ---- reads -----------------------------------------------------------------------------
    async def snapshot(self, round_id) -> Snapshot:
        _, seq, flat = await self._run("snapshot", round_id)
        seats = {int(flat[i]): _decode_state(flat[i + 1]) for i in range(0, len(flat), 2)}
        return Snapshot(round_id, int(seq), seats)

    async def deltas_after(self, round_id, seq) -> list[Delta] | None:
        keys = round_keys(round_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            current, entries = await pipe.get(keys[2]).xrange(keys[3], min=f"{seq + 1}-0", count=HISTORY).execute()
        if current is None or seq > int(current):
            return None
        if seq == int(current):
            return []
        deltas = [parse_message(fields["d"]) for _id, fields in entries]
        if not deltas or deltas[0].seq != seq + 1:
            return None           # trimmed away: the client needs a snapshot
        return deltas

    # ---- fan-out ---------------------------------------------------------------------------
    async def subscribe(self, round_id, listener) -> None:
        first = not self._listeners.get(round_id)
        self._listeners[round_id].append(listener)
        if first:
            await self._pubsub.subscribe(self._channel + str(round_id))
        if self._reader is None:
            self._reader = Background()
            self._reader.spawn("seatmap-redis-pubsub",
                               partial(listen, self._pubsub, "seat maps", self._deliver, lambda: self._tell_all(None)))

    async def unsubscribe(self, round_id, listener) -> None:
        listeners = self._listeners.get(round_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners and self._listeners.pop(round_id, None) is not None:
            await self._pubsub.unsubscribe(self._channel + str(round_id))

    def _deliver(self, data: str) -> None:
        message = parse_message(data)
        for listener in list(self._listeners.get(message.round_id, ())):
            listener(message)

    def _tell_all(self, delta: Delta | None) -> None:
        for listeners in list(self._listeners.values()):
            for listener in list(listeners):
                listener(delta)

    async def forget(self, round_id) -> None:
        await self._redis.delete(*round_keys(round_id))

    async def drop(self, round_id) -> None:
        await self._scripts["drop"](keys=round_keys(round_id), args=[round_id, TOMBSTONE_SECONDS])

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
        await self._pubsub.aclose()
        await self._redis.aclose()
