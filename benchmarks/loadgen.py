"""A load-generator process for benchmarks/holds and benchmarks/contention.

    python -m benchmarks.loadgen < SPEC_JSON

SPEC: {"mode": "rest" | "ws" | "rush", "urls": [...], "round_id": N, "users": [[token, seat_id], ...],
       "seats": [...] (rush), "seconds": S (rest/ws)}
Prints one JSON line: {"hold_ms": [...], "release_ms": [...], "outcomes": {...}}.
User i talks to urls[i % len(urls)].
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter

import aiohttp


async def rest_user(http, url, round_id, token, seat, until, out) -> None:
    """Hold one seat and release it, again and again, timing each call."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{url}/api/rounds/{round_id}/holds"
    body = json.dumps({"seat_ids": [seat]})
    headers["Content-Type"] = "application/json"
    while time.monotonic() < until:
        for method, key in (("POST", "hold_ms"), ("DELETE", "release_ms")):
            t = time.perf_counter()
            async with http.request(method, path, data=body, headers=headers) as resp:
                await resp.read()
            out[key].append((time.perf_counter() - t) * 1000)
            out["outcomes"][f"{method} {resp.status}"] += 1


async def ws_user(http, url, round_id, token, seat, until, out) -> None:
    async with http.ws_connect(f"{url}/ws/rounds/{round_id}?token={token}") as ws:
        req = 0
        while time.monotonic() < until:
            for kind, key in (("hold", "hold_ms"), ("release", "release_ms")):
                req += 1
                t = time.perf_counter()
                await ws.send_str(json.dumps({"type": kind, "req": req, "seat_ids": [seat]}))
                async for message in ws:                 # deltas and snapshots go by; wait for ours
                    frame = json.loads(message.data)
                    if frame["type"] == "hold_result" and frame["req"] == req:
                        break
                out[key].append((time.perf_counter() - t) * 1000)
                out["outcomes"][f"{kind} {'ok' if frame['ok'] else frame['error']['code']}"] += 1


async def rush_user(http, url, round_id, token, seats, index, out) -> None:
    """Up to three tries: hold two random seats of the few, reserve them if the hold was granted."""
    rng = random.Random(index)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        wanted = rng.sample(seats, 2)
        t = time.perf_counter()
        async with http.post(f"{url}/api/rounds/{round_id}/holds", json={"seat_ids": wanted}, headers=headers) as r:
            await r.read()
        out["hold_ms"].append((time.perf_counter() - t) * 1000)
        out["outcomes"][f"hold {r.status}"] += 1
        if r.status != 200:
            continue
        async with http.post(f"{url}/api/reservations", json={"round_id": round_id, "seat_ids": wanted},
                             headers=headers) as r:
            body = await r.json()
        out["outcomes"][f"reserve {r.status}"] += 1
        if r.status == 201:
            out.setdefault("reserved", []).extend(body["seat_ids"])
            return


async def main(spec: dict) -> None:
    out = {"hold_ms": [], "release_ms": [], "outcomes": Counter()}
    urls, round_id = spec["urls"], spec["round_id"]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        if spec["mode"] == "rush":
            jobs = [rush_user(http, urls[i % len(urls)], round_id, token, spec["seats"], i, out)
                    for i, (token, _) in enumerate(spec["users"])]
        else:
            until = time.monotonic() + spec["seconds"]
            user = rest_user if spec["mode"] == "rest" else ws_user
            jobs = [user(http, urls[i % len(urls)], round_id, token, seat, until, out)
                    for i, (token, seat) in enumerate(spec["users"])]
        started = time.monotonic()
        results = await asyncio.gather(*jobs, return_exceptions=True)
        out["seconds"] = time.monotonic() - started
    for r in results:
        if isinstance(r, BaseException):
            out["outcomes"][f"error {type(r).__name__}"] += 1
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(json.load(sys.stdin)))      # on stdin: thousands of tokens overflow an argument
