"""Waiting room: 20,000 waiting users with their queue sockets open on one server instance (MariaDB +
Redis).

A round of a 2,000-seat hall with a waiting room and its sale opening in an hour. The users join
through the API (the pre-queue), then open their queue sockets (`/ws/rounds/{id}/queue`) from
WATCHER_PROCESSES load-generator processes (benchmarks/queue_watchers.py), each from its own
127.0.0.x address so that ephemeral ports do not run short. Then the sale opens and admission moves
the head on every second for --seconds: ROOM lets 100 in at once for a second each (an admission
ends after `session_seconds` and frees its slot for the next), ~100 places a second, and its
admit_per_minute (6,000) never binds. Measures:
- server RSS per waiting user: before the joins, after them, and with the sockets open;
- server CPU per position-update cycle: the server's CPU seconds over the window (the opening
  included) over the queue watch's ticks in it, counted as the distinct `server_time`s received (a
  tick's frames share theirs); the admission steps run in that CPU too;
- update latency: each `queue` frame's arrival minus its `server_time` (the same machine's clock),
  p50/p99/max; frames per socket per second; sockets that heard nothing for over 2 s while waiting.

    benchmarks/run queue [--users 20000] [--seconds 20] [--redis single|cluster|both]

Targets: ≤ 20 KiB per waiting user, position updates p99 ≤ 1 s.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter

from benchmarks.common import accounts, allow_open_files, api, big_show, fresh_backends, redis_kinds, servers
from benchmarks.results import cpu_seconds, load_note, percentile, record, rss_kib, table, verdict
from tests.support.waiting import set_room, set_sale

WATCHER_PROCESSES = 4
JOINING_AT_ONCE = 200
ROOM = {"max_active": 100, "session_seconds": 1, "admit_per_minute": 6000, "prequeue_minutes": 120}
# Admission steps every 0.1 s (default 0.5): a second's admissions end within 0.1 s of their second, so
# the head moves by ~100 between one tick of the queue watch and the next, not now and then.
STEP_SECONDS = 0.1
PROBE_SECONDS = 0.1      # a cheap request this often through the window: how long the event loop is kept busy
async def join_all(client, round_id: int, tokens: list[str]) -> None:
    """Every user joins the waiting room through the API, JOINING_AT_ONCE at a time."""
    for start in range(0, len(tokens), JOINING_AT_ONCE):
        replies = await asyncio.gather(*(client.post(f"/api/rounds/{round_id}/queue", token=token)
                                         for token in tokens[start:start + JOINING_AT_ONCE]))
        refused = [r.json for r in replies if r.status != 200 or r.json["status"] != "waiting"]
        assert not refused, refused[:3]


async def open_sockets(port: int, round_id: int, tokens: list[str]) -> tuple[list[asyncio.subprocess.Process], int]:
    """The watcher processes, each with its share of the users' sockets open; and how many are open."""
    procs = []
    for i in range(WATCHER_PROCESSES):
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.queue_watchers",
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                    limit=1 << 26)
        spec = {"port": port, "round_id": round_id, "tokens": tokens[i::WATCHER_PROCESSES], "source": f"127.0.0.{2 + i}"}
        proc.stdin.write(json.dumps(spec).encode() + b"\n")
        await proc.stdin.drain()
        procs.append(proc)
    opened = 0
    for proc in procs:
        line = (await asyncio.wait_for(proc.stdout.readline(), 600)).decode().split()
        assert line and line[0] == "ready", line
        opened += int(line[1])
    return procs, opened


async def tell(procs, command: str) -> list[dict]:
    """Send a command to every watcher process; their answers (to `report`)."""
    for proc in procs:
        proc.stdin.write(command.encode() + b"\n")
    await asyncio.gather(*(proc.stdin.drain() for proc in procs))
    return [json.loads(await proc.stdout.readline()) for proc in procs] if command == "report" else []


