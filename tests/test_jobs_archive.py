"""old-performances: an old performance loses its poster (the stored object too), cast and unbooked
rounds, keeps what its bookings point at, and leaves a record; on the media folder and on S3."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.db.tables import performance_archive, performances, posters, round_blocks
from server.wiring import DATABASE
from tests.support.backends import execute
from tests.support.factories import make_performance, old_show
from tests.support.jobs import ONE_ROW_CHUNKS, run
from tests.support.posters import media_files

NOTHING = {"archived": 0, "cast_removed": 0, "rounds_removed": 0, "rounds_kept": 0, "posters_deleted": 0,
           "poster_deletes_failed": 0}


@pytest.fixture
def settings_overrides() -> dict:
    return {"jobs_scheduled": False, **ONE_ROW_CHUNKS}


async def archived(app, performance_id: int):
    async with app[DATABASE].read_own_writes() as conn:
        return (await conn.execute(sa.select(performance_archive)
                                   .where(performance_archive.c.performance_id == performance_id))).first()


async def test_an_old_performance_is_archived_and_its_bookings_still_show(client, app, show, settings):
    old = await old_show(client, app, show)
    current = await make_performance(client, show["admin"], starts_on=str(date.today()),
                                     ends_on=str(date.today() + timedelta(days=10)))
    assert len(media_files(settings)) == 1

    done = await run(app, "old-performances")
    assert done.status == "succeeded"
    assert done.counts == {**NOTHING, "archived": 1, "cast_removed": 1, "rounds_removed": 1, "rounds_kept": 1,
                           "posters_deleted": 1}
    assert media_files(settings) == []                                # the stored object is gone
    shown = (await client.get(f"/api/performances/{show['performance_id']}")).json
    assert shown["poster_url"] is None and shown["performers"] == [] and shown["title"] == "Test Show"
    left = (await client.get(f"/api/performances/{show['performance_id']}/rounds")).json["items"]
    assert [r["id"] for r in left] == [show["round_id"]]              # the booked round stays
    booking = await client.get(f"/api/reservations/{old['booking']['id']}", token=old["owner"])
    assert booking.status == 200 and booking.json["status"] == "confirmed"
    assert booking.json["round_id"] == show["round_id"] and booking.json["seat_ids"] == old["booking"]["seat_ids"]
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(round_blocks)
                                   .where(round_blocks.c.round_id == old["unbooked_round"]))).scalar_one() == 0
        assert (await conn.execute(sa.select(performances.c.id).where(performances.c.archived_at.is_not(None)))
                ).scalars().all() == [show["performance_id"]]

    record = await archived(app, show["performance_id"])
    assert record.poster_key is None                                  # deleted, so nothing left to do
    assert record.record["title"] == "Test Show" and record.record["prices"] == {"R": 120000, "S": 90000}
    assert record.record["cast"] == [{"performer_id": old["performer"]["id"], "name": old["performer"]["name"]}]
    assert record.record["poster"]["key"].startswith(f"posters/{show['performance_id']}/")
    assert [(r["id"], r["bookings"]) for r in record.record["rounds"]] == [
        (show["round_id"], 1), (old["unbooked_round"], 0)]
    assert await archived(app, current["id"]) is None

    assert (await run(app, "old-performances")).counts == NOTHING


async def test_a_poster_the_store_will_not_delete_is_tried_again_by_the_next_run(client, app, show, settings):
    await old_show(client, app, show)
    [stored] = media_files(settings)
    # The poster row names an object the store refuses to touch (a key outside the media folder).
    await execute(app, posters.update().values(storage_key="../outside.png"))

    first = await run(app, "old-performances")
    assert first.counts["archived"] == 1 and first.counts["posters_deleted"] == 0
    assert first.counts["poster_deletes_failed"] == 1
    assert (await archived(app, show["performance_id"])).poster_key == "../outside.png"     # kept for a retry
    second = await run(app, "old-performances")
    assert second.counts == {**NOTHING, "poster_deletes_failed": 1}

    key = str(stored.relative_to(settings.resolved_media_dir))        # (say the key is put right)
    await execute(app, performance_archive.update().values(poster_key=key))
    third = await run(app, "old-performances")
    assert third.counts == {**NOTHING, "posters_deleted": 1}
    assert media_files(settings) == [] and (await archived(app, show["performance_id"])).poster_key is None


class TestOnS3:
    @pytest.fixture
    def settings_overrides(self, bucket):
        return {"jobs_scheduled": False, "s3_bucket": bucket.name, "s3_endpoint_url": bucket.endpoint}

    async def test_the_poster_object_is_deleted_from_the_bucket(self, client, app, show, bucket):
        await old_show(client, app, show)
        assert len(await bucket.keys()) == 1
        done = await run(app, "old-performances")
        assert done.counts["archived"] == 1 and done.counts["posters_deleted"] == 1
        assert await bucket.keys() == []
        assert (await archived(app, show["performance_id"])).poster_key is None
