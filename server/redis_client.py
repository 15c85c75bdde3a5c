"""The one way the server talks to Redis: the client factory every Redis user goes through (seat
engine, SSE bus, search cache, rate limits), how pub/sub channels are named, and the loops that
listen to a subscription and survive a lost connection. (No HTTP and nothing else of the server
here: the seat engine uses it too.)

`redis://` and `rediss://` give a client of one Redis server; `redis+cluster://host:port[,host:port...]`
gives redis-py's asyncio RedisCluster, which finds every node from any reachable one of those. On a
cluster, a command goes to the node owning its keys' slot, so everything one Lua script touches must
share a hash tag, and pub/sub is sharded (SPUBLISH / SSUBSCRIBE on the node owning the channel's slot)."""
from __future__ import annotations

import asyncio
import logging
import time
from functools import cache, partial
from typing import Awaitable, Callable, Union
from urllib.parse import unquote, urlsplit

import hiredis
import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, ClusterPubSub, RedisCluster
from redis.exceptions import ClusterDownError, RedisClusterException, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.background import nap

log = logging.getLogger(__name__)
RECONNECT_PAUSE_SECONDS = 0.5
CLUSTER_SCHEME = "redis+cluster"
# A cluster client fails a command when a node's pool is used up (MaxConnectionsError: it does not
# wait, as the single server's blocking pool does), so its pools are much larger: the cap is per node.
CLUSTER_CONNECTIONS_PER_NODE = 4096
# A master that hangs or is cut off does not refuse connections, it stops answering: a command sent
# to it fails after this long, and the client then refreshes its map of slots and retries (on the
# replica that took over, once the cluster failed the master over). redis-py's default is 5 s. Our
# scripts take well under a millisecond; a retried one is harmless (they are idempotent but for the
# holds' rate count, which a retry may count twice).
CLUSTER_SOCKET_TIMEOUT_SECONDS = 2
# Redis answers a script in well under a millisecond; a call not answered in this long is given up
# (the seat engine's: seatmap/redis_engine.py), rather than retried for as long as the client would
# (5 s on a single Redis, 14 s and more on a cluster with every node stopped, before a failure that
# looked like a bug). Longer than the socket timeout: the cluster client must have seen the node
# time out, for it to refresh its map of slots and find the replica that takes over.
ANSWER_WITHIN_SECONDS = CLUSTER_SOCKET_TIMEOUT_SECONDS + 1
# What says that Redis did not answer, as against a command that failed (a bug): a connection lost,
# refused or timed out (OSError takes in the builtin TimeoutError), a cluster with no master for a
# slot, or none of its nodes reachable.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ClusterDownError, RedisClusterException, OSError)
# How often the cluster listener looks for nodes that got subscriptions since (new rounds, a slot
# that moved): a new subscription's first messages can wait that long to be read.
NODE_WATCH_SECONDS = 0.05
# A node's subscription connection quiet this long is probed with a PING; one that has not even
# answered that after this long is taken for lost (its node hung or was cut off: see _read_node).
PROBE_QUIET_SECONDS = 1.0
SILENT_NODE_SECONDS = 3.0

Client = Union[redis.Redis, RedisCluster]


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME + "://")


def cluster_nodes(url: str) -> tuple[list[ClusterNode], dict]:
    """The seed nodes of a redis+cluster:// URL, and its user and password if it has them."""
    parts = urlsplit(url)
    auth, _, hosts = parts.netloc.rpartition("@")
    user, _, password = auth.partition(":")
    nodes = []
    for host_port in hosts.split(","):
        host, _, port = host_port.strip().rpartition(":")
        nodes.append(ClusterNode(host or "127.0.0.1", int(port or 6379)))
    credentials = {k: unquote(v) for k, v in (("username", user), ("password", password)) if v}
    return nodes, credentials


class HiredisPacking:
    """Mixed into the class of every connection `connect` makes: a command is packed by hiredis in one
    C call. redis-py's own packer calls hiredis too, but first passes each argument through its encoder
    in Python: 18 µs for the 36 arguments of a hold against 3 µs, a tenth of what a hold cost this
    process. The bytes are the same for what hiredis takes (str, bytes, int, float); anything else
    (a bool or None, which redis-py refuses with its DataError), and a command name redis-py splits
    ("CLIENT SETNAME"), go redis-py's way."""

    def pack_command(self, *args):
        name = args[0]
        if (" " not in name) if isinstance(name, str) else (b" " not in name):
            try:
                return [hiredis.pack_command(args)]
            except TypeError:
                pass
        return super().pack_command(*args)


