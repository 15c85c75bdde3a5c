"""Best seats: latency of `POST /api/rounds/{id}/holds/best` (server/best_seats.py chooses, server/seating.py
holds) on a 1,376-seat hall of five sections and three grades, MariaDB + Redis, alone and with 200 racing.

    benchmarks/run best_seats [--times 300] [--users 200] [--races 3] [--instances 1,2] [--redis single|cluster|both]

Alone: one user asks for the best 2 (then 4) seats `--times` times in a row on one instance, releasing
them between, on a fresh round that is empty, then on one with 70% of its seats taken at random (blocked),
where rows are broken up and the choice has the most to search; a plain hold of two named seats, for scale.

Racing: `--users` users (accounts of their own) ask at once for the best 2 seats of one grade of a fresh
round, over one instance and then two (users split evenly): of grade S (640 seats, enough for everyone),
then of grade VIP (160 seats, for 80 of them). Each race checks what it measured: no seat held by two
users, the seat map holds exactly the seats answered and of that grade, and nobody was refused while
seats remained (the best choice falls back to any seats of the grade, and seats are only taken during
a race, so everyone up to grade seats ÷ 2 must get seats: any fewer are needless refusals). `--races`
races of each kind on fresh rounds, their answers pooled.

No numeric target: the figures are the point. The holds rate limit is raised to 1,000/second (as in
`benchmarks/run holds`, rate limits "on"): it is still counted in each hold's script, but one user's
hold and release in a tight loop would be refused by the default 20/second.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from benchmarks.common import accounts, api, fresh_backends, redis_kinds, servers, show_in
from benchmarks.holds import RATE_LIMITS
from benchmarks.results import add_section_argument, load_note, percentile, record, table, verdict
from server.seating import BEST_TRIES
from seatmap.protocol import SeatIds
from server.demo import DEMO_PRICES
from tests.support.factories import another_round

HALL = [{"name": "VIP", "rows": 5, "seats_per_row": 32, "grade": "VIP"},
        {"name": "R1", "rows": 8, "seats_per_row": 36, "grade": "R"},
        {"name": "R2", "rows": 8, "seats_per_row": 36, "grade": "R"},
        {"name": "S1", "rows": 8, "seats_per_row": 40, "grade": "S"},
        {"name": "S2", "rows": 8, "seats_per_row": 40, "grade": "S"}]
TAKEN_SHARE = 0.7
RACE_COUNT = 2
RACE_GRADES = ("S", "VIP")          # enough seats for every racer; seats for fewer than half of them
SEATS_PER_REQUEST = SeatIds.__metadata__[0].max_length      # the most seat ids one request may name


async def fresh_round(client, show: dict, taken_share: float = 0) -> int:
    """A new round of the show with `taken_share` of its seats blocked at random, its layout loaded by the
    instance (the first look at a round reads it from the database, which is not what is measured)."""
    round_id = (await another_round(client, show, datetime.now(timezone.utc) + timedelta(days=2)))["round_id"]
    taken = random.Random(round_id).sample(show["seat_ids"], int(taken_share * len(show["seat_ids"])))
    for start in range(0, len(taken), SEATS_PER_REQUEST):
        blocked = await client.post(f"/api/rounds/{round_id}/blocks", token=show["admin"],
                                    json={"seat_ids": taken[start:start + SEATS_PER_REQUEST]})
        assert blocked.status == 200, blocked.json
    return round_id


async def loaded(clients, round_id: int) -> None:
    for client in clients:
        seat_map = await client.get(f"/api/rounds/{round_id}/seats")
        assert seat_map.status == 200, seat_map.json


async def alone(client, show: dict, token: str, times: int, *, taken_share: float, body: dict) -> list[float]:
    """One user holding `body` (best seats, or named seats) `times` times in a row, releasing between: the
    holds' latencies in ms."""
    round_id = await fresh_round(client, show, taken_share)
    await loaded([client], round_id)
    holds = f"/api/rounds/{round_id}/holds"
    path = holds + "/best" if "count" in body else holds
    took = []
    for _ in range(times):
        started = time.perf_counter()
        held = await client.post(path, token=token, json=body)
        took.append((time.perf_counter() - started) * 1000)
        assert held.status == 200, held.json
        released = await client.delete(holds, token=token, json={"seat_ids": held.json["seat_ids"]})
        assert released.status == 204, released.json
    return took


