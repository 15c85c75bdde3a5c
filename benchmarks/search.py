"""Search: catalogue search (GET /api/search) and admin booking search on generated data, through a
real server process, on Elasticsearch, on the SQL fallback, and from the cache (Redis and in-process).

Data (benchmarks/search_data.py, scale 1): 100k performances, 20k performers, 2k halls, 100k users,
1M reservations in MariaDB, loaded with multi-row INSERTs, then indexed with `python -m server reindex`.
Each request is timed from send to the last byte of the answer, one at a time (latency, not load);
then 16 concurrent clients for a few seconds give the throughput. Index lag: from an update's
response to the first search that finds the new title.

    benchmarks/run search [--scale 1] [--reuse] [--requests 1000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

import aiohttp
import pymysql
from sqlalchemy.engine import make_url

from benchmarks.common import WORK, fresh_backends, servers
from benchmarks.results import percentile, record
from benchmarks.search_data import EN_WORDS, FIRST, KO_WORDS, LAST, REGIONS, STATUSES, counts, generate
from tests.support.api import ApiClient
from tests.support.backends import backend_url
from tests.support.instances import ROOT

DATABASE = "ticketblue_search_bench"
PREFIX = "tbbench"
CONCURRENCY = 16
LOAD_SECONDS = 5


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---- workloads ---------------------------------------------------------------------------------------
def catalogue_queries(rng: random.Random, count: int) -> list[dict]:
    """Partial words as people type them: prefixes, inner parts, two words, names; some filtered."""
    queries = []
    for _ in range(count):
        word = rng.choice(KO_WORDS + EN_WORDS + FIRST + LAST + REGIONS)
        kind = rng.random()
        if kind < 0.4:
            q = word[:rng.randint(min(2, len(word)), len(word))]
        elif kind < 0.6 and len(word) > 3:
            start = rng.randint(1, len(word) - 2)
            q = word[start:start + rng.randint(2, 3)]
        elif kind < 0.8:
            q = f"{word} {rng.choice(KO_WORDS + EN_WORDS)[:3]}"
        else:
            q = word
        params = {"q": q}
        if rng.random() < 0.2:
            params["category"] = rng.choice(("concert", "musical", "play", "classical", "dance"))
        if rng.random() < 0.2:
            month = rng.randint(1, 12)
            params.update({"from": f"2026-{month:02d}-01", "to": f"2026-{month:02d}-28"})
        queries.append(params)
    return queries


def admin_queries(rng: random.Random, count: int, scale: float) -> list[dict]:
    n = counts(scale)
    performances, rounds = n["performances"], n["performances"] * 2
    shapes = [
        lambda: {"performance_id": rng.randint(1, performances)},
        lambda: {"round_id": rng.randint(1, rounds)},
        lambda: {"user_email": f"user{rng.randint(1, n['users'])}@bench.example"},
        lambda: {"status": rng.choice(STATUSES), "from": "2026-03-01", "to": "2026-03-31"},
        lambda: {"performance_id": rng.randint(1, performances), "status": "confirmed"},
        lambda: {"user_email": f"user{rng.randint(1, n['users'])}@bench.example", "status": "confirmed"},
        lambda: {"status": rng.choice(("pending", "canceled"))},
        lambda: {"from": "2026-06-01", "to": "2026-06-07", "page": rng.randint(1, 5)},
    ]
    return [rng.choice(shapes)() for _ in range(count)]


# ---- measuring -------------------------------------------------------------------------------------
async def timed(http: aiohttp.ClientSession, path: str, params: dict, token: str | None) -> float:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    began = time.perf_counter()
    async with http.get(path, params={k: str(v) for k, v in params.items()}, headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path} {params}: {resp.status} {await resp.text()}")
    return (time.perf_counter() - began) * 1000


async def latencies(http, path: str, queries: list[dict], token: str | None = None) -> list[float]:
    return [await timed(http, path, q, token) for q in queries]


async def throughput(http, path: str, queries: list[dict], token: str | None = None) -> float:
    done, deadline = 0, time.monotonic() + LOAD_SECONDS

    async def client(offset: int) -> None:
        nonlocal done
        i = offset
        while time.monotonic() < deadline:
            await timed(http, path, queries[i % len(queries)], token)
            done += 1
            i += CONCURRENCY
    began = time.monotonic()
    await asyncio.gather(*(client(k) for k in range(CONCURRENCY)))
    return done / (time.monotonic() - began)


def summary(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p90": percentile(values, 90), "p99": percentile(values, 99),
            "mean": sum(values) / len(values), "n": len(values)}


async def index_lag(http, api: ApiClient, admin: str, samples: int) -> list[float]:
    """Update a title, then search for the new one until it is found."""
    lags = []
    for n in range(samples):
        word = f"zq{n:03d}x{random.randint(100, 999)}"
        reply = await api.patch(f"/api/performances/{n + 1}", token=admin, json={"title": f"Lag {word}"})
        assert reply.status == 200, reply.json
        sent = time.perf_counter()
        while True:
            async with http.get("/api/search", params={"q": word}) as resp:
                if (await resp.json())["totals"]["performances"]:
                    break
        lags.append((time.perf_counter() - sent) * 1000)
    return lags


async def run_config(name: str, settings: dict, *, requests: int, scale: float, admin_too: bool,
                     warm_repeats: bool = False, lag_samples: int = 0) -> dict:
    say(f"{name}: starting a server")
    result: dict = {"name": name}
    async with servers(1, **settings) as [server]:
        async with aiohttp.ClientSession(base_url=server.url, connector=aiohttp.TCPConnector(limit=0)) as http:
            api = ApiClient(http)
            admin = await api.token(admin=True)
            rng = random.Random(7)
            distinct = catalogue_queries(rng, requests if not warm_repeats else max(50, requests // 10))
            await latencies(http, "/api/search", distinct[:50])                       # warm up
            if warm_repeats:              # every query answered once; what is measured are repeats
                await latencies(http, "/api/search", distinct)
                measured = [distinct[i % len(distinct)] for i in range(requests)]
            else:
                measured = distinct
            say(f"{name}: {len(measured)} catalogue searches")
            result["catalogue"] = summary(await latencies(http, "/api/search", measured))
            result["catalogue_rps"] = await throughput(http, "/api/search", measured)
            if admin_too:
                queries = admin_queries(random.Random(11), requests, scale)
                await latencies(http, "/api/admin/reservations/search", queries[:20], admin)
                say(f"{name}: {len(queries)} admin searches")
                result["admin"] = summary(await latencies(http, "/api/admin/reservations/search", queries, admin))
                result["admin_rps"] = await throughput(http, "/api/admin/reservations/search", queries, admin)
            if lag_samples:
                result["lag"] = summary(await index_lag(http, api, admin, lag_samples))
                # what any request costs here (client, loopback, aiohttp, middleware), for scale
                result["floor"] = summary(await latencies(http, "/healthz", [{}] * requests))
    say(f"{name}: {json.dumps(result)}")
    return result


# ---- data --------------------------------------------------------------------------------------------
def existing_rows(database_url: str) -> dict[str, int] | None:
    url = make_url(database_url)
    try:
        conn = pymysql.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                               database=url.database)
    except pymysql.err.OperationalError:
        return None
    with conn, conn.cursor() as cursor:
        out = {}
        for table in ("performances", "performers", "halls", "users", "reservations"):
            cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
            out[table] = cursor.fetchone()[0]
        return out


async def reindex(settings: dict) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETBLUE_")}
    env.update({"TICKETBLUE_DATABASE_URL": settings["database_url"], "TICKETBLUE_DATA_DIR": str(WORK),
                "TICKETBLUE_JWT_SECRET": "bench-jwt-secret-long-enough-for-hs256-signing",
                "TICKETBLUE_ELASTICSEARCH_URL": settings["elasticsearch_url"], "TICKETBLUE_LOG_LEVEL": "WARNING",
                "TICKETBLUE_ELASTICSEARCH_INDEX_PREFIX": PREFIX, "TICKETBLUE_REDIS_URL": settings["redis_url"]})
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "server", "reindex", cwd=ROOT, env=env)
    if await process.wait() != 0:
        raise SystemExit("reindex failed")
    return time.monotonic() - began


async def prepare(scale: float, reuse: bool) -> tuple[dict, dict]:
    """The benchmark database and its indices: generated and indexed, or with --reuse those of an
    earlier run at the same scale (with the times that run measured)."""
    url = make_url(backend_url("MYSQL_URL")).set(database=DATABASE).render_as_string(hide_password=False)
    kept = WORK / "search-data.json"
    if reuse and kept.exists() and existing_rows(url) == counts(scale):
        timings = json.loads(kept.read_text())
        if timings.get("scale") == scale:
            say("reusing the generated database and its indices")
            return {"database_url": url, "redis_url": backend_url("REDIS_URL"), "admin_signup_key": "test-admin-key",
                    "password_hash_time_cost": 1, "password_hash_memory_kib": 1024,
                    "elasticsearch_url": backend_url("ELASTICSEARCH_URL")}, timings
    base = await fresh_backends(DATABASE)
    say(f"generating data at scale {scale}")
    timings = {"scale": scale, "generate": generate(base["database_url"], scale, log=say)}
    base["elasticsearch_url"] = backend_url("ELASTICSEARCH_URL")
    say("reindexing")
    timings["reindex_seconds"] = await reindex(base)
    kept.write_text(json.dumps(timings))
    return base, timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reuse", action="store_true", help="keep a complete generated database from before")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--sql-requests", type=int, default=200)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    base, timings = await prepare(args.scale, args.reuse)
    timings["load_before"] = os.getloadavg()[0]
    es = {**base, "elasticsearch_index_prefix": PREFIX, "search_cache_seconds": 0}
    sql = {**base, "search_cache_seconds": 0}
    sql.pop("elasticsearch_url")
    cached = {**base, "elasticsearch_index_prefix": PREFIX, "search_cache_seconds": 600}
    in_process = {**cached}
    in_process.pop("redis_url")
    runs = [
        await run_config("Elasticsearch", es, requests=args.requests, scale=args.scale, admin_too=True, lag_samples=30),
        await run_config("SQL fallback (MariaDB)", sql, requests=args.sql_requests, scale=args.scale, admin_too=True),
        await run_config("cached (Redis)", cached, requests=args.requests * 2, scale=args.scale, admin_too=False,
                         warm_repeats=True),
        await run_config("cached (in-process)", in_process, requests=args.requests * 2, scale=args.scale,
                         admin_too=False, warm_repeats=True),
    ]
    timings["load_after"] = os.getloadavg()[0]
    write(runs, timings, args)


def _ms(stats: dict) -> str:
    return f"{stats['p50']:.2f} | {stats['p90']:.2f} | {stats['p99']:.2f} | {stats['mean']:.2f}"


def write(runs: list[dict], timings: dict, args) -> None:
    by = {r["name"]: r for r in runs}
    es, sql = by["Elasticsearch"], by["SQL fallback (MariaDB)"]
    cached = [by["cached (Redis)"], by["cached (in-process)"]]
    rows = ["| search | backend | p50 ms | p90 ms | p99 ms | mean ms | req/s, 16 clients |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for what, label in (("catalogue", "catalogue"), ("admin", "admin bookings")):
        for r in runs:
            if what in r:
                rows.append(f"| {label} | {r['name']} | {_ms(r[what])} | {r[what + '_rps']:,.0f} |")
    speed = {what: {stat: sql[what][stat] / es[what][stat] for stat in ("p50", "p90", "mean")}
             for what in ("catalogue", "admin")}
    gen = timings["generate"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"
    targets = [
        f"| ES p50 ≤ 10 ms | catalogue {es['catalogue']['p50']:.2f} ms, admin {es['admin']['p50']:.2f} ms | "
        f"{verdict(max(es['catalogue']['p50'], es['admin']['p50']) <= 10)} |",
        f"| cached p50 ≤ 2 ms | {cached[0]['catalogue']['p50']:.2f} ms (Redis), "
        f"{cached[1]['catalogue']['p50']:.2f} ms (in-process) | "
        f"{verdict(max(c['catalogue']['p50'] for c in cached) <= 2)} |",
    ] + [f"| ES ≥ 5× faster than SQL, {label} | p50 {s['p50']:.1f}×, p90 {s['p90']:.1f}×, mean {s['mean']:.1f}× | "
         f"{verdict(s['p50'] >= 5)} at p50 |" for label, s in (("catalogue", speed["catalogue"]),
                                                               ("admin", speed["admin"]))]
    n = counts(args.scale)
    record("search", f"""
