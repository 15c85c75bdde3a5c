"""Contention: 2,000 users racing for 100 seats over two server instances (MariaDB + Redis).
Each user tries up to three times to hold two random seats of the hundred and reserve them; the
users run in separate load-generator processes. Reports what was sold, what was refused, errors,
and checks the database: no seat in two live reservations.

With --waiting-room (10,000 users for 1,000 seats by default) the round has a waiting room in front
of it, as on an opening night: every user joins it before the sale opens and opens its queue socket;
at the opening the line is drawn, and each user, once the socket says admitted, loads the seat map,
tries up to three times to hold two of the seats it shows available (dropping those a refusal names)
and reserve them, then leaves the room (as paying would, ending the admission for the next). The
hall is exactly the seats on sale, so that when they are gone the server closes the line ("sold
out"). Reports the admitted users' hold latency, the time from the opening to sold out and the
waiting room's figures at the end.

    benchmarks/run contention [--users 2000] [--seats 100] [--redis single|cluster|both]
    benchmarks/run contention --waiting-room [--users 10000] [--seats 1000] [--max-active N] [--admit-per-minute N]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter

import sqlalchemy as sa

from benchmarks.common import accounts, api, big_show, fresh_backends, redis_kinds, servers
from benchmarks.holds import merge, run_load
from benchmarks.results import load_note, percentile, record, table, verdict
from server.db.database import Database
from server.db.tables import reservation_seats
from tests.support.waiting import set_room, set_sale

LOAD_PROCESSES = 2
SEATS_PER_ROW = 25


async def race(args, redis_kind: str) -> str:
    """One race; its report (Markdown)."""
    settings = await fresh_backends(redis_kind=redis_kind)
    # Behind the waiting room every user opens a queue socket: far over the per-address connection limit.
    queued = {"rate_limit_ws_connects_per_address": ""} if args.waiting_room else {}
    async with servers(2, **settings, **queued) as started, api(started[0]) as one:
        if args.waiting_room:
            show = await big_show(one, sections=1, rows=args.seats // SEATS_PER_ROW, seats_per_row=SEATS_PER_ROW)
            await set_room(one, show["admin"], show["round_id"], max_active=args.max_active,
                           admit_per_minute=args.admit_per_minute, prequeue_minutes=120)
            await set_sale(one, show["admin"], show["round_id"], 3600)
            spec = {"mode": "queue-rush"}
        else:
            show = await big_show(one)
            spec = {"mode": "rush", "seats": show["seat_ids"][:args.seats]}
        users = [[token, None] for token in await accounts(settings["database_url"], args.users)]
        specs = [{**spec, "urls": [s.url for s in started], "round_id": show["round_id"],
                  "users": users[i::LOAD_PROCESSES]} for i in range(LOAD_PROCESSES)]
        began = {"at": time.time()}

        async def opening() -> None:         # every user waits in line with their socket open
            began["at"] = time.time()
            await set_sale(one, show["admin"], show["round_id"], 0)
        results = await run_load(specs, ready=opening if args.waiting_room else None)
        took = time.time() - began["at"]
        room = (await one.get(f"/api/rounds/{show['round_id']}/waiting-room", token=show["admin"])).json
    result = merge(results)
    reserved = [s for r in results for s in r.get("reserved", [])]
    db = Database(settings["database_url"])
    async with db.read() as conn:
        live = list((await conn.execute(sa.select(reservation_seats.c.seat_id).where(
            reservation_seats.c.round_id == show["round_id"], reservation_seats.c.live.is_(True)))).scalars())
    await db.close()
    outcomes: Counter = result["outcomes"]
    errors = sum(n for k, n in outcomes.items() if k.startswith("error") or k.split()[-1].startswith("5"))
    summary = {"redis": redis_kind, "users": args.users, "seats": args.seats, "sold": len(live), "distinct_sold": len(set(live)),
               "reserved_answers": len(reserved), "errors": errors, "seconds": took,
               "hold_p50": percentile(result["hold_ms"], 50), "hold_p99": percentile(result["hold_ms"], 99),
               "outcomes": dict(outcomes)}
    if args.waiting_room:
        summary.update(waiting_room_figures(results, began["at"], room, sold_out=len(live) == args.seats))
    print(json.dumps(summary))
    assert len(live) == len(set(live)) and sorted(live) == sorted(reserved), "a seat was sold twice"
    rows = "\n".join(f"| `{k}` | {n:,} |" for k, n in sorted(outcomes.items()))
    during, whose = ("from the opening to the last user done", " of admitted users") if args.waiting_room else ("whole race", "")
    return f"""
