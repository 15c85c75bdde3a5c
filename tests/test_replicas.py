"""Primary and read replicas, against real MariaDB replication: the second MariaDB server that
scripts/backends.py starts replicates the first. Catalogue reads go to the replica; writes and
read-your-own-write paths to the primary; a replica that lags or stops is skipped, and used again
once it is back in step."""
from __future__ import annotations

import asyncio
import socket
import uuid
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from server.app import create_app
from server.db.database import Database
from server.db.tables import replica_heartbeat
from server.wiring import DATABASE
from tests.support.api import PASSWORD, ApiClient, eventually
from tests.support.backends import backend_url, settings_for
from tests.support.factories import make_performer

MARKER_ID = 2          # a heartbeat row of the test's own: written on the primary, awaited on the replica


@pytest.fixture
def replica_url(empty_mysql_url) -> str:
    """The replica's copy of the primary's test database."""
    replica = make_url(backend_url("MYSQL_REPLICA_URL"))
    return replica.set(database=make_url(empty_mysql_url).database).render_as_string(hide_password=False)


@asynccontextmanager
async def connected(url: str):
    db = Database(url)
    try:
        yield db
    finally:
        await db.close()


async def on_server(url: str, statement: str) -> None:
    """An administrative statement on the replica server (STOP SLAVE, SHUTDOWN...)."""
    async with connected(url) as db, db.primary.connect() as conn:
        await conn.execute(sa.text(statement))


async def caught_up(primary_url: str, replica_url: str) -> None:
    """Wait until the replica has applied everything the primary had committed when this was called."""
    token = uuid.uuid4().int % 2**62
    async with connected(primary_url) as primary, primary.begin() as conn:
        await conn.execute(replica_heartbeat.delete().where(replica_heartbeat.c.id == MARKER_ID))
        await conn.execute(replica_heartbeat.insert().values(id=MARKER_ID, beat_ms=token))
    async with connected(replica_url) as replica:
        async def arrived():
            try:
                async with replica.primary.connect() as conn:
                    return (await conn.execute(sa.select(replica_heartbeat.c.beat_ms)
                                               .where(replica_heartbeat.c.id == MARKER_ID))).scalar() == token
            except sa.exc.DBAPIError:
                return False               # (still starting, or the table is yet to be created there)
        await eventually(arrived, timeout=60, every=0.1)


async def app_client(aiohttp_client, tmp_path, primary: str, replica: str, **settings) -> ApiClient:
    settings = {"replica_urls": replica, "replica_check_seconds": 0.2, "jobs_scheduled": False, **settings}
    app = create_app(settings_for(tmp_path / uuid.uuid4().hex, primary, **settings))
    return ApiClient(await aiohttp_client(app))


def replica_state(client: ApiClient) -> dict:
    [state] = [r.state() for r in client.http.app[DATABASE].replicas.members]
    return state


async def reads_come_from_the_replica(client: ApiClient, admin: str, primary: str, replica: str) -> None:
    """Proof that a catalogue read was answered by the replica: with its replication paused, a
    performer just written to the primary is not found; once it resumes, it is."""
    await on_server(replica, "STOP SLAVE SQL_THREAD")
    try:
        performer = await make_performer(client, admin, name="Written while the replica waits")
        assert (await client.get(f"/api/performers/{performer['id']}")).status == 404
    finally:
        await on_server(replica, "START SLAVE SQL_THREAD")
    await caught_up(primary, replica)
    assert (await client.get(f"/api/performers/{performer['id']}")).status == 200