Data at scale {args.scale:g}: {n['performances']:,} performances (3 cast members each), {n['performers']:,}
performers, {n['halls']:,} halls, {n['users']:,} users, {n['reservations']:,} reservations (one seat each) in
MariaDB, generated in {gen['seconds']:.0f} s with multi-row INSERTs; `python -m server reindex` (bulk into new
indices, then the alias swap) took {timings['reindex_seconds']:.0f} s for all {sum(n.values()) - n['users']:,} documents.

One server process; requests one at a time from another process over loopback HTTP, timed to the
last byte; then {CONCURRENCY} concurrent clients for {LOAD_SECONDS} s for the throughput. Catalogue queries are
partial Korean and English words (prefixes, inner parts, two words; a fifth with a category, a fifth
with a date range): {args.requests} on Elasticsearch, {args.sql_requests} on SQL. Admin queries mix every filter
(performance, round, e-mail, status, booking dates, pages). "cached" repeats
{max(50, args.requests * 2 // 10)} distinct catalogue queries already answered once. Elasticsearch 8.19 (512 MB heap),
MariaDB, Redis, the client and the server share 2 cores, and other work ran on the machine: load average
{timings['load_before']:.1f} when the measurements began, {timings['load_after']:.1f} when they ended.

{chr(10).join(rows)}

| target | measured | |
|---|---|---|
{chr(10).join(targets)}

Index lag, from an update's response to the first search that finds the new title (Elasticsearch,
{es['lag']['n']} updates): p50 {es['lag']['p50']:.0f} ms, p99 {es['lag']['p99']:.0f} ms. For scale, `GET /healthz` on the
same path: p50 {es['floor']['p50']:.2f} ms, p99 {es['floor']['p99']:.2f} ms.

Admin booking search is not cached on purpose: every booking changes it, and admins need it as it is.
MariaDB answers the admin filters that have an index (performance, round, e-mail) in about 10 ms
and the rest (status, dates: no index on `created_at`) in 0.3 to 3 s; Elasticsearch answers all of
them in a few ms, so the median speed-up is the smallest number and the mean the most telling one.
""")


if __name__ == "__main__":
    asyncio.run(main())
