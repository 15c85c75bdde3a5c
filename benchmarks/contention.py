"""Contention: 2,000 users racing for 100 seats over two server instances (MariaDB + Redis).
Each user tries up to three times to hold two random seats of the hundred and reserve them; the
users run in separate load-generator processes. Reports what was sold, what was refused, errors,
and checks the database: no seat in two live reservations.

    benchmarks/run contention [--users 2000] [--seats 100] [--redis single|cluster|both]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

import sqlalchemy as sa

from benchmarks.common import api, big_show, fresh_backends, redis_kinds, servers
from benchmarks.holds import merge, run_load
from benchmarks.results import percentile, record
from server.db.database import Database
from server.db.tables import reservation_seats

LOAD_PROCESSES = 2


async def race(args, redis_kind: str) -> str:
    """One race; its report (Markdown)."""
    settings = await fresh_backends(redis_kind=redis_kind)
    async with servers(2, **settings) as started:
        async with api(started[0]) as one, api(started[1]) as two:
            show = await big_show(one)
            clients = (one, two)
            tokens = []
            for start in range(0, args.users, 200):            # sign-ups in waves, not the race itself
                tokens += await asyncio.gather(*(clients[i % 2].token()
                                                 for i in range(start, min(args.users, start + 200))))
        seats = show["seat_ids"][:args.seats]
        users = [[t, None] for t in tokens]
        specs = [{"mode": "rush", "urls": [s.url for s in started], "round_id": show["round_id"], "seats": seats,
                  "users": users[i::LOAD_PROCESSES]} for i in range(LOAD_PROCESSES)]
        began = time.monotonic()
        results = await run_load(specs)
        took = time.monotonic() - began
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
    print(json.dumps(summary))
    assert len(live) == len(set(live)) and sorted(live) == sorted(reserved), "a seat was sold twice"
    rows = "\n".join(f"| `{k}` | {n:,} |" for k, n in sorted(outcomes.items()))
    return f"""
### Redis: {redis_kind}

- seats sold: **{len(live)}** of {args.seats} (distinct: {len(set(live))}; every sale answered 201 is in the
  database and nothing else is); errors (5xx or connection failures): **{errors}**
- whole race: {took:.1f} s; hold latency p50 {summary['hold_p50']:.0f} ms, p99 {summary['hold_p99']:.0f} ms

| answer | count |
|---|---:|
{rows}
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--redis", choices=("single", "cluster", "both"), default="single",
                        help="one Redis, the Redis Cluster (3 masters), or both in turn (its own section)")
    args = parser.parse_args()
    reports = [await race(args, kind) for kind in redis_kinds(args.redis)]
    record("contention" if args.redis == "single" else f"contention-redis-{args.redis}", f"""
{args.users:,} users on two server instances (each user talks to one; users split over {LOAD_PROCESSES}
load-generator processes) race for {args.seats} seats of one round: up to three tries each to hold two
random seats of the hundred, then reserve them. Redis "cluster" is the test Redis Cluster (3 masters
with a replica each, on this machine too).
{"".join(reports)}""")


if __name__ == "__main__":
    asyncio.run(main())
