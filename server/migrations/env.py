"""Alembic environment. Called by server.db.migrate with an open connection, or by the alembic
command line (for `alembic revision --autogenerate`), which connects using the settings."""
import asyncio

from alembic import context

from server.db.tables import metadata


def run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from server.db.database import make_engine
    from server.settings import load
    engine = make_engine(load().resolved_database_url)
    async with engine.connect() as conn:
        await conn.run_sync(run_with)
        await conn.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_from_settings())
