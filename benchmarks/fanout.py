"""Fan-out: 1k / 5k / 10k viewers on one round while a driver makes 200 seat changes a second.

Measures, per viewer count, on one server instance and on two sharing the viewers (MariaDB + Redis):
- change → viewer latency p50/p99: from the driver sending a hold or release to a probe viewer
  receiving the delta that carries it (20 probe viewers, all parsing every frame);
- frames delivered per second to all viewers (the counting viewers' bytes over the probes'
  measured bytes per frame);
- server RSS per viewer (resident memory after the viewers connected, minus before, over count);
- server CPU use.
The viewers run in separate processes (benchmarks/viewers.py), the driver and probes in this one.

    benchmarks/run fanout [--counts 1000,5000,10000] [--instances 1,2] [--seconds 15]
                          [--event-loops uvloop|asyncio|asyncio,uvloop]
(with more than one event loop the rows go to a section of their own, fanout-event-loops)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp

from benchmarks.common import api, big_show, fresh_backends, go_loadgen, redis_kinds, servers
from benchmarks.results import cpu_seconds, percentile, record, rss_kib, table
from tests.support.raw_ws import RawSocket

RATE = 200              # seat changes per second
PROBES = 20
VIEWER_PROCESSES = 2
HELD_AT_ONCE = 100      # the driver holds this many seats, then releases the oldest for each new one


class Probe:
    """A viewer that parses every frame and notes when each (seat, state) first arrived."""

    def __init__(self, socket: RawSocket):
        self.socket = socket
        self.seen: dict[tuple[int, str], float] = {}
        self.frames = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            frame = await self.socket.next_frame(timeout=3600)
            if frame["type"] != "delta":
                if frame["type"] in ("close", "eof"):
                    return
                continue
            now = time.monotonic()
            self.frames += 1
            for seat, state in frame["changes"]:
                self.seen.setdefault((seat, state), now)


async def drive(ws: aiohttp.ClientWebSocketResponse, seat_ids: list[int], seconds: float) -> dict:
    """RATE changes a second for `seconds`: hold the next seat, release the oldest held one."""
    sent: dict[tuple[int, str], float] = {}
    held: list[int] = []
    cursor = 0
    start = time.monotonic()
    for n in range(int(RATE * seconds)):
        await asyncio.sleep(max(0.0, start + n / RATE - time.monotonic()))    # pacing, not syncing
        if len(held) < HELD_AT_ONCE:
            seat, kind, state = seat_ids[cursor % len(seat_ids)], "hold", "held"
            cursor += 1
            held.append(seat)
        else:
            seat, kind, state = held.pop(0), "release", "available"
        sent[(seat, state)] = time.monotonic()
        await ws.send_str(json.dumps({"type": kind, "seat_ids": [seat]}))
    return sent


def viewers_command() -> list[str]:
    """The Go viewers when Go is installed (cheaper, so the server gets the CPU), else Python's."""
    binary = go_loadgen()
    return [str(binary), "viewers"] if binary else [sys.executable, "-m", "benchmarks.viewers"]


