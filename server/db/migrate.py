"""Bring a database to the newest schema with Alembic."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from server.db.database import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    def _run(sync_connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)

    async with db.primary.begin() as conn:
        await conn.run_sync(_run)


async def upgrade_url(url: str) -> None:
    """`python -m server migrate`: the database at `url` to the newest schema, with a connection of its own."""
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.close()
