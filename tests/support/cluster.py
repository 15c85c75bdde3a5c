"""Redis made unavailable for real, for the failover tests: the single Redis, or the cluster master
that owns a key's slot, takes no writes for a while (CLIENT PAUSE WRITE, as a master does during a
manual failover); or its process gets SIGSTOP (it stops answering, as a hung or cut-off machine
does; a cluster promotes the master's replica once its node timeout has passed), and later SIGCONT
(a stopped master rejoins as a replica of the new one). `resume` waits until Redis is whole again,
so the tests after it find it healthy.

The `redis_stop` fixture resumes in its finalizer: a failing assertion never leaves Redis stopped.
(A pytest plugin: tests/conftest.py loads it.)"""
from __future__ import annotations

import os
import signal
import time
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from server.redis_client import Client, is_cluster, open_redis
from tests.support.api import eventually

# A cluster fails a stopped master over once it was silent for the node timeout (3 s,
# scripts/testbackends/redis_cluster.py) and its replica won the election; the clients then refresh
# their map of slots. Holds work again after about 5 s (the failover tests print what they see).
HOLDS_AGAIN_WITHIN_SECONDS = 20
WHOLE_AGAIN_WITHIN_SECONDS = 60


def node_client(name: str) -> Redis:
    """A client of that one server, by its "host:port" (of a cluster: that one node)."""
    host, _, port = name.rpartition(":")
    return Redis(host=host, port=int(port), decode_responses=True, socket_timeout=2)


async def whole_again(cluster: RedisCluster, stopped: str) -> bool:
    """Every node says cluster_state:ok, and the stopped master is a replica whose link is up."""
    await cluster.nodes_manager.initialize()
    if stopped not in {n.name for n in cluster.get_replicas()}:
        return False
    for node in cluster.get_nodes():
        async with node_client(node.name) as direct:
            if (await direct.cluster("info"))["cluster_state"] != "ok":
                return False
            if node.name == stopped and (await direct.info("replication"))["master_link_status"] != "up":
                return False
    return True


async def answers(name: str) -> bool:
    async with node_client(name) as direct:
        return await direct.ping()


class RedisStop:
    def __init__(self, client: Client):
        self.client = client
        self.stopped: str | None = None            # "host:port" of the server stopped
        self.stopped_at: float | None = None       # time.monotonic() of the stop
        self._pid: int | None = None

    def owner_of(self, key: str) -> str:
        """The "host:port" of the server that owns `key` (on a cluster: the master of its slot)."""
        if is_cluster(self.client):
            return self.client.get_node_from_key(key).name
        options = self.client.connection_pool.connection_kwargs
        return f"{options['host']}:{options['port']}"

    @asynccontextmanager
    async def writes_paused(self, key: str, seconds: float):
        """The server owning `key` takes no writes for `seconds`, or until the block ends: reads go
        on, scripts that write wait."""
        async with node_client(self.owner_of(key)) as direct:
            await direct.execute_command("CLIENT", "PAUSE", int(seconds * 1000), "WRITE")
            try:
                yield
            finally:
                await direct.execute_command("CLIENT", "UNPAUSE")

    async def stop_owner_of(self, key: str) -> None:
        """Stop the server that owns `key`: on a cluster, the master of its slot, once its replica has
        everything it was sent (what the master accepts after that may be lost with it, as in any
        failover to an asynchronous replica)."""
        assert self._pid is None, "one stop at a time"
        self.stopped = self.owner_of(key)
        async with node_client(self.stopped) as direct:
            if is_cluster(self.client):
                assert await direct.execute_command("WAIT", 1, 5000) == 1
            self._pid = int((await direct.info("server"))["process_id"])
        os.kill(self._pid, signal.SIGSTOP)
        self.stopped_at = time.monotonic()

    def since_stop(self) -> float:
        return time.monotonic() - self.stopped_at

    async def resume(self) -> None:
        """Let the stopped server go on, and wait until Redis is whole again."""
        if self._pid is None:
            return
        os.kill(self._pid, signal.SIGCONT)
        self._pid = None
        resumed = time.monotonic()
        whole = (lambda: whole_again(self.client, self.stopped)) if is_cluster(self.client) else \
            (lambda: answers(self.stopped))
        await eventually(whole, timeout=WHOLE_AGAIN_WITHIN_SECONDS, every=0.5)
        print(f"\nRedis was whole again {time.monotonic() - resumed:.1f} s after the stopped server resumed")


@pytest.fixture
async def redis_stop(redis_url):
    """Stops the Redis (or cluster master) at `redis_url` for real (see RedisStop); resumed, and Redis
    whole again, when the test ends, however it ends."""
    client = await open_redis(redis_url)
    stop = RedisStop(client)
    try:
        yield stop
    finally:
        try:
            await stop.resume()
        finally:
            await client.aclose()