async def spawn_viewers(ports: list[int], round_id: int, count: int) -> list[asyncio.subprocess.Process]:
    """VIEWER_PROCESSES processes sharing `count` viewers, each process on one of the ports in turn."""
    share = [count // VIEWER_PROCESSES + (i < count % VIEWER_PROCESSES) for i in range(VIEWER_PROCESSES)]
    procs = [await asyncio.create_subprocess_exec(*viewers_command(), str(ports[i % len(ports)]), str(round_id), str(n),
                                                  stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
             for i, n in enumerate(share)]
    for proc in procs:
        line = (await asyncio.wait_for(proc.stdout.readline(), 300)).decode().split()
        assert line and line[0] == "ready", line
    return procs


async def ask(procs) -> dict:
    totals = {"open": 0, "bytes": 0}
    for proc in procs:
        proc.stdin.write(b"report\n")
        report = json.loads(await proc.stdout.readline())
        for key in totals:
            totals[key] += report[key]
    return totals


async def measure(settings: dict, count: int, seconds: float, instances: int) -> dict:
    """With two instances the viewers and probes are split between them and the driver talks to the
    first: half the changes reach half the viewers through Redis from the other instance."""
    # Thousands of viewers connect from one loopback address: far over the per-address connection limit;
    # and the driver's changes (RATE a second, from one account) are far over the holds' own.
    async with servers(instances, max_seats_per_user=1000, rate_limit_ws_connects_per_address="",
                       rate_limit_holds_per_account="",
                       **settings) as running, api(running[0]) as client:
        show = await big_show(client)
        return await measure_running([server.port for server in running], [server.pid for server in running],
                                     show["round_id"], show["seat_ids"], await client.token(), count, seconds)


async def measure_running(ports: list[int], pids: list[int], round_id: int, seat_ids: list[int], token: str,
                          count: int, seconds: float) -> dict:
    """The measurement on servers already running (`ports`, their `pids`), the driver signed in with `token`."""
    instances = len(ports)
    async with aiohttp.ClientSession() as http:
        driver = await http.ws_connect(f"http://127.0.0.1:{ports[0]}/ws/rounds/{round_id}?token={token}")
        drain = asyncio.create_task(_drain(driver))
        probes = [Probe(await RawSocket.connect(ports[i % instances], f"/ws/rounds/{round_id}")) for i in range(PROBES)]
        rss_before = sum(rss_kib(pid) for pid in pids)
        procs = await spawn_viewers(ports, round_id, count)
        rss_after = sum(rss_kib(pid) for pid in pids)
        before, cpu_before = await ask(procs), sum(cpu_seconds(pid) for pid in pids)
        load_cpu_before = sum(cpu_seconds(p.pid) for p in procs) + time.process_time()
        frames_before = sum(p.frames for p in probes)
        started = time.monotonic()
        sent = await drive(driver, seat_ids, seconds)
        # Everything sent has reached the probes once the last change has (probes see all of them).
        last = max(sent, key=sent.get)
        while not all(last in p.seen for p in probes) and time.monotonic() - started < seconds + 30:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        after, cpu_after = await ask(procs), sum(cpu_seconds(pid) for pid in pids)
        load_cpu = sum(cpu_seconds(p.pid) for p in procs) + time.process_time() - load_cpu_before
        latencies = [(p.seen[key] - t) * 1000 for p in probes for key, t in sent.items() if key in p.seen]
        missing = sum(1 for p in probes for key in sent if key not in p.seen)
        probe_frames = (sum(p.frames for p in probes) - frames_before) / PROBES
        for proc in procs:
            proc.stdin.write(b"quit\n")
        await asyncio.gather(*(proc.wait() for proc in procs))
        drain.cancel()
        await driver.close()
        for p in probes:
            p.socket.close()
            p.task.cancel()
    frame_bytes = _frame_bytes(seat_ids)
    delivered = (after["bytes"] - before["bytes"]) / frame_bytes + probe_frames * PROBES
    return {"viewers": count, "instances": instances, "open_at_end": after["open"], "changes": len(sent),
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies) if latencies else float("nan"), "missing": missing,
            "frames_per_s": delivered / elapsed, "deltas_per_probe": probe_frames,
            "rss_per_viewer_kib": (rss_after - rss_before) / count, "rss_mib": rss_after / 1024,
            "server_cpu": (cpu_after - cpu_before) / elapsed, "load_cpu": load_cpu / elapsed}


def _frame_bytes(seat_ids: list[int]) -> float:
    """Mean wire size of one delta frame (2-byte header + JSON), over the seats the driver uses."""
    from seatmap.frames import delta_frame
    from seatmap.model import Change, Delta
    sizes = [2 + len(delta_frame(Delta(1, 1795000000000000, (Change(s, state),)))) for s in seat_ids[:200]
             for state in ("held", "available")]
    return sum(sizes) / len(sizes)


async def _drain(ws) -> None:
    async for _ in ws:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1000,5000,10000")
    parser.add_argument("--instances", default="1,2")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--redis", choices=("single", "cluster", "both"), default="single",
                        help="one Redis, the Redis Cluster (3 masters), or both in turn (its own section)")
    parser.add_argument("--event-loops", default="uvloop",
                        help="the servers' TICKETBLUE_EVENT_LOOP, one or more in turn (e.g. asyncio,uvloop)")
    args = parser.parse_args()
    loops = args.event_loops.split(",")
    rows = []
    for instances in map(int, args.instances.split(",")):
        for count in map(int, args.counts.split(",")):
            for redis_kind in redis_kinds(args.redis):
                for loop in loops:
                    settings = {**await fresh_backends(redis_kind=redis_kind), "event_loop": loop}
                    result = {**await measure(settings, count, args.seconds, instances), "redis": redis_kind,
                              "loop": loop}
                    print(json.dumps(result), flush=True)
                    rows.append(result)
    results = table(
        ["instances", "viewers", "Redis", "event loop", "p50 latency", "p99 latency", "max", "frames/s delivered", "RSS per viewer",
         "server CPU (all instances)", "load generators' CPU", "lost"], "rrll" + "r" * 8,
        [[f"{r['instances']}", f"{r['viewers']:,}", r["redis"], r["loop"], f"{r['p50_ms']:.1f} ms", f"{r['p99_ms']:.1f} ms",
          f"{r['max_ms']:.0f} ms", f"{r['frames_per_s']:,.0f}", f"{r['rss_per_viewer_kib']:.1f} KiB",
          f"{r['server_cpu']:.0%}", f"{r['load_cpu']:.0%}", f"{r['missing']}"] for r in rows])
    name = "fanout" if args.redis == "single" else f"fanout-redis-{args.redis}"
    record(name if len(loops) == 1 else "fanout-event-loops", f"""
One server instance, then two (MariaDB + Redis), one round of a 2,000-seat hall, a driver making {RATE}
seat changes per second over a WebSocket to the first instance for {args.seconds:.0f} s; {PROBES} probe viewers
parse every frame and time each change from the driver's send to its arrival; the other viewers run in
{VIEWER_PROCESSES} separate processes ({"Go, benchmarks/loadgen_go" if go_loadgen() else "Python, benchmarks/viewers.py"})
and count bytes. With two instances the viewers and probes are split evenly between them, so half of
them hear each change through Redis from the other instance. Everything shares the machine's two cores.
"lost" counts changes some probe never received.
Targets: 10k viewers p99 ≤ 200 ms, ≤ 30 KiB per viewer.

{results}
""")


if __name__ == "__main__":
    asyncio.run(main())
