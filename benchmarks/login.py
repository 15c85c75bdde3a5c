"""Login latency under a password-guessing attack: an attacker sends 40 wrong-password logins a second
(open loop: one every 25 ms, whatever the answers) from 127.0.0.2, while real users log in from
other loopback addresses; p50/p99 of the real logins, with the rate limits and the bound on
concurrent hashes off (what the server did before it had them) and on (the defaults).

    benchmarks/run login [--seconds 60] [--modes off,on]

Passwords are hashed with the server's default argon2 cost (time 3, 64 MiB), as in production. The
real users are spread over 20 addresses with 3 accounts each, one login per address every 10 s, which
stays under the default per-address and per-account limits: what is measured is what the attack
does to them, not the limits refusing them.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter

import aiohttp
import msgspec

from benchmarks.common import fresh_backends, rate_limits_off, servers
from benchmarks.results import cpu_seconds, percentile, record, table
from server.settings import Settings
from tests.support.api import PASSWORD

ATTACKS_PER_SECOND = 40
ATTACKER = "127.0.0.2"
REAL_ADDRESSES = [f"127.0.0.{10 + i}" for i in range(20)]
ACCOUNTS_PER_ADDRESS = 3
REAL_LOGIN_EVERY_SECONDS = 10.0
DEFAULTS = {f.name: f.default for f in msgspec.structs.fields(Settings)}


def mode_settings(mode: str) -> dict:
    hashing = {name: DEFAULTS[name] for name in ("password_hash_time_cost", "password_hash_memory_kib")}
    if mode == "off":
        return {**hashing, **rate_limits_off(), "password_hash_concurrency": 64}     # "unbounded", as before
    # The defaults, also where tests/support/instances.py opens them up for tests that sign up many accounts.
    return {**hashing, **{name: DEFAULTS[name] for name in DEFAULTS if name.startswith("rate_limit_")}}


def session(url: str, address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0))


async def sign_up(url: str) -> dict[str, list[str]]:
    """Each real address's accounts, created from that address (the sign-up limit is per address)."""
    accounts: dict[str, list[str]] = {}
    numbers = itertools.count()

    async def one(address: str) -> None:
        async with session(url, address) as http:
            accounts[address] = []
            for _ in range(ACCOUNTS_PER_ADDRESS):
                email = f"real{next(numbers)}@example.com"
                async with http.post("/api/auth/signup", json={"email": email, "password": PASSWORD,
                                                               "name": "Real"}) as reply:
                    assert reply.status == 201, await reply.text()
                accounts[address].append(email)
    await asyncio.gather(*(one(a) for a in REAL_ADDRESSES))
    return accounts


async def attack(url: str, until: float, outcomes: Counter) -> None:
    async with session(url, ATTACKER) as http:
        async def guess(n: int) -> None:
            try:
                async with http.post("/api/auth/login", json={"email": f"real{n % 60}@example.com",
                                                              "password": f"guess-{n}"}) as reply:
                    await reply.read()
                    outcomes[reply.status] += 1
            except aiohttp.ClientError as exc:
                outcomes[type(exc).__name__] += 1
        pending, n = set(), 0
        start = time.monotonic()
        while time.monotonic() < until:
            pending.add(asyncio.create_task(guess(n)))
            n += 1
            await asyncio.sleep(max(0.0, start + n / ATTACKS_PER_SECOND - time.monotonic()))
        await asyncio.gather(*pending)


async def real_user(url: str, address: str, emails: list[str], start: float, until: float,
                    took: list[float], outcomes: Counter) -> None:
    async with session(url, address) as http:
        for n in itertools.count():
            at = start + n * REAL_LOGIN_EVERY_SECONDS
            if at >= until:
                return
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            t = time.perf_counter()
            async with http.post("/api/auth/login", json={"email": emails[n % len(emails)],
                                                          "password": PASSWORD}) as reply:
                await reply.read()
            took.append((time.perf_counter() - t) * 1000)
            outcomes[reply.status] += 1


async def measure(mode: str, seconds: float) -> dict:
    settings = {**await fresh_backends(), **mode_settings(mode)}
    async with servers(1, **settings) as [server]:
        accounts = await sign_up(server.url)
        took: list[float] = []
        real, attacker = Counter(), Counter()
        cpu_before = cpu_seconds(server.pid)
        start = time.monotonic()
        until = start + seconds
        await asyncio.gather(attack(server.url, until, attacker), *(
            real_user(server.url, address, emails, start + i * REAL_LOGIN_EVERY_SECONDS / len(REAL_ADDRESSES),
                      until, took, real) for i, (address, emails) in enumerate(accounts.items())))
        elapsed = time.monotonic() - start
        cpu = (cpu_seconds(server.pid) - cpu_before) / elapsed
    return {"mode": mode, "seconds": seconds, "real_logins": len(took), "p50": percentile(took, 50),
            "p99": percentile(took, 99), "max": max(took), "real_outcomes": dict(real),
            "attacker_outcomes": {str(k): v for k, v in attacker.items()}, "server_cpu": cpu}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--modes", default="off,on", help="off: no rate limits, unbounded hashing; on: the defaults")
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        row = await measure(mode, args.seconds)
        print(json.dumps(row), flush=True)
        rows.append(row)
    def answers(outcomes: dict) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    results = table(
        ["rate limits, hash bound", "real logins", "p50", "p99", "max", "real answers", "attacker answers",
         "server CPU"], "lrrrrllr",
        [[f"{r['mode']}", f"{r['real_logins']}", f"{r['p50']:.0f} ms", f"{r['p99']:.0f} ms", f"{r['max']:.0f} ms",
          answers(r["real_outcomes"]), answers(r["attacker_outcomes"]), f"{r['server_cpu']:.0%}"] for r in rows])
    record("login", f"""
An attacker sends {ATTACKS_PER_SECOND} wrong-password logins a second from one address (open loop) for
{args.seconds:.0f} s; meanwhile {len(REAL_ADDRESSES)} real users on other addresses log in every
{REAL_LOGIN_EVERY_SECONDS:.0f} s each. argon2 at the default cost (time 3, 64 MiB); one server
instance (MariaDB, Redis). "off": no rate limits and up to 64 hashes at once (as before); "on": the
default limits (5 logins per 10 s and 30 a minute per address, 10 per account) and at most one hash per CPU. The
server, MariaDB, Redis and the load generator share the machine's cores.

{results}
""")


if __name__ == "__main__":
    asyncio.run(main())
