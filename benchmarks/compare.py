"""Ticket Blue beside Centrifugo: the same fan-out, the same Go harness, the same machine.

One round's live map (Ticket Blue) or one channel (Centrifugo 6, built from the Go module proxy),
1k / 5k / 10k / 20k viewers, and a driver making 200 seat changes a second for 15 s:
- Ticket Blue gets real holds and releases over 8 WebSockets of a signed-in user (Redis, MariaDB),
  as an on-sale's changes come from many people at once (one socket's commands are answered in turn);
- Centrifugo gets a publication per change through its HTTP API (anonymous subscribers, no
  history): it only relays, so it is spared the seat work Ticket Blue does for each change.
20 probe viewers parse every frame and time each change from the driver's send to its arrival; the
other viewers run in 2 Go processes and count bytes. The systems take turns, A B A B, two
repetitions per viewer count, each on fresh backends.

    benchmarks/run compare [--counts 1000,5000,10000,20000] [--servers tb,cf] [--repetitions 2]
                           [--seconds 15]
--servers: tb (Ticket Blue, one process), tbN (`serve --workers N`), cf (Centrifugo on every core),
cfN (Centrifugo with GOMAXPROCS=N). Without Go, neither Centrifugo nor the Go harness can be built:
Centrifugo is skipped, saying so, and Ticket Blue is measured alone with benchmarks/fanout's Python
harness (its rows are marked so).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncContextManager, AsyncIterator, Callable

import aiohttp

from benchmarks.common import WORK, api, big_show, fresh_backends, go_loadgen, raise_open_files
from benchmarks.results import add_section_argument, cpu_seconds, load_note, percentile, process_tree, record, rss_kib, table, verdict
from tests.support.instances import ServerProcess, free_port, until_answers

CENTRIFUGO = "github.com/centrifugal/centrifugo/v6"
CENTRIFUGO_VERSION = "v6.9.1"
CHANNEL = "seats"
RATE = 200              # seat changes per second
PROBES = 20
VIEWER_PROCESSES = 2
DRIVER_SOCKETS = 8      # Ticket Blue's changes come over this many sockets (one socket's commands are answered in turn)
HELD_AT_ONCE = 100      # the driver holds this many seats, then releases the oldest for each new one
GRACE_SECONDS = 30      # after the last change; what has not reached a probe by then is lost


@dataclass
class Side:
    """A running server, as the harness sees it."""
    label: str
    port: int
    viewer_args: list[str]        # after `loadgen viewers`, before the count
    spec: dict                    # for `loadgen probe-drive`
    root_pid: int

    def pids(self) -> list[int]:
        return process_tree(self.root_pid)


# ---- the two servers -----------------------------------------------------------------------------
@asynccontextmanager
async def ticket_blue(workers: int) -> AsyncIterator[Side]:
    settings = await fresh_backends()
    if workers > 1:     # (--workers refuses the built-in Toss sandbox; nothing is paid here)
        settings["toss_api_url"] = "http://127.0.0.1:9/unused"
    # Thousands of viewers from one address, and one account's 200 changes a second: far over the
    # per-address and per-account limits, which are not what is measured.
    server = ServerProcess(WORK, serve_args=("--workers", str(workers)) if workers > 1 else (),
                           max_seats_per_user=1000, rate_limit_ws_connects_per_address="",
                           rate_limit_holds_per_account="", **settings).start()
    try:
        await server.wait_ready(60)
        async with api(server) as client:
            show = await big_show(client)
            token = await client.token()
        round_id = str(show["round_id"])
        label = "Ticket Blue, 1 process" if workers == 1 else f"Ticket Blue, {workers} workers"
        yield Side(label, server.port, [str(server.port), round_id],
                   {"server": "ticketblue", "round": round_id, "driver_path": f"/ws/rounds/{round_id}?token={token}",
                    "driver_sockets": DRIVER_SOCKETS,
                    "token": token, "seat_ids": show["seat_ids"]}, server.pid)
    finally:
        server.stop()


def centrifugo_binary() -> str:
    """Centrifugo, built once from the Go module proxy into .benchmarks/."""
    directory = WORK / f"centrifugo-{CENTRIFUGO_VERSION}"
    binary = directory / "centrifugo"
    if not binary.exists():
        print(f"building Centrifugo {CENTRIFUGO_VERSION} (go install, a few minutes the first time)", flush=True)
        subprocess.run(["go", "install", f"{CENTRIFUGO}@{CENTRIFUGO_VERSION}"], check=True,
                       env={**os.environ, "GOBIN": str(directory)})
    return str(binary)


@asynccontextmanager
async def centrifugo(gomaxprocs: int | None) -> AsyncIterator[Side]:
    port = free_port()
    config = WORK / f"centrifugo-{port}.json"
    config.write_text(json.dumps({
        "http_server": {"address": "127.0.0.1", "port": port},
        "log": {"level": "error"},
        "client": {"allow_anonymous_connect_without_token": True},
        "channel": {"without_namespace": {"allow_subscribe_for_anonymous": True, "allow_subscribe_for_client": True}},
        "http_api": {"insecure": True}}))
    env = {**os.environ, **({"GOMAXPROCS": str(gomaxprocs)} if gomaxprocs else {})}
    log = open(WORK / f"centrifugo-{port}.log", "wb")
    process = subprocess.Popen([centrifugo_binary(), "--config", str(config)], env=env, stdout=log, stderr=log)
    try:
        await until_answers(process, "POST", f"http://127.0.0.1:{port}/api/info")
        label = "Centrifugo" + (f", GOMAXPROCS={gomaxprocs}" if gomaxprocs else f", GOMAXPROCS={os.cpu_count()}")
        yield Side(label, port, ["--centrifugo", str(port), CHANNEL],
                   {"server": "centrifugo", "round": CHANNEL, "publish_url": f"http://127.0.0.1:{port}/api/publish",
                    "seat_ids": list(range(1, 2001))}, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:    # (it closes thousands of clients gracefully first)
            process.kill()
            process.wait()
        log.close()


@dataclass
class Opener:
    name: str             # as given to --servers
    processes: int        # how many processes share the sockets
    open: Callable[[], AsyncContextManager[Side]]


def sides(choice: str) -> list[Opener]:
    """--servers: tb, tbN, cf, cfN → what opens each (see the module's doc)."""
    made = []
    for name in choice.split(","):
        kind, number = name[:2], name[2:]
        if kind == "tb":
            workers = int(number or 1)
            made.append(Opener(name, workers, lambda n=workers: ticket_blue(n)))
        elif kind == "cf":
            made.append(Opener(name, 1, lambda n=int(number) if number else None: centrifugo(n)))
        else:
            sys.exit(f"unknown server {name!r}: tb, tbN, cf or cfN")
    return made


def sockets_per_process(count: int, opener: Opener) -> int:
    """What the busiest server process holds: the kernel deals SO_REUSEPORT's connections out by a
    hash, so a worker may get some more than its even share."""
    sockets = count + PROBES + 100
    return sockets if opener.processes == 1 else int(sockets / opener.processes * 1.1)


# ---- one measurement --------------------------------------------------------------------------
async def _line(proc: asyncio.subprocess.Process, timeout: float) -> str:
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        raise RuntimeError(f"the load generator {proc.pid} ended early (exit {await proc.wait()})")
    return line.decode()


async def _report(viewers: list) -> int:
    open_ = 0
    for proc in viewers:
        proc.stdin.write(b"report\n")
        open_ += json.loads(await _line(proc, 30))["open"]
    return open_


async def measure(side: Side, count: int, seconds: float) -> dict:
    loadgen = str(go_loadgen())
    probe = await asyncio.create_subprocess_exec(loadgen, "probe-drive", stdin=asyncio.subprocess.PIPE,
                                                 stdout=asyncio.subprocess.PIPE, limit=256 << 20)  # (one long line)
    spec = {**side.spec, "addrs": [f"127.0.0.1:{side.port}"], "rate": RATE, "seconds": seconds, "probes": PROBES,
            "held": HELD_AT_ONCE, "grace_seconds": GRACE_SECONDS}
    probe.stdin.write(json.dumps(spec).encode() + b"\n")
    assert (await _line(probe, 60)).strip() == "ready"
    rss_before = sum(rss_kib(pid) for pid in side.pids())
    share = [count // VIEWER_PROCESSES + (i < count % VIEWER_PROCESSES) for i in range(VIEWER_PROCESSES)]
    viewers = [await asyncio.create_subprocess_exec(loadgen, "viewers", *side.viewer_args, str(n),
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
               for n in share]
    for proc in viewers:
        assert (await _line(proc, 600)).startswith("ready")
    pids = side.pids()
    rss_after = sum(rss_kib(pid) for pid in pids)
    open_before = await _report(viewers)
    load_pids = [probe.pid] + [proc.pid for proc in viewers]
    cpu_before, load_before = sum(map(cpu_seconds, pids)), sum(map(cpu_seconds, load_pids))
    probe.stdin.write(b"go\n")
    result = json.loads(await _line(probe, seconds + GRACE_SECONDS + 120))
    cpu, load = sum(map(cpu_seconds, pids)) - cpu_before, sum(map(cpu_seconds, load_pids)) - load_before
    open_after = await _report(viewers)
    for proc in [*viewers, probe]:
        proc.stdin.write(b"quit\n")
    await asyncio.gather(*(proc.wait() for proc in viewers), probe.wait())
    if "error" in result:
        raise RuntimeError(f"{side.label}: {result['error']}")
    latencies, elapsed = result["latencies_ms"], result["seconds"]
    send_cost = await hub_send_cost_us(side.port) if side.spec["server"] == "ticketblue" else None
    return {"server": side.label, "viewers": count, "connected": open_before, "open_at_end": open_after,
            "changes": result["changes"], "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies, default=float("nan")), "lost": result["lost"],
            "lost_share": result["lost"] / (result["changes"] * PROBES),
            "server_cpu": cpu / elapsed, "load_cpu": load / elapsed,
            "rss_per_viewer_kib": (rss_after - rss_before) / count, "frames_per_probe": result["frames_per_probe"],
            "resyncs": result["resyncs"], "send_us": send_cost}


async def hub_send_cost_us(port: int) -> float | None:
    """One viewer's cost per send in µs, from the server's own counters (server/metrics.py): its hub's
    time writing deltas to sockets over the writes. With --workers, whichever worker answers."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as reply:
            text = await reply.text()
    totals = dict(re.findall(r"^(ticketblue_hub_send(?:s|_seconds)_total) (\S+)$", text, re.M))
    sends = float(totals.get("ticketblue_hub_sends_total", 0))
    return float(totals["ticketblue_hub_send_seconds_total"]) / sends * 1e6 if sends else None


async def measure_without_go(side: Side, count: int, seconds: float) -> dict:
    """benchmarks/fanout's measurement (Python probes and viewers) of a Ticket Blue already running."""
    from benchmarks import fanout
    row = await fanout.measure_running([side.port], side.pids(), int(side.spec["round"]), side.spec["seat_ids"],
                                       side.spec["token"], count, seconds)
    return {**row, "server": side.label + " (Python harness)", "lost": row["missing"],
            "send_us": await hub_send_cost_us(side.port),
            "lost_share": row["missing"] / (row["changes"] * PROBES)}


# ---- the run -------------------------------------------------------------------------------------
async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1000,5000,10000,20000")
    parser.add_argument("--servers", default="tb,cf")
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15)
    add_section_argument(parser, "compare")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    openers, run = sides(args.servers), measure
    if not shutil.which("go"):
        print("Go is not installed: Centrifugo and the Go harness cannot be built, so Centrifugo is skipped and "
              "Ticket Blue (1 process) is measured alone with the Python harness of benchmarks/fanout", flush=True)
        openers, run = [Opener("tb", 1, lambda: ticket_blue(1))], measure_without_go
    most = max(sockets_per_process(count, opener) for count in counts for opener in openers)
    may_hold = raise_open_files(most)
    load_at_start = os.getloadavg()[0]
    rows, skipped = [], []
    for count in counts:
        for repetition in range(1, args.repetitions + 1):
            for opener in openers:
                if sockets_per_process(count, opener) > may_hold:
                    if repetition == 1:
                        skipped.append(f"{opener.name} at {count:,} viewers")
                    print(f"skipped {opener.name} at {count:,} viewers: one of its processes would hold "
                          f"{sockets_per_process(count, opener):,} sockets, and the open-file limit here lets a "
                          f"process hold {may_hold:,} (ulimit -Hn, which this run may not raise)", flush=True)
                    continue
                async with opener.open() as side:
                    row = {**await run(side, count, args.seconds), "repetition": repetition}
                print(json.dumps(row), flush=True)
                rows.append(row)
    not_run = (f"Not run: {', '.join(skipped)}: one process would hold more sockets than the open-file limit "
               f"here allows ({may_hold:,} besides its own files; `ulimit -Hn`, which this container may not "
               "raise).") if skipped else ""
    record(args.section, f"""
Ticket Blue and Centrifugo {CENTRIFUGO_VERSION} (built with `go install {CENTRIFUGO}@{CENTRIFUGO_VERSION}`) under
the same Go harness (benchmarks/loadgen_go: `probe-drive` and `viewers`): {RATE} seat changes a second for
{args.seconds:.0f} s, {PROBES} probe viewers timing each change from the driver's send to its arrival, the other viewers
in {VIEWER_PROCESSES} processes. Ticket Blue's changes are real holds and releases over {DRIVER_SOCKETS} WebSockets of one signed-in
user (Redis and MariaDB behind them; one socket's commands are answered in turn, and an on-sale's changes
come from many people at once); Centrifugo's are publications of the same JSON through its HTTP API to one
channel (anonymous subscribers, no history), so it relays without doing any seat work. The servers take
turns, A B A B, each on fresh backends; everything shares the machine's two cores. "lost": probe arrivals
still missing {GRACE_SECONDS} s after the last change ("resynced": fresh snapshots the probes were sent after their
first; a change inside one is on the probe's map, untimed, and counts as lost). RSS per viewer: the server's resident memory after the viewers
connected, minus before, over their number. Send cost: Ticket Blue's hub's time writing deltas to sockets
over its writes, one per viewer per send (`ticketblue_hub_send_seconds_total` / `ticketblue_hub_sends_total`).
{load_note(load_at_start)}

{table(["viewers", "server", "run", "p50", "p99", "max", "lost", "open at end", "server CPU", "load generators' CPU",
        "RSS per viewer", "send cost per viewer"], "rlr" + "r" * 9,
       [[f"{r['viewers']:,}", r["server"], str(r["repetition"]), _ms(r["p50_ms"]), _ms(r["p99_ms"]), _ms(r["max_ms"]),
         _lost(r), f"{r['open_at_end']:,}", f"{r['server_cpu']:.0%}",
         f"{r['load_cpu']:.0%}", f"{r['rss_per_viewer_kib']:.1f} KiB",
         "—" if r.get("send_us") is None else f"{r['send_us']:.1f} µs"] for r in rows])}

{not_run}

{targets(rows)}
""")


def _lost(row: dict) -> str:
    """Lost arrivals, and the probes' fresh snapshots when there were any: a change that reaches a probe
    inside a snapshot is on its map, but the probe times only deltas, so it counts as lost."""
    resyncs = row.get("resyncs") or 0
    return f"{row['lost']:,} ({row['lost_share']:.0%})" + (f", {resyncs} resynced" if resyncs else "")


def _ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"


def targets(rows: list[dict]) -> str:
    """Issue 18's targets, each beside what this run measured (and Centrifugo's figure from the same run)."""
    def worst(server_prefix: str, viewers: int, key: str) -> float | None:
        found = [r[key] for r in rows if r["server"].startswith(server_prefix) and r["viewers"] == viewers]
        return max(found) if found else None

    lines = ["| target | Ticket Blue (worst run) | verdict | Centrifugo, same run |", "|---|---:|---|---:|"]
    def line(what: str, ours: str, met: bool | None, theirs: str) -> None:
        lines.append(f"| {what} | {ours} | {'—' if met is None else verdict(met)} | {theirs} |")

    one, cf = worst("Ticket Blue, 1 process", 10_000, "p99_ms"), worst("Centrifugo", 10_000, "p99_ms")
    if one is not None:
        line("1 process, 10k viewers: p99 ≤ 100 ms", _ms(one), one <= 100, _ms(cf) if cf is not None else "—")
    two, two_lost = worst("Ticket Blue, 2 workers", 20_000, "p99_ms"), worst("Ticket Blue, 2 workers", 20_000, "lost")
    cf20 = worst("Centrifugo", 20_000, "p99_ms")
    if two is not None:
        line("`--workers 2`, 20k viewers: p99 ≤ 200 ms, 0 lost", f"{_ms(two)}, {two_lost:,} lost",
             two <= 200 and two_lost == 0, _ms(cf20) if cf20 is not None else "—")
    rss = [r["rss_per_viewer_kib"] for r in rows if r["server"].startswith("Ticket Blue") and r["viewers"] >= 5000]
    cf_rss = [r["rss_per_viewer_kib"] for r in rows if r["server"].startswith("Centrifugo") and r["viewers"] >= 5000]
    if rss:
        line("RSS per viewer ≤ 20 KiB (5k viewers and more)", f"{max(rss):.1f} KiB", max(rss) <= 20,
             f"{max(cf_rss):.1f} KiB" if cf_rss else "—")
    return "\n".join(lines) if len(lines) > 2 else ""


if __name__ == "__main__":
    asyncio.run(main())