async def race(clients, show: dict, tokens: list[str], grade: str) -> dict:
    """Every user asks at once for the best RACE_COUNT seats of `grade` of a fresh round (user i on
    clients[i % n]); what they were answered, checked against the seat map."""
    round_id = await fresh_round(clients[0], show)
    await loaded(clients, round_id)
    # One open connection per user before the start: the race measures the asking, not TCP handshakes.
    await asyncio.gather(*(clients[i % len(clients)].get("/healthz") for i in range(len(tokens))))

    async def ask(i: int, token: str) -> tuple[float, object]:
        started = time.perf_counter()
        try:
            reply = await clients[i % len(clients)].post(f"/api/rounds/{round_id}/holds/best", token=token,
                                                         json={"count": RACE_COUNT, "grade": grade})
        except Exception as exc:        # a connection that failed is an error to count, not a crash
            reply = exc
        return (time.perf_counter() - started) * 1000, reply
    started = time.perf_counter()
    answers = await asyncio.gather(*(ask(i, token) for i, token in enumerate(tokens)))
    seconds = time.perf_counter() - started
    seat_map = (await clients[0].get(f"/api/rounds/{round_id}/seats", token=show["admin"])).json["seats"]
    return {"seconds": seconds, "answers": answers, "seat_map": seat_map}


def outcome(reply) -> str:
    if isinstance(reply, Exception):
        return f"error {type(reply).__name__}"
    return f"{reply.status} {reply.error_code() or ''}".strip()