async def test_reads_go_to_the_replica_until_it_lags_too_far(aiohttp_client, tmp_path, empty_mysql_url, replica_url):
    await caught_up(empty_mysql_url, replica_url)
    tolerant = await app_client(aiohttp_client, tmp_path, empty_mysql_url, replica_url, replica_max_lag_seconds=3600)
    strict = await app_client(aiohttp_client, tmp_path, empty_mysql_url, replica_url, replica_max_lag_seconds=1)
    admin = await tolerant.token(admin=True)
    assert replica_state(tolerant)["usable"] and replica_state(strict)["usable"]
    await reads_come_from_the_replica(tolerant, admin, empty_mysql_url, replica_url)

    await on_server(replica_url, "STOP SLAVE SQL_THREAD")             # the replica falls behind
    try:
        performer = await make_performer(tolerant, admin, name="Lee Seo-yeon")
        assert (await tolerant.get(f"/api/performers/{performer['id']}")).status == 404     # a stale replica's answer
        # What must see one's own writes goes to the primary whatever the replicas say.
        newcomer = await tolerant.signup()
        login = await tolerant.post("/api/auth/login", json={"email": newcomer["email"], "password": PASSWORD})
        assert login.status == 200
        assert (await tolerant.get("/api/users/me", token=login.json["access_token"])).json["id"] == newcomer["id"]

        async def answered_by_the_primary():
            return (await strict.get(f"/api/performers/{performer['id']}")).status == 200
        await eventually(answered_by_the_primary, timeout=15, every=0.1)     # once it lags more than 1 s
        state = replica_state(strict)
        assert not state["usable"] and "behind the primary" in state["problem"] and state["lag_seconds"] > 1
    finally:
        await on_server(replica_url, "START SLAVE SQL_THREAD")

    await caught_up(empty_mysql_url, replica_url)
    assert (await tolerant.get(f"/api/performers/{performer['id']}")).status == 200
    await eventually(lambda: _usable(strict), timeout=15, every=0.1)
    await reads_come_from_the_replica(strict, admin, empty_mysql_url, replica_url)


async def _usable(client: ApiClient) -> bool:
    return replica_state(client)["usable"]


async def test_a_stopped_replica_is_skipped_and_used_again_once_back(aiohttp_client, tmp_path, empty_mysql_url,
                                                                   replica_url):
    hold = Path(backend_url("MYSQL_REPLICA_HOLD_FILE"))   # while it exists, the replica is not restarted
    await caught_up(empty_mysql_url, replica_url)
    client = await app_client(aiohttp_client, tmp_path, empty_mysql_url, replica_url)
    # An instance whose only check was at start-up: it learns that the replica is gone from a read.
    unaware = await app_client(aiohttp_client, tmp_path, empty_mysql_url, replica_url, replica_check_seconds=3600)
    admin = await client.token(admin=True)
    performer = await make_performer(client, admin)
    await reads_come_from_the_replica(client, admin, empty_mysql_url, replica_url)
    replica = make_url(replica_url)

    hold.touch()
    try:
        with suppress(sa.exc.OperationalError):       # it may hang up on us on its way down, or answer first
            await on_server(replica_url, "SHUTDOWN")
        await eventually(lambda: _refused(replica.host, replica.port), timeout=30, every=0.1)
        assert replica_state(unaware)["usable"]
        assert (await unaware.get(f"/api/performers/{performer['id']}")).json == performer    # from the primary
        assert replica_state(unaware)["problem"].startswith("connection failed")
        await eventually(lambda: _unusable(client), timeout=15, every=0.1)
        for _ in range(10):
            assert (await client.get(f"/api/performers/{performer['id']}")).status == 200
            assert (await client.get("/api/performances")).status == 200
        written = await make_performer(client, admin, name="Written while the replica is down")
        assert (await client.get(f"/api/performers/{written['id']}")).json == written
    finally:
        hold.unlink(missing_ok=True)                                 # the replica's loop starts it again
    await caught_up(empty_mysql_url, replica_url)
    await eventually(lambda: _usable(client), timeout=30, every=0.1)
    await reads_come_from_the_replica(client, admin, empty_mysql_url, replica_url)


async def _unusable(client: ApiClient) -> bool:
    return not replica_state(client)["usable"]


async def _refused(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    return False


async def test_a_replica_that_cannot_be_reached_leaves_reads_to_the_primary(empty_mysql_url):
    unreachable = make_url(empty_mysql_url).set(host="127.0.0.1", port=_closed_port()).render_as_string(
        hide_password=False)
    db = Database(empty_mysql_url, [unreachable], max_lag_seconds=5, check_seconds=0.2)
    try:
        await db.watch_replicas()
        [state] = [r.state() for r in db.replicas.members]
        assert not state["usable"] and state["problem"].startswith("not answering")
        async with db.read() as conn:
            assert (await conn.execute(sa.text("SELECT @@port"))).scalar() == make_url(empty_mysql_url).port
    finally:
        await db.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
