"""Full reindex on the real Elasticsearch (SQLite and MariaDB): built from the database with the bulk
API into a new index, the alias moved atomically, search answering all along, changes made
meanwhile kept, a failed rebuild leaving the old index in place; and `python -m server reindex`."""
from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone

import pytest

from server.db.tables import performers
from server.db.types import utcnow
from server.search.backend import KINDS
from server.wiring import DATABASE, SEARCH
from tests.support.instances import ROOT
from tests.support.search import elasticsearch_settings, ids, search, synced


@pytest.fixture
def settings_overrides(request) -> dict:
    return elasticsearch_settings(request)


async def index_names(client) -> dict[str, list[str]]:
    indices = client.http.app[SEARCH].backend.indices
    return {kind: await indices.current(kind) for kind in KINDS}


async def add_quietly(client, name: str) -> None:
    """A row the index never heard of (no outbox message): only a rebuild can find it."""
    async with client.http.app[DATABASE].begin() as conn:
        await conn.execute(performers.insert().values(name=name, created_at=utcnow()))


async def test_a_rebuild_reads_the_database_and_moves_the_aliases(client, cat, settings):
    await add_quietly(client, "비밀의 배우")
    assert (await search(client, "비밀"))["performers"] == []
    before = await index_names(client)
    assert before == {kind: [f"{settings.elasticsearch_index_prefix}-{kind}-000001"] for kind in KINDS}
    counts = await client.http.app[SEARCH].reindex()
    assert counts == {"performances": 5, "halls": 2, "performers": 4, "reservations": 0}
    assert await index_names(client) == {kind: [f"{settings.elasticsearch_index_prefix}-{kind}-000002"]
                                         for kind in KINDS}
    client_es = client.http.app[SEARCH].backend.client
    assert not await client_es.indices.exists(index=before["performances"][0])     # the old one is gone
    assert [p["name"] for p in (await search(client, "비밀"))["performers"]] == ["비밀의 배우"]
    found = await search(client, "phantom")
    assert ids(found, "performances") == [cat.performances["orchestra"], cat.performances["phantom"]]


async def test_search_answers_during_a_rebuild_and_changes_made_meanwhile_stay(client, cat):
    phantom = cat.performances["phantom"]
    answers: list[int] = []

    async def progress(kind: str, done: int) -> None:
        # Between chunks: search still answers from the old index.
        answers.append(len((await search(client, "phantom"))["performances"]))
        if kind == "performances" and done == 1:
            # The Phantom is already in the new index with its old title; rename it now. The live
            # sync updates the old index, which is about to be dropped.
            reply = await client.patch(f"/api/performances/{phantom}", token=cat.admin, json={"title": "Ghost Night"})
            assert reply.status == 200
            await synced(client)
    await client.http.app[SEARCH].reindex(chunk=1, progress=progress)
    assert answers[0] == 2 and set(answers) <= {1, 2} and len(answers) == 10
    assert ids(await search(client, "ghost"), "performances") == [phantom]
    assert ids(await search(client, "phantom"), "performances") == [cat.performances["orchestra"]]


async def test_a_failed_rebuild_leaves_the_old_index_in_use(client, cat, settings):
    before = await index_names(client)

    async def progress(kind: str, done: int) -> None:
        if kind == "performances" and done == 2:
            raise RuntimeError("the database went away")
    with pytest.raises(RuntimeError):
        await client.http.app[SEARCH].reindex(progress=progress, chunk=1)
    assert await index_names(client) == before
    assert not await client.http.app[SEARCH].backend.client.indices.exists(
        index=f"{settings.elasticsearch_index_prefix}-performances-000002")
    assert len((await search(client, "phantom"))["performances"]) == 2


async def test_a_rebuild_indexes_reservations(client, cat):
    user = await client.token()
    hall_seats = [s["id"] for s in (await client.get(f"/api/halls/{cat.halls['sejong']}")).json["seats"]]
    starts_at = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0).isoformat()
    round_ = await client.post(f"/api/performances/{cat.performances['phantom']}/rounds", token=cat.admin,
                               json={"starts_at": starts_at})
    assert (await client.post(f"/api/rounds/{round_.json['id']}/holds", token=user,
                              json={"seat_ids": hall_seats[:1]})).status == 200
    made = await client.post("/api/reservations", token=user, json={"round_id": round_.json["id"],
                                                                     "seat_ids": hall_seats[:1]})
    assert made.status == 201
    assert (await client.http.app[SEARCH].reindex(("reservations",))) == {"reservations": 1}
    reply = await client.get("/api/admin/reservations/search", token=cat.admin,
                             params={"performance_id": cat.performances["phantom"]})
    assert [hit["id"] for hit in reply.json["items"]] == [made.json["id"]]


async def run_command(env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "reindex", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("TICKETBLUE_")}, **env})
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_the_reindex_command(client, cat, settings, tmp_path):
    await add_quietly(client, "명령어 배우")
    env = {"TICKETBLUE_DATABASE_URL": settings.database_url, "TICKETBLUE_DATA_DIR": str(tmp_path),
           "TICKETBLUE_JWT_SECRET": settings.jwt_secret, "TICKETBLUE_ELASTICSEARCH_URL": settings.elasticsearch_url,
           "TICKETBLUE_ELASTICSEARCH_INDEX_PREFIX": settings.elasticsearch_index_prefix}
    code, out, err = await run_command(env)
    assert code == 0, err
    assert out.split() == ["performances=5", "halls=2", "performers=4", "reservations=0"]
    assert ids(await search(client, "명령어"), "performers") != []
    code, out, err = await run_command({**env, "TICKETBLUE_ELASTICSEARCH_URL": ""})
    assert code == 2 and "TICKETBLUE_ELASTICSEARCH_URL" in err
