"""Money under a real race, reconciled with the payment provider's ledger afterwards.

Many orders, each hit at once by 2-6 identical confirms; some also by a cancel (sent with the
confirms, or once a confirm has started), some by a second payment of the same order. The provider
is the Toss sandbox taking 100-300 ms per call, with Toss's answers to concurrent and repeated
requests (409 IDEMPOTENT_REQUEST_PROCESSING while the first request with a key is in flight, its
answer once it is done, ALREADY_PROCESSED_PAYMENT, DUPLICATED_ORDER_ID). Then, for every order:
a confirmed reservation has exactly one live charge of its amount, a canceled one none, and every
answer a caller got agrees (a 200 confirm: confirmed with that payment, or refunded by a cancel that
came after; a 409 confirm: that payment holds no money; a 200 cancel: canceled, no money kept).
Once in one process on each database, once across two server processes sharing MariaDB and one
sandbox, the confirms split over both.
"""
from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import pytest
import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import payments, reservations
from server.wiring import DATABASE, TOSS_SANDBOX
from tests.support.api import ADMIN_KEY, ApiClient, Reply, eventually
from tests.support.factories import make_round
from tests.support.instances import start_instances
from tests.support.peers.toss import TOSS_V1, checkout, sandbox_auth

ORDERS = 24
PRICE = 50000
LATENCY = {"toss_sandbox_min_latency_seconds": 0.1, "toss_sandbox_max_latency_seconds": 0.3}
CLIENT = {"toss_timeout_seconds": 5, "toss_retries": 2, "toss_retry_backoff_seconds": 0.1}
SHARED_KEY = "test_sk_shared_by_both_instances"
LIVE = ("DONE", "PARTIAL_CANCELED")


@dataclass
class Order:
    api: ApiClient
    token: str
    reservation: dict
    twins: int
    second_payment: bool
    cancel: str | None                      # None, "at once" (with the confirms) or "once started"
    keys: list[str] = field(default_factory=list)
    confirms: list[tuple[str, Reply]] = field(default_factory=list)
    cancels: list[Reply] = field(default_factory=list)