### Redis: {redis_kind}

- seats sold: **{len(live)}** of {args.seats} (distinct: {len(set(live))}; every sale answered 201 is in the
  database and nothing else is); errors (5xx or connection failures): **{errors}**
- {during}: {took:.1f} s; hold latency{whose} p50 {summary['hold_p50']:.0f} ms, p99 {summary['hold_p99']:.0f} ms
{waiting_room_lines(summary) if args.waiting_room else ""}
{waiting_room_targets(summary) + chr(10) + chr(10) if args.waiting_room else ""}| answer | count |
|---|---:|
{rows}
"""


def waiting_room_figures(results: list[dict], opened_at: float, room: dict, *, sold_out: bool) -> dict:
    """The waiting room's side of a race: admissions, sold out, the queue sockets' frames."""
    admitted = sorted(t - opened_at for r in results for t in r["admitted_at"])
    frames = [r["queue_frames"] for r in results]
    latencies = [ms for f in frames for ms, n in f["latency_ms"] for _ in range(n)]
    seat_map_ms = [ms for r in results for ms in r["seat_map_ms"]]
    return {"sold_out_after": max(t for r in results for t in r["sold_at"]) - opened_at if sold_out else None,
            "admitted": len(admitted), "first_admitted_s": admitted[0] if admitted else float("nan"),
            "admitted_p50_s": percentile(admitted, 50), "admitted_p99_s": percentile(admitted, 99),
            "queue_frames": sum(f["frames"] for f in frames),
            "seat_map_p50_ms": percentile(seat_map_ms, 50), "seat_map_p99_ms": percentile(seat_map_ms, 99),
            "queue_frame_p99_ms": percentile(latencies, 99), "queue_frame_max_ms": max(latencies, default=float("nan")),
            "room": {k: room[k] for k in ("max_active", "admit_per_minute", "effective_admit_per_minute", "waiting",
                                          "active", "admitted_total", "admitted_last_minute")}}


def waiting_room_targets(summary: dict) -> str:
    double = summary["sold"] - summary["distinct_sold"]
    return table(["target", "measured", ""], "lrl", [
        ["admitted users' hold p99 ≤ 50 ms", f"{summary['hold_p99']:.0f} ms", verdict(summary["hold_p99"] <= 50)],
        ["0 double sales", f"{double}", verdict(not double)],
        ["0 errors", f"{summary['errors']}", verdict(not summary["errors"])]])


def waiting_room_lines(summary: dict) -> str:
    sold_out = summary["sold_out_after"]
    room = summary["room"]
    sold_out = "never" if sold_out is None else f"{sold_out:.1f} s"
    return f"""- sold out **{sold_out}** after the opening (to the last sale answered 201)
- admitted: {summary['admitted']:,} users, the first {summary['first_admitted_s']:.1f} s, p50 {summary['admitted_p50_s']:.1f} s and
  p99 {summary['admitted_p99_s']:.1f} s after the opening (when their socket said so); queue frames:
  {summary['queue_frames']:,}, arrival − `server_time` p99 {summary['queue_frame_p99_ms']:.0f} ms (max {summary['queue_frame_max_ms']:.0f} ms)
