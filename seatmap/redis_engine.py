"""The Redis engine: every change is one Lua script (state, seq, history and publish in one
atomic step), so every server instance sees a round's deltas in the same order. A script touches
only its round's keys, all under the round's hash tag and all passed in KEYS, so it runs on a Redis
Cluster as on a single Redis; and it checks what could fail before its first write
(lua/prelude.lua), so it never half-applies.

One pub/sub subscription per process, to the channels of the rounds that have local viewers:
classic pub/sub on a single Redis, sharded pub/sub on a cluster (each round's channel lives in its
slot, so a delta goes only to the node that owns the round and its replicas). If the connection
drops, listeners are told they may have missed deltas (`None`). When a round is deleted, its
channel carries the notice (RoundDeleted) to every instance's listeners.

A script Redis does not answer in time (it is down, or a cluster master hung and its replica has not
taken over yet) raises EngineUnavailable instead of keeping its caller waiting.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from functools import lru_cache, partial
from pathlib import Path

import msgspec

from seatmap.engine import HISTORY, ExpiredHold, Listener, Loader, RoundTruth
from seatmap.line import Gate, NotAdmitted, SaleNotOpen
from seatmap.model import (BLOCKED, HELD, PENDING, SOLD, Change, Delta, EngineUnavailable, HoldGranted,
                           HoldLimitExceeded, HoldTimeExceeded, NoSuchRound, RoundDeleted, SeatState,
                           SeatUnavailable, Snapshot, TooManyRequests)
from seatmap.redis_line import RedisLine, clock_arg
from server.background import Background
from server.redis_batching import ScriptBatcher
from server.redis_client import (ANSWER_WITHIN_SECONDS, UNREACHABLE, Client, database, is_cluster, listen,
                                 listen_sharded, subscribe, unsubscribe)

log = logging.getLogger(__name__)
_LUA = Path(__file__).parent / "lua"
_SCRIPTS = ("hold", "release", "sell", "settle", "free", "block", "unblock", "snapshot", "history", "load", "expire",
            "repair", "drop", "gate", "line_join", "line_place", "line_places", "line_end", "line_touch", "line_admit",
            "line_figures")
_READ_ONLY = ("snapshot", "history", "line_figures", "line_places")
EXPIRE_BATCH = 1000
# The sweeper's look at rounds no live instance knows (see expire_due): keys read per node per sweep.
SCAN_COUNT = 250
# Rounds this instance knows are swept when their deadline has passed by its own clock, give or take
# this much (the scripts decide by the Redis clock).
CLOCK_SLACK_MS = 1000
# A deleted round's tombstone only has to outlast a load that read the database before the deletion
# (and the other instances' cached layouts): afterwards the database itself says there is no such round.
TOMBSTONE_SECONDS = 86_400


class _WireMessage(msgspec.Struct):
    round_id: int
    seq: int = 0
    changes: list[list[int | str]] = []    # [seat, state] or [seat, state, user]
    deleted: bool = False                  # drop.lua's notice


_decode_message = msgspec.json.Decoder(_WireMessage).decode


def round_keys(prefix: str, round_id: int, db: int = 0) -> list[str]:
    """A round's keys and channel, in KEYS order of lua/prelude.lua (round_ctx). The channel carries
    the database number: channels are shared by a server's databases, keys are not."""
    base = f"{prefix}:{{r:{round_id}}}:"
    return [base + "seats", base + "owned", base + "seq", base + "log", base + "last", base + "gone",
            base + "deadlines", base + "gate", *(base + "line:" + name for name in _LINE_KEYS), f"{base}d:{db}"]


@lru_cache(maxsize=4096)
def script_keys(prefix: str, round_id: int, db: int = 0) -> tuple[bytes, ...]:
    """round_keys as every script call passes them, built and encoded once per round: made afresh,
    the ~20 keys of a hold were a quarter of what redis-py spends packing it."""
    return tuple(key.encode() for key in round_keys(prefix, round_id, db))


_LINE_KEYS = ("order", "place", "head", "admitted", "recent", "seen", "done", "addresses", "stats")


def requests_key(prefix: str, round_id: int, user_id: int) -> str:
    """A user's recent hold and release times in a round (lua/prelude.lua count_request); it expires
    by itself after the longest rate window."""
    return f"{prefix}:{{r:{round_id}}}:requests:{user_id}"


