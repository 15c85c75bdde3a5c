"""A real Redis Cluster from the same Debian `redis-server`: 3 masters with 1 replica each, without
persistence, made by `redis-cli --cluster create` (redis-cli comes with Debian's redis-tools).

Its nodes listen on PORT .. PORT+5, and Redis puts each node's cluster bus on its port + 10000: the
default base leaves both ranges clear of the other backends' default ports and under 65536."""
import shutil
import subprocess

from testbackends.common import HOST, Backend, BackendError, Started, port, wait_until
from testbackends.processes import run, spawn
from testbackends.redis import pong

PORT = port("TB_TEST_REDIS_CLUSTER_PORT", 17000)
NODES = 6
PORTS = tuple(range(PORT, PORT + NODES))
# How long a master may be silent before its replica takes over. Low, so that the failover test is
# quick; not so low that a loaded two-core test machine fails nodes over by itself.
NODE_TIMEOUT_MS = 3000


def _cli(port_number, *command):
    return subprocess.run(["redis-cli", "-h", HOST, "-p", str(port_number), *command],
                          capture_output=True, text=True, timeout=5).stdout


def cluster_whole(port_number):
    """The node says cluster_state:ok and sees three masters and three replicas, every link up and
    nobody failing or still shaking hands; a replica has finished its first sync (until then clients
    are not told of it: CLUSTER SLOTS leaves it out). Right after `create` all of that takes a moment."""
    if "cluster_state:ok" not in _cli(port_number, "cluster", "info"):
        return False
    nodes = [line.split() for line in _cli(port_number, "cluster", "nodes").splitlines() if line.strip()]
    roles = [flags for _id, _addr, flags, *_ in nodes]
    return (sum("master" in r for r in roles) == 3 and sum("slave" in r for r in roles) == 3
            and all(n[7] == "connected" for n in nodes if len(n) > 7)
            and not any(word in r for r in roles for word in ("fail", "handshake", "noaddr"))
            and ("myself,slave" not in roles or "master_link_status:up" in _cli(port_number, "info", "replication")))


def start(tmp):
    if not shutil.which("redis-cli"):
        raise BackendError("redis-cli not found (scripts/test installs redis-tools)")
    procs = []
    for node_port in PORTS:
        folder = tmp / f"redis-cluster-{node_port}"
        folder.mkdir()
        procs.append(spawn(tmp, f"redis-cluster-{node_port}", [
            shutil.which("redis-server") or "redis-server", "--port", str(node_port), "--bind", HOST,
            "--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf"),
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", str(folder)]))

    def ready():
        for node_port, (proc, log) in zip(PORTS, procs):
            wait_until(lambda p=node_port: pong(p), 20, f"Redis cluster node {node_port}", proc, log)
        run(["redis-cli", "--cluster", "create", *(f"{HOST}:{p}" for p in PORTS),
             "--cluster-replicas", "1", "--cluster-yes"], tmp / "redis-cluster-create.log")
        for node_port, (proc, log) in zip(PORTS, procs):
            wait_until(lambda p=node_port: cluster_whole(p), 30,
                       f"Redis cluster node {node_port} (cluster_state:ok, 3 masters, 3 replicas)", proc, log)
    return Started(ready)


def _exports(record):
    return {"TICKETBLUE_TEST_REDIS_CLUSTER_URL": "redis+cluster://" + ",".join(f"{HOST}:{p}" for p in PORTS)}


REDIS_CLUSTER = Backend("redis_cluster", PORT, start, _exports)