@cache
def packed_by_hiredis(connection_class: type) -> type:
    return type(f"Hiredis{connection_class.__name__}", (HiredisPacking, connection_class), {})


def connect(url: str, *, decode_responses: bool = True, max_connections: int = 64,
            client_name: str | None = None) -> Client:
    """A client whose callers wait for a free connection under load instead of failing. Closing the
    client closes its pool. `decode_responses=False` for users that store bytes (the search cache);
    `client_name`, what Redis lists its connections under (CLIENT LIST)."""
    if is_cluster_url(url):
        nodes, credentials = cluster_nodes(url)
        cluster = RedisCluster(startup_nodes=nodes, decode_responses=decode_responses,
                               max_connections=max(max_connections, CLUSTER_CONNECTIONS_PER_NODE),
                               health_check_interval=30, socket_timeout=CLUSTER_SOCKET_TIMEOUT_SECONDS,
                               socket_connect_timeout=CLUSTER_SOCKET_TIMEOUT_SECONDS, client_name=client_name,
                               **credentials)
        # (RedisCluster takes no connection class: it is set where the client makes its nodes, the
        # seed nodes it made already included; none has connected yet)
        kwargs = cluster.nodes_manager.connection_kwargs
        kwargs["connection_class"] = packed_by_hiredis(kwargs["connection_class"])
        for node in cluster.nodes_manager.startup_nodes.values():
            node.connection_class = kwargs["connection_class"]
        return cluster
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10,
                                                 decode_responses=decode_responses, health_check_interval=30,
                                                 client_name=client_name)
    pool.connection_class = packed_by_hiredis(pool.connection_class)
    return redis.Redis.from_pool(pool)


async def open_redis(url: str, **options) -> Client:
    """`connect`, and on a cluster learn its slots before the first command: redis-py's cluster
    client replaces its seed nodes when it first learns them, and commands already under way on a
    seed node's connections then fail (seen as "AttributeError: 'NoneType' object has no attribute
    'writelines'" when a rush meets a fresh client)."""
    client = connect(url, **options)
    if is_cluster(client):
        await client.initialize()
    return client


def is_cluster(client: Client) -> bool:
    return isinstance(client, RedisCluster)


def database(client: Client) -> int:
    """The database number of a single server's client (a cluster has only 0)."""
    return 0 if is_cluster(client) else client.connection_pool.connection_kwargs.get("db", 0)


def namespace(client: Client, prefix: str = "tb") -> str:
    """A prefix for classic pub/sub channels: unlike keys, channels are shared by all of a server's
    databases, so two deployments on one Redis (db 0 and db 1) would otherwise hear each other."""
    return f"{prefix}:{database(client)}:"


async def subscribe(pubsub: redis.client.PubSub | ClusterPubSub, *channels: str) -> None:
    """Classic channels on a single Redis; sharded ones on a cluster, on the nodes owning their
    slots (which the client must know first)."""
    if isinstance(pubsub, ClusterPubSub):
        await pubsub.cluster.initialize()
        await pubsub.ssubscribe(*channels)
    else:
        await pubsub.subscribe(*channels)


async def unsubscribe(pubsub: redis.client.PubSub | ClusterPubSub, *channels: str) -> None:
    if isinstance(pubsub, ClusterPubSub):
        await pubsub.sunsubscribe(*channels)
    else:
        await pubsub.unsubscribe(*channels)


async def listen(pubsub: redis.client.PubSub, what: str, on_message: Callable[[str], None],
                 on_lost: Callable[[], None], stopping: asyncio.Event) -> None:
    """Hand each message's data to `on_message` until `stopping` is set (see server/background.py).
    When the connection drops, redis-py reconnects and resubscribes on the next read; messages sent meanwhile are gone, so `on_lost` is
    called once it is back. A message `on_message` fails on is logged and skipped: one bad message
    must not stop everything else this process listens to.

    Each read waits for the next message without a timeout: a timeout arms and disarms a timer for
    every message, 40% of redis-py's cost of reading one, and the seat map's come thousands a second.
    So the loop ends on Background.stop's cancel (which a read without a timer does not swallow), and a
    broken connection fails the read as it would with one."""
    await _pump(partial(pubsub.get_message, ignore_subscribe_messages=True, timeout=None), "message",
                what, on_message, on_lost, stopping)