class Race:
    def __init__(self, apis: list[ApiClient], db: Database):
        self.apis, self.db = apis, db              # apis[0] hosts the sandbox (its checkout stand-in)

    async def book(self) -> list[Order]:
        admin = await self.apis[0].token(admin=True)
        show = await make_round(self.apis[0], admin, prices={"R": PRICE},
                                sections=[{"name": "A", "rows": 3, "seats_per_row": 10, "grade": "R"}])
        return await asyncio.gather(*(self._order(i, show) for i in range(ORDERS)))

    async def _order(self, i: int, show: dict) -> Order:
        api = self.apis[i % len(self.apis)]
        token = await api.token()
        seat = show["seat_ids"][i]
        assert (await api.post(f"/api/rounds/{show['round_id']}/holds", token=token,
                               json={"seat_ids": [seat]})).status == 200
        made = await api.post("/api/reservations", token=token, json={"round_id": show["round_id"], "seat_ids": [seat]})
        assert made.status == 201, made.json
        order = Order(api, token, made.json, twins=2 + i % 5, second_payment=i % 3 == 1,
                      cancel=(None, "at once", None, "once started")[i % 4])
        for _ in range(2 if order.second_payment else 1):
            order.keys.append((await checkout(self.apis[0], PRICE, made.json["order_id"]))[0])
        return order

    async def run(self, orders: list[Order]) -> None:
        await asyncio.gather(*(self._hammer(i, order) for i, order in enumerate(orders)))

    async def _hammer(self, i: int, order: Order) -> None:
        rng = random.Random(i)
        calls = [self._confirm(order, order.keys[0], j) for j in range(order.twins)]
        if order.second_payment:
            calls += [self._confirm(order, order.keys[1], j) for j in range(1 + order.twins // 2)]
        rng.shuffle(calls)
        if order.cancel:
            calls.append(self._cancel(order))
        await asyncio.gather(*calls)

    async def _confirm(self, order: Order, payment_key: str, j: int) -> None:
        api = self.apis[j % len(self.apis)]              # twins split over the instances
        reply = await api.post("/api/payments/confirm", token=order.token, json={
            "payment_key": payment_key, "order_id": order.reservation["order_id"], "amount": PRICE})
        order.confirms.append((payment_key, reply))

    async def _cancel(self, order: Order) -> None:
        if order.cancel == "once started":             # a confirm of the order is on its way to the provider
            await eventually(lambda: self._payment_rows(order), timeout=10)
        reply = await order.api.post(f"/api/reservations/{order.reservation['id']}/cancel", token=order.token)
        order.cancels.append(reply)

    async def _payment_rows(self, order: Order) -> dict[str, object]:
        async with self.db.read_own_writes() as conn:
            return {r.payment_key: r for r in await conn.execute(sa.select(payments).where(
                payments.c.reservation_id == order.reservation["id"]))}

    async def reconcile(self, orders: list[Order], auth: dict[str, str]) -> Counter:
        """Every order against the provider's view of its payments (read over Toss's API); returns the
        answers, counted."""
        answers: Counter = Counter()
        for order in await asyncio.gather(*(self._provider_view(order, auth) for order in orders)):
            answers.update(await self._reconcile(*order))
        return answers

    async def _provider_view(self, order: Order, auth: dict[str, str]) -> tuple[Order, dict[str, dict]]:
        replies = await asyncio.gather(*(self.apis[0].get(f"{TOSS_V1}/{key}", headers=auth) for key in order.keys))
        assert all(r.status == 200 for r in replies), [r.json for r in replies]
        return order, {key: reply.json for key, reply in zip(order.keys, replies)}

    async def _reconcile(self, order: Order, provider: dict[str, dict]) -> Counter:
        answers: Counter = Counter()
        live = [k for k, p in provider.items() if p["status"] in LIVE and p["balanceAmount"] > 0]
        async with self.db.read_own_writes() as conn:
            status = (await conn.execute(sa.select(reservations.c.status).where(
                reservations.c.id == order.reservation["id"]))).scalar_one()
        rows = await self._payment_rows(order)
        booked = [k for k, r in rows.items() if r.approved_at is not None]
        where = (order.reservation["order_id"], status, provider, [(k, a.status, a.json) for k, a in order.confirms],
                 [(a.status, a.json) for a in order.cancels])
        assert status in ("confirmed", "canceled"), where
        if status == "confirmed":
            assert live == booked and len(live) == 1 and provider[live[0]]["balanceAmount"] == PRICE, where
        else:
            assert live == [], where
        assert {r.status for r in rows.values()} <= {"approved", "canceled", "failed"}, where    # all settled
        for key, reply in order.confirms:
            answers[f"confirm {reply.status} {reply.error_code() or ''}".strip()] += 1
            if reply.status == 200:
                assert reply.json["payment_key"] == key, where
                assert (status == "confirmed" and booked == [key]) or \
                    (status == "canceled" and provider[key]["status"] == "CANCELED"), where
            elif reply.status == 409:
                assert key not in live, where
            else:
                assert reply.status == 502, where          # "still processing": it claims nothing
        for reply in order.cancels:
            answers[f"cancel {reply.status} {reply.error_code() or ''}".strip()] += 1
            assert reply.status in (200, 409), where
            if reply.status == 200:
                assert reply.json["status"] == "canceled" and status == "canceled", where
        return answers


@pytest.fixture
def settings_overrides() -> dict:
    return {**LATENCY, **CLIENT}


async def test_confirms_cancels_and_second_payments_at_once_agree_with_the_provider(client, app):
    race = Race([client], app[DATABASE])
    orders = await race.book()
    await race.run(orders)
    answers = await race.reconcile(orders, sandbox_auth(app[TOSS_SANDBOX]))
    assert answers["confirm 200"] >= ORDERS // 2, answers         # the race did not just refuse everything
    sandbox = app[TOSS_SANDBOX]
    for order in orders:                       # and the ledger: each payment approved at most once, refunded in full
        moved = [m for m in sandbox.ledger if m.order_id == order.reservation["order_id"]]
        for key in order.keys:
            assert [m.kind for m in moved if m.payment_key == key] in ([], ["approve"], ["approve", "cancel"]), moved
        assert sum(m.amount for m in moved if m.kind == "cancel") <= sum(m.amount for m in moved if m.kind == "approve")


@pytest.fixture
async def instances(tmp_path, empty_mysql_url, empty_redis_url):
    """Two server processes on one MariaDB and Redis; the first hosts the sandbox, the second pays
    through it with the shared key."""
    common = dict(database_url=empty_mysql_url, redis_url=empty_redis_url, admin_signup_key=ADMIN_KEY,
                  password_hash_time_cost=1, password_hash_memory_kib=1024, toss_sandbox_key=SHARED_KEY,
                  **CLIENT)
    [host] = await start_instances(1, tmp_path / "host", **common, **LATENCY)
    try:
        [other] = await start_instances(1, tmp_path / "other", **common, toss_api_url=f"{host.url}/sandbox/toss")
    except BaseException:
        host.stop()
        raise
    yield [host, other]
    for server in (other, host):
        server.stop()


async def test_the_same_race_across_two_instances_agrees_with_the_provider(instances, empty_mysql_url):
    sessions = [aiohttp.ClientSession(base_url=s.url, connector=aiohttp.TCPConnector(limit=0)) for s in instances]
    db = Database(empty_mysql_url)
    try:
        race = Race([ApiClient(s) for s in sessions], db)
        orders = await race.book()
        await race.run(orders)
        answers = await race.reconcile(orders, sandbox_auth(SHARED_KEY))
        assert answers["confirm 200"] >= ORDERS // 2, answers
    finally:
        await db.close()
        for s in sessions:
            await s.close()