async def probe(client, seconds: float) -> list[float]:
    """GET /api/time every PROBE_SECONDS for `seconds`: its times (ms), which show how long the
    instance's event loop is kept from answering (by the ticks, which push to every socket in one go)."""
    times = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        reply = await client.get("/api/time")
        assert reply.status == 200, reply.json
        times.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(max(0.0, PROBE_SECONDS - times[-1] / 1000))           # pacing, not syncing
    return times


async def measure(settings: dict, users: int, seconds: float) -> dict:
    # Thousands of sockets from a few loopback addresses: far over the per-address connection limit.
    async with servers(1, rate_limit_ws_connects_per_address="", waiting_room_step_seconds=STEP_SECONDS,
                       **settings) as (server,), api(server) as client:
        show = await big_show(client)
        round_id, admin = show["round_id"], show["admin"]
        await set_room(client, admin, round_id, **ROOM)
        await set_sale(client, admin, round_id, 3600)
        tokens = await accounts(settings["database_url"], users)
        rss_empty = rss_kib(server.pid)
        await join_all(client, round_id, tokens)
        rss_joined = rss_kib(server.pid)
        procs, opened = await open_sockets(server.port, round_id, tokens)
        rss_open = rss_kib(server.pid)
        await tell(procs, "mark")
        cpu_before = cpu_seconds(server.pid)
        load_before = sum(cpu_seconds(p.pid) for p in procs)
        started = time.monotonic()
        await set_sale(client, admin, round_id, 0)               # the opening: the head starts moving
        answers_ms = await probe(client, seconds)                # the measurement window
        elapsed = time.monotonic() - started
        server_cpu = cpu_seconds(server.pid) - cpu_before
        load_cpu = sum(cpu_seconds(p.pid) for p in procs) - load_before
        reports = await tell(procs, "report")
        room = (await client.get(f"/api/rounds/{round_id}/waiting-room", token=admin)).json
        await tell(procs, "quit")
        await asyncio.gather(*(proc.wait() for proc in procs))
    latencies = [ms for r in reports for ms, n in r["latency_ms"] for _ in range(n)]
    ticks = len({t for r in reports for t in r["server_times"]})
    frames = sum(r["frames"] for r in reports)
    return {"users": users, "open": opened, "open_at_end": sum(r["open"] for r in reports), "seconds": elapsed,
            "rss_empty_mib": rss_empty / 1024, "rss_open_mib": rss_open / 1024,
            "rss_per_user_kib": (rss_open - rss_empty) / users, "rss_join_kib": (rss_joined - rss_empty) / users,
            "rss_socket_kib": (rss_open - rss_joined) / opened,
            "ticks": ticks, "cpu_per_tick_ms": server_cpu / ticks * 1000 if ticks else float("nan"),
            "server_cpu": server_cpu / elapsed, "load_cpu": load_cpu / elapsed,
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies, default=float("nan")), "frames": frames,
            "waiting_frames_per_s": sum(r["waiting_frames"] for r in reports) / sum(r["waiting_seconds"] for r in reports),
            "quiet_over_2s": sum(r["quiet_over"]["2"] for r in reports),
            "quiet_over_3s": sum(r["quiet_over"]["3"] for r in reports),
            "answer_p50_ms": percentile(answers_ms, 50), "answer_p99_ms": percentile(answers_ms, 99),
            "answer_max_ms": max(answers_ms),
            "longest_quiet_s": max(r["longest_quiet_s"] for r in reports),
            "statuses": dict(sum((Counter(r["statuses"]) for r in reports), Counter())),
            "admitted_total": room["admitted_total"], "waiting_at_end": room["waiting"]}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=20, help="the measurement window, from the opening")
    parser.add_argument("--redis", choices=("single", "cluster", "both"), default="single",
                        help="one Redis, the Redis Cluster (3 masters), or both in turn (its own section)")
    args = parser.parse_args()
    allow_open_files(args.users)
    load_before = os.getloadavg()[0]
    rows = []
    for redis_kind in redis_kinds(args.redis):
        row = {**await measure(await fresh_backends(redis_kind=redis_kind), args.users, args.seconds), "redis": redis_kind}
        print(json.dumps(row), flush=True)
        rows.append(row)
    results = table(
        ["waiting users", "Redis", "RSS per user (join + socket)", "server RSS", "CPU per update cycle", "server CPU",
         "update p50", "p99", "max", "frames per waiting socket/s", "quiet > 2 s, > 3 s (longest)", "sockets dropped",
         "GET /api/time p99 (max)", "admitted", "watchers' CPU"], "rl" + "r" * 13,
        [[f"{r['open']:,}", r["redis"],
          f"{r['rss_per_user_kib']:.1f} KiB ({r['rss_join_kib']:.1f} + {r['rss_socket_kib']:.1f})",
          f"{r['rss_empty_mib']:.0f} → {r['rss_open_mib']:.0f} MiB", f"{r['cpu_per_tick_ms']:.0f} ms ({r['ticks']} ticks)",
          f"{r['server_cpu']:.0%}", f"{r['p50_ms']:.0f} ms", f"{r['p99_ms']:.0f} ms", f"{r['max_ms']:.0f} ms",
          f"{r['waiting_frames_per_s']:.2f}", f"{r['quiet_over_2s']:,}, {r['quiet_over_3s']:,} ({r['longest_quiet_s']:.2f} s)",
          f"{r['open'] - r['open_at_end']}", f"{r['answer_p99_ms']:.0f} ms ({r['answer_max_ms']:.0f} ms)",
          f"{r['admitted_total']:,}", f"{r['load_cpu']:.0%}"] for r in rows])
    record("queue" if args.redis == "single" else f"queue-redis-{args.redis}", f"""
One server instance (MariaDB + Redis), one round of a 2,000-seat hall with a waiting room
(max_active {ROOM['max_active']}, session_seconds {ROOM['session_seconds']}, admit_per_minute {ROOM['admit_per_minute']:,},
admission steps every {STEP_SECONDS} s: each admission ends after a second and frees its slot, so the head moves ~100 places a
second; the per-minute cap never binds). The users join through the API before the opening
(accounts made straight in the database, tokens signed with the server's secret), then open their
queue sockets from {WATCHER_PROCESSES} Python processes (benchmarks/queue_watchers.py, one 127.0.0.x address each,
parsing every frame). Then the sale opens and the {args.seconds:.0f} s window begins (the opening's tick, which
looks every place up once, included).
- RSS per user: the server's resident memory with the sockets open minus before the joins, over the
  users (the joins' share: token and account caches; the sockets').
- CPU per update cycle: the server's CPU seconds in the window over the queue watch's ticks in it
  (the distinct `server_time`s received; the admission steps' CPU is in it too).
- Update latency: a `queue` frame's arrival minus its `server_time` (set at the tick's start).
- Frames per waiting socket per second: position frames over the seconds sockets spent waiting.
- Quiet > 2 s, > 3 s: open sockets that heard nothing for over 2 s while waiting ("at least every
  2 s"), and over 3 s (a beat missed).
- GET /api/time, every {PROBE_SECONDS} s through the window: how long other requests wait on this
  instance while a tick pushes to every socket.
Everything shares the machine's two cores. {load_note(load_before)}
Targets: ≤ 20 KiB per waiting user, position updates p99 ≤ 1 s.

{results}

{targets(rows)}
""")


def targets(rows: list[dict]) -> str:
    return table(["target", "Redis", "measured", ""], "llrl", [
        cell for r in rows for cell in (
            ["≤ 20 KiB per waiting user", r["redis"], f"{r['rss_per_user_kib']:.1f} KiB", verdict(r["rss_per_user_kib"] <= 20)],
            ["position updates p99 ≤ 1 s", r["redis"], f"{r['p99_ms']:.0f} ms", verdict(r["p99_ms"] <= 1000)],
            ["no waiting socket quiet > 2 s", r["redis"], f"{r['quiet_over_2s']:,}", verdict(not r["quiet_over_2s"])])])


if __name__ == "__main__":
    asyncio.run(main())
