"""`python -m server serve --workers N`: N whole instances on one port (SO_REUSEPORT) that the
kernel spreads connections over, a dead one replaced, all stopped gracefully together; refused
where a process's own memory would have to be shared."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import ADMIN_KEY, ApiClient, eventually
from tests.support.factories import make_round, reserve
from tests.support.instances import ROOT, ServerProcess, start_instances
from tests.support.peers.toss import checkout

SANDBOX_KEY = "test_sk_sandbox_shared_with_the_workers"


def refusal(**settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETBLUE_")}
    env.update({f"TICKETBLUE_{k.upper()}": v for k, v in settings.items()})
    return subprocess.run([sys.executable, "-m", "server", "serve", "--workers", "2"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_workers_are_refused_where_one_process_memory_would_have_to_be_shared(empty_redis_url):
    alone = refusal()
    assert alone.returncode == 2 and "--workers needs TICKETBLUE_REDIS_URL" in alone.stderr
    with_redis = refusal(redis_url=empty_redis_url)          # ...and the built-in Toss sandbox
    assert with_redis.returncode == 2 and "built-in Toss sandbox" in with_redis.stderr


async def instance_of(url: str) -> str:
    """The instance that answers a new connection to `url` (ticketblue_instance_info's instance_id)."""
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as reply:
        text = await reply.text()
    [family] = [f for f in text_string_to_metric_families(text) if f.name == "ticketblue_instance_info"]
    return family.samples[0].labels["instance_id"]


async def instances_answering(url: str, tries: int = 60) -> set[str]:
    return {await instance_of(url) for _ in range(tries)}


def worker_pids(log: str) -> dict[int, int]:
    """The newest pid of each worker, from the supervisor's log."""
    return {int(n): int(pid) for n, pid in re.findall(r"worker (\d+) started \(pid (\d+)\)", log)}


async def test_two_workers_serve_one_port_and_one_that_dies_is_replaced(tmp_path, empty_mysql_url, empty_redis_url):
    [host] = await start_instances(1, tmp_path / "sandbox", toss_sandbox_key=SANDBOX_KEY)
    workers = ServerProcess(tmp_path / "workers", serve_args=("--workers", "2"), log_level="INFO",
                            database_url=empty_mysql_url, redis_url=empty_redis_url,
                            toss_api_url=f"{host.url}/sandbox/toss", toss_sandbox_key=SANDBOX_KEY,
                            admin_signup_key=ADMIN_KEY, password_hash_time_cost=1, password_hash_memory_kib=1024)
    try:
        workers.start()
        await workers.wait_ready()
        assert len(await eventually(lambda: _two(workers.url), timeout=30)) == 2      # both on the one port
        before = worker_pids(workers.log_path.read_text())
        assert sorted(before) == [1, 2]

        os.kill(before[1], signal.SIGKILL)                     # a crash, not a shutdown
        async def replaced() -> bool:
            return worker_pids(workers.log_path.read_text()).get(1) not in (None, before[1])
        await eventually(replaced, timeout=30)
        after = worker_pids(workers.log_path.read_text())
        assert after[2] == before[2] and "worker 1 exited with -9" in workers.log_path.read_text()
        assert len(await eventually(lambda: _two(workers.url), timeout=30)) == 2

        # A whole booking through the port, whichever worker each request lands on.
        async with aiohttp.ClientSession(workers.url) as http, aiohttp.ClientSession(host.url) as sandbox_http:
            api, sandbox = ApiClient(http), ApiClient(sandbox_http)
            show = await make_round(api, await api.token(admin=True))
            token = await api.token()
            reservation = await reserve(api, show, token)
            payment_key, _ = await checkout(sandbox, reservation["amount"], reservation["order_id"])
            paid = await api.post("/api/payments/confirm", token=token, json={
                "payment_key": payment_key, "order_id": reservation["order_id"], "amount": reservation["amount"]})
            assert paid.status == 200, paid.json
    finally:
        code = workers.stop(timeout=40)
        host.stop()
    assert code == 0                                           # SIGTERM: every worker shut down gracefully
    for pid in worker_pids(workers.log_path.read_text()).values():
        assert not _alive(pid)


async def _two(url: str) -> set[str] | None:
    """The instances answering on `url`, once there are two of them."""
    seen = await instances_answering(url)
    return seen if len(seen) == 2 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