def checked(run: dict, grade: str, users: int) -> dict:
    """A race's figures, after checking that no seat is held twice and the map holds what was answered."""
    seats = {s["id"]: s for s in run["seat_map"]}
    granted = [reply.json["seat_ids"] for _, reply in run["answers"] if not isinstance(reply, Exception)
               and reply.status == 200]
    held = [seat for seat_ids in granted for seat in seat_ids]
    assert len(held) == len(set(held)), "a seat was held by two users"
    assert {s for s, seat in seats.items() if seat["status"] == "held"} == set(held), "the map disagrees"
    assert all(seats[s]["grade"] == grade for s in held), "seats of another grade"
    assert all(len(seat_ids) == RACE_COUNT for seat_ids in granted), "not as many seats as asked"
    of_grade = sum(seat["grade"] == grade for seat in seats.values())
    outcomes = Counter(outcome(reply) for _, reply in run["answers"])
    return {"granted": len(granted), "possible": min(users, of_grade // RACE_COUNT), "of_grade": of_grade,
            "together": sum(side_by_side([seats[s] for s in seat_ids]) for seat_ids in granted),
            "errors": sum(n for k, n in outcomes.items() if k.startswith(("error", "5"))),
            "outcomes": outcomes, "ms": [ms for ms, _ in run["answers"]], "seconds": run["seconds"]}


def side_by_side(group: list[dict]) -> bool:
    numbers = sorted(s["number"] for s in group)
    return len({(s["section"], s["row"]) for s in group}) == 1 and numbers == list(range(numbers[0], numbers[-1] + 1))


def pooled(races: list[dict]) -> dict:
    ms = [m for r in races for m in r["ms"]]
    outcomes = sum((r["outcomes"] for r in races), Counter())
    return {"granted": sum(r["granted"] for r in races), "possible": sum(r["possible"] for r in races),
            "together": sum(r["together"] for r in races), "errors": sum(r["errors"] for r in races),
            "refusals": {k: n for k, n in outcomes.items() if k != "200"}, "of_grade": races[0]["of_grade"],
            "p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms), "answers": len(ms),
            "slowest_race_s": max(r["seconds"] for r in races)}


async def measure(args, redis_kind: str) -> str:
    """Every case on one kind of Redis; its part of the report (Markdown)."""
    settings = {**await fresh_backends("ticketblue_bench_best", redis_kind=redis_kind), **RATE_LIMITS["on"]}
    tokens = await accounts(settings["database_url"], args.users)
    instances = sorted(map(int, args.instances.split(",")))
    async with servers(max(instances), **settings) as started, api(started[0]) as first, \
            api(started[-1]) as last:
        show = await show_in(first, HALL, DEMO_PRICES)
        alone_rows = []
        for taken_share in (0, TAKEN_SHARE):
            for count in (2, 4):
                took = await alone(first, show, tokens[0], args.times, taken_share=taken_share, body={"count": count})
                alone_rows.append(alone_row(f"best {count}", taken_share, took))
        took = await alone(first, show, tokens[0], args.times, taken_share=0, body={"seat_ids": show["seat_ids"][:2]})
        alone_rows.append(alone_row("2 named seats (`POST …/holds`), for scale", 0, took))
        race_rows = []
        for n in instances:
            clients = [first, last][:n]
            for grade in RACE_GRADES:
                races = [checked(await race(clients, show, tokens, grade), grade, args.users) for _ in range(args.races)]
                row = {"instances": n, "grade": grade, **pooled(races)}
                print(json.dumps({"redis": redis_kind, **row}), flush=True)
                race_rows.append(row)
    return f"""
### Redis: {redis_kind}

Alone ({args.times} holds each, one user, one instance):

{table(["hold", "round", "p50", "p99", "max"], "llrrr", alone_rows)}

{args.users} racing for {RACE_COUNT} seats of one grade ({args.races} races each, answers pooled: {args.races * args.users} per row):

{race_table(race_rows)}

{race_targets(race_rows)}
"""


def alone_row(what: str, taken_share: float, took: list[float]) -> list[str]:
    print(json.dumps({"alone": what, "taken": taken_share, "p50": percentile(took, 50), "p99": percentile(took, 99)}),
          flush=True)
    return [what, f"{taken_share:.0%} taken at random" if taken_share else "empty",
            f"{percentile(took, 50):.1f} ms", f"{percentile(took, 99):.1f} ms", f"{max(took):.1f} ms"]


def race_table(rows: list[dict]) -> str:
    return table(["instances", "grade (seats)", "got seats (possible)", "side by side", "refusals", "needless",
                  "errors", "p50", "p99", "max", "slowest race"], "rlrrlrrrrrr",
                 [[f"{r['instances']}", f"{r['grade']} ({r['of_grade']})", f"{r['granted']} ({r['possible']})",
                   f"{r['together']}", ", ".join(f"`{k}` {n}" for k, n in sorted(r["refusals"].items())) or "none",
                   f"{r['possible'] - r['granted']}", f"{r['errors']}", f"{r['p50']:.0f} ms", f"{r['p99']:.0f} ms",
                   f"{r['max']:.0f} ms", f"{r['slowest_race_s']:.2f} s"] for r in rows])


def race_targets(rows: list[dict]) -> str:
    needless = sum(r["possible"] - r["granted"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    return table(["check", "measured", ""], "lrl", [
        ["no seat held twice; the map holds exactly the seats answered, of the grade asked", "checked", "met"],
        ["0 needless refusals (fewer seats granted than the grade had for)", f"{needless}", verdict(not needless)],
        ["0 errors (5xx, failed connections)", f"{errors}", verdict(not errors)]])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--times", type=int, default=300, help="holds one user makes in a row, per case")
    parser.add_argument("--users", type=int, default=200, help="users racing")
    parser.add_argument("--races", type=int, default=3, help="races of each kind, on fresh rounds")
    parser.add_argument("--instances", default="1,2", help="comma separated (at most 2): the races' instances")
    parser.add_argument("--redis", choices=("single", "cluster", "both"), default="single",
                        help="one Redis, the Redis Cluster (3 masters), or both in turn (its own section)")
    add_section_argument(parser)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    reports = [await measure(args, kind) for kind in redis_kinds(args.redis)]
    seats = sum(s["rows"] * s["seats_per_row"] for s in HALL)
    sections = ", ".join(f"{s['name']} {s['rows']}×{s['seats_per_row']} {s['grade']}" for s in HALL)
    shared = ", and other work ran on the machine meanwhile" if load_before >= 0.5 else ""
    record(args.section or ("best_seats" if args.redis == "single" else f"best_seats-redis-{args.redis}"), f"""
`POST /api/rounds/{{id}}/holds/best` on a hall of {seats:,} seats ({sections}; stacked, the VIP
section nearest the stage), MariaDB + Redis, timed by the client from the request to the last byte of the answer.

Alone: one user asks {args.times} times in a row for the best 2 (or 4) seats of the whole hall on one
instance, releasing them between, on a fresh round: empty, or with {TAKEN_SHARE:.0%} of its seats taken at
random (blocked), which breaks rows up and leaves the choice the most to search. Each look is a
snapshot of the round from Redis, the choice over every seat of the hall in Python, then the hold's script.

Racing: {args.users} users (their own accounts) ask at once, over one instance and over two (users split evenly),
for the best {RACE_COUNT} seats of one grade of a fresh round: S (enough seats for everyone) and VIP (seats for
fewer than half). On an instance the looks of one round run one at a time (else all would pick the same
seats); across instances a user whose chosen seat the other instance took first is chosen for again, up
to {BEST_TRIES} looks. Every race is checked: no seat held by two users, the map holds exactly the seats answered
and of that grade; "needless" counts users refused while the grade still had seats for them ("possible"
is min(users, grade seats ÷ {RACE_COUNT}), as seats are only taken during a race); "side by side" counts
answers of two seats next to each other in one row. The holds rate limit is 1,000/second (counted, as
in `benchmarks/run holds`).

No numeric target. Everything (servers, Redis, MariaDB, the client) shares the machine's two cores{shared}.
{load_note(load_before)}
""" + "".join(reports))


if __name__ == "__main__":
    asyncio.run(main())