def _rate_args(rates) -> list[int]:
    """The rates as the scripts take them: how many values follow, then amount, window, amount, ..."""
    flat = [value for rate in rates for value in rate]
    return [len(flat), *flat]


def parse_message(payload: str | bytes) -> Delta | RoundDeleted:
    wire = _decode_message(payload)
    if wire.deleted:
        return RoundDeleted(wire.round_id)
    return Delta(wire.round_id, wire.seq, tuple(Change(*c) for c in wire.changes))


def gate_args(gate: Gate) -> list[object]:
    """A gate as write_gate (lua/prelude.lua) takes it: opens, queued, prequeue, active, per_minute, session, total,
    version."""
    rules = gate.line
    return ["" if gate.opens_ms is None else gate.opens_ms, "1" if rules else "",
            *((rules.prequeue_ms, rules.max_active, rules.admit_per_minute, rules.session_ms) if rules else ("",) * 4),
            gate.seats_total, gate.version]


def _encode_state(s: SeatState) -> str:
    return {PENDING: f"p|{s.user_id}", SOLD: "s", BLOCKED: "b"}[s.state]


def _truth_pairs(truth: RoundTruth) -> list[object]:
    """seat, value, seat, value, ... as the Lua scripts take a round's database truth."""
    return [x for seat, state in truth.states().items() for x in (seat, _encode_state(state))]


def _decode_state(value: str) -> SeatState:
    kind, _, rest = value.partition("|")
    if kind == "h":
        user, expires, *since = rest.split("|")
        return SeatState(HELD, int(user), int(expires), int(since[0]) if since else None)
    if kind == "p":
        return SeatState(PENDING, int(rest))
    return SeatState(SOLD if kind == "s" else BLOCKED)


def _script(name: str, sharded: bool) -> str:
    """A script as Redis runs it: the shebang (Redis refuses a script that may write at its start
    when out of memory, rather than at a write half way), the prelude, the script."""
    prelude = (_LUA / "prelude.lua").read_text()
    if sharded:
        prelude = prelude.replace("local PUBLISH = 'PUBLISH'", "local PUBLISH = 'SPUBLISH'")
    if name.startswith("line_"):
        prelude += (_LUA / "line_prelude.lua").read_text()
    shebang = "#!lua flags=no-writes\n" if name in _READ_ONLY else "#!lua\n"
    return shebang + prelude + (_LUA / f"{name}.lua").read_text()


