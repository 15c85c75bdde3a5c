"""How the server's Redis clients pack commands (server/redis_client.py, HiredisPacking): in one call
of hiredis, to the same bytes redis-py's own packer makes, on every connection of a single server's
client and of a cluster's."""
from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from server.redis_client import HiredisPacking, connect, is_cluster, open_redis, packed_by_hiredis
from tests.support.backends import empty_redis

COMMANDS = [
    ("SET", "좌석:1", "예매 é ✓"),
    (b"GET", b"\x00\xffbinary"),
    ("EVALSHA", "a" * 40, 2, b"tb:{r:1}:seats", "tb:{r:1}:requests:7", 1, 7, 600_000, "", -5, 2**70, 1.5, 0.1,
     1e20, float("inf")),
    ("CLIENT SETNAME", "ticketblue"),                 # a name redis-py splits into two words
    ("SET", "k", bytearray(b"v")),                     # what hiredis does not take: redis-py packs it
    ("SET", "k", memoryview(b"a large value")),
]


def test_commands_are_packed_to_the_bytes_redis_py_packs_them_to():
    ours, redis_pys = packed_by_hiredis(Connection)(), Connection()
    for command in COMMANDS:
        assert b"".join(ours.pack_command(*command)) == b"".join(redis_pys.pack_command(*command)), command
    assert b"".join(ours.pack_commands(COMMANDS)) == b"".join(redis_pys.pack_commands(COMMANDS))


@pytest.mark.parametrize("value", [True, None, object()])
def test_what_redis_py_refuses_is_refused_the_same_way(value):
    with pytest.raises(DataError):
        packed_by_hiredis(Connection)().pack_command("SET", "k", value)


def test_each_kind_of_connection_keeps_its_own_class_under_the_packing():
    for kind in (Connection, SSLConnection, UnixDomainSocketConnection):
        packed = packed_by_hiredis(kind)
        assert issubclass(packed, HiredisPacking) and issubclass(packed, kind)
        assert packed_by_hiredis(kind) is packed                  # one class per kind, made once
    assert issubclass(connect("rediss://127.0.0.1:1/0").connection_pool.connection_class, SSLConnection)


@pytest.mark.parametrize("kind", ["redis", "cluster"])
async def test_every_connection_a_client_makes_packs_with_hiredis_and_redis_understands_it(kind):
    client = await open_redis(await empty_redis(kind))
    try:
        await client.set("{t}좌석", "예매 é")
        script = client.register_script("return {KEYS[1], ARGV[1], ARGV[2]}")
        assert await client.get("{t}좌석") == "예매 é"
        assert await script(keys=["{t}좌석"], args=[600_000, 1.5]) == ["{t}좌석", "600000", "1.5"]
        if is_cluster(client):
            nodes = client.get_nodes()            # (every node it learned of, masters and replicas)
            assert len(nodes) == 6 and all(issubclass(node.connection_class, HiredisPacking) for node in nodes)
        else:
            connection = await client.connection_pool.get_connection()
            try:
                assert isinstance(connection, HiredisPacking)
            finally:
                await client.connection_pool.release(connection)
            await client.execute_command("CLIENT SETNAME", "ticketblue-test")
            assert await client.client_getname() == "ticketblue-test"
    finally:
        await client.aclose()