- the seat map each admitted user loads first (`GET /api/rounds/{{id}}/seats`, as the seat page does):
  p50 {summary['seat_map_p50_ms']:.0f} ms, p99 {summary['seat_map_p99_ms']:.0f} ms
- the waiting room at the end (`GET …/waiting-room`): waiting {room['waiting']:,}, active {room['active']},
  admitted in total {room['admitted_total']:,}, in the last minute {room['admitted_last_minute']:,}; admission rate
  {room['admit_per_minute']:,}/minute, effective {room['effective_admit_per_minute']:,}/minute (slowed while holds
  struggled)
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, help="2,000; 10,000 with --waiting-room")
    parser.add_argument("--seats", type=int, help=f"100; 1,000 with --waiting-room (a multiple of {SEATS_PER_ROW})")
    parser.add_argument("--redis", choices=("single", "cluster", "both"), default="single",
                        help="one Redis, the Redis Cluster (3 masters), or both in turn (its own section)")
    parser.add_argument("--waiting-room", action="store_true", help="the race behind a waiting room")
    parser.add_argument("--max-active", type=int, help="the waiting room's max_active (default: half the seats)")
    parser.add_argument("--admit-per-minute", type=int, help="the waiting room's admit_per_minute (default: 3 × seats)")
    args = parser.parse_args()
    args.users = args.users or (10000 if args.waiting_room else 2000)
    args.seats = args.seats or (1000 if args.waiting_room else 100)
    if args.waiting_room and args.seats % SEATS_PER_ROW:
        parser.error(f"--seats: a multiple of {SEATS_PER_ROW} (rows of the hall)")
    # A box office's choice: no more shoppers in the seat map at once than could buy (two seats each),
    # and a rate that refills their places as they finish, without letting the whole line in at once.
    args.max_active = args.max_active or args.seats // 2
    args.admit_per_minute = args.admit_per_minute or 3 * args.seats
    load_before = os.getloadavg()[0]
    reports = [await race(args, kind) for kind in redis_kinds(args.redis)]
    name = "contention-waiting-room" if args.waiting_room else "contention"
    description = queued_description(args, load_before) if args.waiting_room else f"""
{args.users:,} users on two server instances (each user talks to one; users split over {LOAD_PROCESSES}
load-generator processes) race for {args.seats} seats of one round: up to three tries each to hold two
random seats of the hundred, then reserve them. Redis "cluster" is the test Redis Cluster (3 masters
with a replica each, on this machine too).
"""
    record(name if args.redis == "single" else f"{name}-redis-{args.redis}", description + "".join(reports))


def queued_description(args, load_before: float) -> str:
    return f"""
The contention race behind a waiting room: {args.users:,} users for a hall of {args.seats:,} seats, on two server
instances (each user talks to one; users split over {LOAD_PROCESSES} load-generator processes; accounts made straight
in the database, tokens signed with the server's secret). Every user joins the waiting room before the
sale opens (the pre-queue) and opens its queue socket; then the sale opens. Once its socket says
admitted, a user loads the seat map, tries up to three times to hold two of the seats it shows
available (dropping those a refusal names, as a live map would show them taken) and reserve them,
then leaves the room (as paying would: its slot goes to the next). A user still waiting when the
last seat is sold is told `closed`, `sold_out`, and gives up.

The waiting room: max_active {args.max_active:,}, admit_per_minute {args.admit_per_minute:,}, session_seconds 600. By default
max_active is half the seats (no more shoppers in the seat map at once than could buy two seats each) and
admit_per_minute three times the seats (enough to refill their places as they finish, far from letting
the whole line in at once): what a box office would set.
Targets: admitted users' hold p99 ≤ 50 ms during the rush; 0 double sales; 0 errors.
Redis "cluster" is the test Redis Cluster (3 masters with a replica each, on this machine too).
Everything shares the machine's two cores. {load_note(load_before)}
"""


if __name__ == "__main__":
    asyncio.run(main())