class RedisEngine:
    def __init__(self, client: Client, loader: Loader, *, prefix: str = "tb"):
        """`client` (from `connect`: a single Redis or a cluster) must decode responses; the engine
        closes it. `prefix` starts every key and channel name (TICKETBLUE_REDIS_KEY_PREFIX)."""
        self._redis = client
        self._loader = loader
        self._prefix = prefix
        self._db = database(client)
        self._sharded = is_cluster(client)
        self._scripts = {name: client.register_script(_script(name, self._sharded)) for name in _SCRIPTS}
        self._batcher = ScriptBatcher(client, answer_within=ANSWER_WITHIN_SECONDS)
        self._listeners: dict[int, list[Listener]] = defaultdict(list)
        self._pubsub = client.pubsub()
        self._reader: Background | None = None
        self._deadlines: dict[int, int] = {}        # rounds with holds this instance knows: earliest deadline
        self._scan_cursors: dict[str, int] = {}     # node -> where the sweeper's scan goes on
        self.line = RedisLine(self._run)

    def _keys(self, round_id: int) -> tuple[bytes, ...]:
        return script_keys(self._prefix, round_id, self._db)

    def _knows_deadline(self, round_id: int, deadline_ms: int) -> None:
        known = self._deadlines.get(round_id)
        self._deadlines[round_id] = deadline_ms if known is None else min(known, deadline_ms)

    # ---- changes ---------------------------------------------------------------------------
    async def _call(self, name: str, keys: tuple[bytes | str, ...], args: list) -> list:
        """One script, or EngineUnavailable if Redis does not answer it in time (see ANSWER_WITHIN_SECONDS)."""
        try:                                      # its batches are answered, or fail, within that time
            return await self._batcher.call(self._scripts[name], keys, args)
        except UNREACHABLE as exc:
            raise EngineUnavailable(f"Redis did not answer {name} for round {args[0]}: {exc!r}") from exc

    async def _run(self, name: str, round_id: int, *args, extra_keys: tuple[str, ...] = ()) -> list:
        keys = (*self._keys(round_id), *extra_keys)
        for _ in range(3):
            result = await self._call(name, keys, [round_id, *args])
            if result[0] == "gone":
                raise NoSuchRound(round_id)
            if result[0] != "not_loaded":
                return result
            await self._load(round_id)
        raise RuntimeError(f"round {round_id} would not load")

    async def _load(self, round_id: int) -> None:
        truth = await self._loader(round_id)
        if truth is None or await self._call("load", self._keys(round_id),
                                             [round_id, *gate_args(truth.gate), *_truth_pairs(truth)]) == -1:
            raise NoSuchRound(round_id)

    async def set_gate(self, round_id, gate) -> None:
        await self._run("gate", round_id, *gate_args(gate))

    async def hold(self, round_id, user_id, seat_ids, *, ttl_ms, limit, max_hold_ms=0, cooldown_ms=0, rates=(),
                   now_ms=None) -> HoldGranted:
        seat_ids = list(dict.fromkeys(seat_ids))
        result = await self._run("hold", round_id, user_id, ttl_ms, limit, clock_arg(now_ms), max_hold_ms,
                                 cooldown_ms, *_rate_args(rates), *seat_ids,
                                 extra_keys=(requests_key(self._prefix, round_id, user_id),))
        if result[0] == "not_open":
            raise SaleNotOpen(int(result[1]))
        if result[0] == "not_admitted":
            raise NotAdmitted(int(result[1]) if result[1] else None)
        if result[0] == "rate":
            raise TooManyRequests(int(result[1]))
        if result[0] == "taken":
            raise SeatUnavailable([int(s) for s in result[1]])
        if result[0] == "hold_time":
            raise HoldTimeExceeded([int(s) for s in result[1]], int(result[2]))
        if result[0] == "limit":
            raise HoldLimitExceeded(limit, int(result[1]))
        self._knows_deadline(round_id, int(result[1]))
        return HoldGranted(tuple(seat_ids), int(result[1]))

    async def release(self, round_id, user_id, seat_ids, *, rates=(), now_ms=None) -> list[int]:
        result = await self._run("release", round_id, user_id, clock_arg(now_ms), *_rate_args(rates),
                                 *dict.fromkeys(seat_ids), extra_keys=(requests_key(self._prefix, round_id, user_id),))
        if result[0] == "rate":
            raise TooManyRequests(int(result[1]))
        return [int(s) for s in result[1]]

    async def sell(self, round_id, user_id, seat_ids) -> None:
        await self._run("sell", round_id, user_id, *seat_ids)

    async def settle(self, round_id, seat_ids) -> None:
        await self._run("settle", round_id, *seat_ids)

    async def free(self, round_id, seat_ids) -> None:
        await self._run("free", round_id, *seat_ids)

    async def block(self, round_id, seat_ids) -> int:
        result = await self._run("block", round_id, *dict.fromkeys(seat_ids))
        if result[0] == "taken":
            raise SeatUnavailable([int(s) for s in result[1]])
        return int(result[1])

    async def unblock(self, round_id, seat_ids) -> None:
        await self._run("unblock", round_id, *seat_ids)

    async def repair(self, round_id, truth, seen_seq) -> bool:
        result = await self._run("repair", round_id, seen_seq, *_truth_pairs(truth))
        return result[0] == "ok"

    async def expire_due(self, now_ms=None) -> list[ExpiredHold]:
        """Deadlines are kept per round, in the round's slot (a script may touch only one slot), so
        the sweeper must find the rounds to sweep. Each instance sweeps the rounds it saw holds in
        (it knows their earliest deadline from the scripts' answers), plus the rounds a bounded scan
        of every node finds this time (SCAN_COUNT keys a node, the cursor going on next time): those
        held by an instance that is gone. A global index would live in another slot than the round,
        so it could not change in the same atomic step as the hold: a crash between the two would
        lose a deadline, or a racing sweeper would drop a new one. The expire script is idempotent,
        so every instance may sweep the same round at once; each hold is expired by one of them.
        (A hold another instance made in a round this one knows, earlier than the deadline this one
        knows, is expired by that instance, or when this one's deadline comes if that one is gone.)"""
        now = time.time() * 1000 if now_ms is None else now_ms
        due = {r for r, deadline in self._deadlines.items() if deadline <= now + CLOCK_SLACK_MS}
        # (A round it knows is swept by its deadline, not each time the scan passes it: the expire
        # script answers the round's next deadline, whichever instance's hold it is.)
        due.update(r for r in await self._scan_for_deadlines() if r not in self._deadlines)
        results = await asyncio.gather(*(self._expire_round(r, now_ms) for r in sorted(due)), return_exceptions=True)
        expired = []
        for round_id, result in zip(sorted(due), results):
            if isinstance(result, Exception):
                log.error("holds of round %d could not be expired: %s", round_id, result)
            else:
                expired += result
        return expired

    async def _expire_round(self, round_id: int, now_ms: int | None) -> list[ExpiredHold]:
        flat, next_deadline = await self._call("expire", self._keys(round_id),
                                               [round_id, clock_arg(now_ms), EXPIRE_BATCH])
        if next_deadline:
            self._deadlines[round_id] = int(next_deadline)
        else:
            self._deadlines.pop(round_id, None)
        return [ExpiredHold(round_id, int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def _scan_for_deadlines(self) -> set[int]:
        """One step of a scan over every node for rounds' deadline sets."""
        pattern = f"{self._prefix}:{{r:*}}:deadlines"
        found: list[str] = []
        if self._sharded:
            for node in self._redis.get_primaries():
                cursors, keys = await self._redis.scan(self._scan_cursors.get(node.name, 0), match=pattern,
                                                       count=SCAN_COUNT, target_nodes=node)
                self._scan_cursors[node.name] = cursors[node.name]
                found += keys
        else:
            self._scan_cursors[""], found = await self._redis.scan(self._scan_cursors.get("", 0), match=pattern,
                                                                   count=SCAN_COUNT)
        start = len(self._prefix) + 4                   # "<prefix>:{r:"
        return {int(key[start:key.index("}", start)]) for key in found}

    # ---- reads -----------------------------------------------------------------------------
    async def snapshot(self, round_id) -> Snapshot:
        _, seq, flat = await self._run("snapshot", round_id)
        seats = {int(flat[i]): _decode_state(flat[i + 1]) for i in range(0, len(flat), 2)}
        return Snapshot(round_id, int(seq), seats)

    async def deltas_after(self, round_id, seq) -> list[Delta] | None:
        current, entries = await self._call("history", self._keys(round_id), [round_id, seq, HISTORY])
        if current is None:
            return None           # not loaded
        current = int(current)
        if seq > current or seq < current - HISTORY:
            return None           # from the future, or older than the HISTORY kept (the log may hold a few more)
        if seq == current:
            return []
        deltas = [parse_message(fields[1]) for _id, fields in entries]
        if not deltas or deltas[0].seq != seq + 1:
            return None           # trimmed away: the client needs a snapshot
        return deltas

    # ---- fan-out ---------------------------------------------------------------------------
    async def subscribe(self, round_id, listener) -> None:
        first = not self._listeners.get(round_id)
        self._listeners[round_id].append(listener)
        if first:
            await subscribe(self._pubsub, self._keys(round_id)[-1])
        if self._reader is None:
            self._reader = Background()
            self._reader.spawn("seatmap-redis-pubsub",
                               partial(listen_sharded if self._sharded else listen, self._pubsub, "seat maps",
                                       self._deliver, lambda: self._tell_all(None)))

    async def unsubscribe(self, round_id, listener) -> None:
        listeners = self._listeners.get(round_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners and self._listeners.pop(round_id, None) is not None:
            await unsubscribe(self._pubsub, self._keys(round_id)[-1])

    def _deliver(self, data: str) -> None:
        message = parse_message(data)
        for listener in list(self._listeners.get(message.round_id, ())):
            listener(message)

    def _tell_all(self, delta: Delta | None) -> None:
        for listeners in list(self._listeners.values()):
            for listener in list(listeners):
                listener(delta)

    async def forget(self, round_id) -> None:
        self._deadlines.pop(round_id, None)
        await self._redis.delete(*self._keys(round_id)[:-1])

    async def drop(self, round_id) -> None:
        self._deadlines.pop(round_id, None)
        await self._call("drop", self._keys(round_id), [round_id, TOMBSTONE_SECONDS])

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
        await self._batcher.finish()
        await self._pubsub.aclose()
        await self._redis.aclose()