async def _pump(read: Callable[[], Awaitable[dict | None]], kind: str, what: str, on_message: Callable[[str], None],
                on_lost: Callable[[], None], stopping: asyncio.Event, *,
                recover: Callable[[], Awaitable[None]] | None = None,
                still_ours: Callable[[], bool] = lambda: True) -> None:
    """What `listen` says, reading messages of `kind` with `read` while `still_ours()`; after a lost
    connection, `recover` is awaited before reading again."""
    lost = False
    try:
        while not stopping.is_set() and still_ours():
            try:
                message = await read()
            except (RedisError, OSError) as exc:
                if not lost:
                    log.warning("%s: Redis subscription lost (%s); resubscribing", what, exc)
                lost = True
                await nap(stopping, RECONNECT_PAUSE_SECONDS)     # back off before reconnecting
                if recover is not None:
                    await recover()
                continue
            if lost:
                lost = False
                on_lost()
            if message is None or message.get("type") != kind:
                continue
            try:
                on_message(message["data"])
            except Exception:
                log.exception("%s: message %r could not be handled", what, message["data"][:200])
    finally:
        if lost and not stopping.is_set():   # moved to another node's connection (listen_sharded)
            on_lost()


async def listen_sharded(pubsub: ClusterPubSub, what: str, on_message: Callable[[str], None],
                         on_lost: Callable[[], None], stopping: asyncio.Event) -> None:
    """`listen` for sharded channels on a cluster. redis-py keeps one connection per node that owns
    subscribed channels, and moves a channel's subscription to its slot's new owner after a slot
    moved or a failover (once it refreshed its map of slots); each of those connections gets a
    reader here, so that a quiet node never delays another node's messages."""
    readers: dict[str, asyncio.Task] = {}
    try:
        while not stopping.is_set():
            for name in list(pubsub.node_pubsub_mapping):
                node = pubsub.cluster.get_node(node_name=name)
                if node is not None and (name not in readers or readers[name].done()):
                    readers[name] = asyncio.create_task(_read_node(pubsub, node, what, on_message, on_lost, stopping))
            for name in [n for n in readers if n not in pubsub.node_pubsub_mapping]:
                readers.pop(name).cancel()
            await nap(stopping, NODE_WATCH_SECONDS)
    finally:
        for task in readers.values():
            task.cancel()
        await asyncio.gather(*readers.values(), return_exceptions=True)


async def _read_node(pubsub: ClusterPubSub, node: ClusterNode, what: str, on_message: Callable[[str], None],
                     on_lost: Callable[[], None], stopping: asyncio.Event) -> None:
    """One node's subscriptions, until they moved elsewhere. A node that stopped answering (hung, cut
    off) does not drop the connection, it falls silent: so a quiet connection is probed with a PING,
    and one that does not even answer that is taken for lost. Then the map of slots is refreshed,
    which moves the subscriptions to the slots' new owners once the cluster has failed the node over;
    deltas sent meanwhile are gone, so `on_lost` is called when the round's channels moved."""
    heard = time.monotonic()

    async def read() -> dict | None:
        nonlocal heard
        message = await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=1.0, target_node=node)
        quiet = time.monotonic() - heard
        if message is not None:
            heard = time.monotonic()
        elif quiet > SILENT_NODE_SECONDS:
            heard = time.monotonic()                             # probe afresh after recovering
            raise RedisConnectionError(f"no answer from {node.name} for {quiet:.1f} s")
        elif quiet > PROBE_QUIET_SECONDS and (mine := pubsub.node_pubsub_mapping.get(node.name)) is not None:
            await mine.ping()                                    # its answer is a message too
        return message

    async def recover() -> None:
        mine = pubsub.node_pubsub_mapping.get(node.name)
        channels = list(mine.shard_channels) if mine is not None else []
        try:
            await pubsub.cluster.nodes_manager.initialize()     # learn the slots' owners now
            await pubsub.reinitialize_shard_subscriptions()
        except (RedisError, OSError) as exc:
            log.warning("%s: cluster not reachable yet (%s)", what, exc)
            return
        if any(pubsub.cluster.get_node_from_key(channel).name != node.name for channel in channels):
            log.warning("%s: subscriptions moved from %s to the new owners of their slots", what, node.name)
            on_lost()

    await _pump(read, "smessage", what, on_message, on_lost, stopping, recover=recover,
                still_ours=lambda: pubsub.node_pubsub_mapping.get(node.name) is not None)
