"""The migrations build exactly the schema the code declares, on SQLite and on MariaDB."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.db.database import Database
from server.db.tables import metadata


async def test_migrations_match_the_tables(database_url):
    db = Database(database_url)
    try:
        async with db.primary.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata))
    finally:
        await db.close()
    assert diff == []


async def test_constraints_that_make_bad_states_impossible_exist(database_url):
    db = Database(database_url)
    try:
        async with db.primary.connect() as conn:
            def uniques(sync, table):
                from sqlalchemy import inspect
                inspector = inspect(sync)
                found = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
                return found | {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]}
            assert ("round_id", "seat_id", "live") in await conn.run_sync(uniques, "reservation_seats")
            assert ("coupon_id", "user_id") in await conn.run_sync(uniques, "user_coupons")
            assert ("email",) in await conn.run_sync(uniques, "users")
    finally:
        await db.close()
