"""A load-generator process for benchmarks/holds and benchmarks/contention.

    python -m benchmarks.loadgen < SPEC_JSON

SPEC: {"mode": "rest" | "ws" | "rush" | "queue-rush", "urls": [...], "round_id": N,
       "users": [[token, seat_id], ...], "seats": [...] (rush), "seconds": S (rest/ws)}
Prints one JSON line: {"hold_ms": [...], "release_ms": [...], "outcomes": {...}}. User i talks to
urls[i % len(urls)]. "queue-rush" (the rush behind a waiting room): every user joins the round's
waiting room and opens its queue socket, then `ready` is printed first; once admitted, a user rushes
for two seats of the map and leaves the room. Its JSON adds "admitted_at" and "sold_at" (epoch
seconds), "seat_map_ms" and "queue_frames" (the queue sockets' figures, benchmarks/queue_watchers.py).
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from typing import Callable

import aiohttp
from yarl import URL

from benchmarks.queue_watchers import CONNECTING_AT_ONCE, QueueSocket, Tally, watch


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


async def rush_user(http, url, round_id, token, seats, index, out, *, learn: bool = False) -> bool:
    """Up to three tries: hold two random seats of `seats`, reserve them if the hold was granted; whether
    it reserved. A user who `learn`s picks from their own view of the map, which loses the seats a
    refusal names (as a browser's live map shows them taken)."""
    rng = random.Random(index)
    seats = list(seats) if learn else seats
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        if len(seats) < 2:
            break
        wanted = rng.sample(seats, 2)
        t = time.perf_counter()
        async with http.post(f"{url}/api/rounds/{round_id}/holds", json={"seat_ids": wanted}, headers=headers) as r:
            body = await r.read()
        out["hold_ms"].append((time.perf_counter() - t) * 1000)
        out["outcomes"][f"hold {r.status}"] += 1
        if r.status != 200:
            if learn and r.status == 409:
                refused = set((json.loads(body)["error"].get("details") or {}).get("seat_ids", ()))
                seats = [s for s in seats if s not in refused]
            continue
        async with http.post(f"{url}/api/reservations", json={"round_id": round_id, "seat_ids": wanted},
                             headers=headers) as r:
            body = await r.json()
        out["outcomes"][f"reserve {r.status}"] += 1
        if r.status == 201:
            out.setdefault("reserved", []).extend(body["seat_ids"])
            return True
    return False


async def enter_queue(http, url, round_id, token, tally, out) -> QueueSocket | None:
    """Join the round's waiting room, then open the queue socket, as the waiting page does."""
    async with http.post(f"{url}/api/rounds/{round_id}/queue", headers={"Authorization": f"Bearer {token}"}) as r:
        await r.read()
    out["outcomes"][f"join {r.status}"] += 1
    if r.status != 200:
        return None
    return await watch(URL(url).host, URL(url).port, round_id, token, tally)


async def queued_user(http, url, round_id, token, socket: QueueSocket, index, out) -> None:
    """Wait until the socket says admitted; then load the seat map, rush for two of its available seats
    (rush_user), and leave the room, which ends the admission for the next in line as paying would."""
    frame = await socket.settled
    if frame is None:
        out["outcomes"]["error queue socket closed"] += 1
        return
    if frame["status"] != "admitted":
        out["outcomes"][f"waited, then closed {frame['reason']}"] += 1
        socket.close()
        return
    out["admitted_at"].append(time.time())
    headers = {"Authorization": f"Bearer {token}"}
    t = time.perf_counter()
    async with http.get(f"{url}/api/rounds/{round_id}/seats", headers=headers) as r:     # as the seat page does
        seat_map = await r.json()
    out["seat_map_ms"].append((time.perf_counter() - t) * 1000)
    out["outcomes"][f"seat map {r.status}"] += 1
    available = [seat["id"] for seat in seat_map["seats"] if seat["status"] == "available"]
    if await rush_user(http, url, round_id, token, available, index, out, learn=True):
        out["sold_at"].append(time.time())
    async with http.delete(f"{url}/api/rounds/{round_id}/queue", headers=headers) as r:
        await r.read()
    out["outcomes"][f"leave {r.status}"] += 1
    socket.close()


async def main(spec: dict) -> None:
    out = {"hold_ms": [], "release_ms": [], "outcomes": Counter()}
    urls, round_id = spec["urls"], spec["round_id"]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        if spec["mode"] == "rush":
            jobs = [rush_user(http, urls[i % len(urls)], round_id, token, spec["seats"], i, out)
                    for i, (token, _) in enumerate(spec["users"])]
        elif spec["mode"] == "queue-rush":
            jobs, frames = await queued_users(http, urls, round_id, [token for token, _ in spec["users"]], out)
        else:
            until = time.monotonic() + spec["seconds"]
            user = rest_user if spec["mode"] == "rest" else ws_user
            jobs = [user(http, urls[i % len(urls)], round_id, token, seat, until, out)
                    for i, (token, seat) in enumerate(spec["users"])]
        started = time.monotonic()
        results = await asyncio.gather(*jobs, return_exceptions=True)
        out["seconds"] = time.monotonic() - started
        if spec["mode"] == "queue-rush":
            out["queue_frames"] = frames()
    for r in results:
        if isinstance(r, BaseException):
            out["outcomes"][f"error {type(r).__name__}"] += 1
    print(json.dumps(out))


async def queued_users(http, urls, round_id, tokens, out) -> tuple[list, Callable[[], dict]]:
    """Every user joins and opens their queue socket; then `ready` is printed (the driver opens the sale
    once every process is ready) and the users wait for their turn: the jobs returned, with what tells
    the queue frames' figures (queue_watchers.Tally.report)."""
    tally, gate = Tally(), asyncio.Semaphore(CONNECTING_AT_ONCE)
    out.update(admitted_at=[], sold_at=[], seat_map_ms=[])

    async def enter(i: int, token: str):
        async with gate:
            return await enter_queue(http, urls[i % len(urls)], round_id, token, tally, out)
    sockets = await asyncio.gather(*(enter(i, token) for i, token in enumerate(tokens)), return_exceptions=True)
    print("ready", flush=True)
    jobs = [queued_user(http, urls[i % len(urls)], round_id, tokens[i], socket, i, out)
            for i, socket in enumerate(sockets) if isinstance(socket, QueueSocket)]
    for failed in (s for s in sockets if isinstance(s, BaseException)):
        out["outcomes"][f"error {type(failed).__name__}"] += 1
    return jobs, lambda: tally.report([s for s in sockets if isinstance(s, QueueSocket)])


if __name__ == "__main__":
    asyncio.run(main(json.load(sys.stdin)))      # on stdin: thousands of tokens overflow an argument
