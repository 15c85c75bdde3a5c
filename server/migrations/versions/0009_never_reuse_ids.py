"""ids of deleted rows are never handed out again

SQLite gives a new row the highest id in the table plus one, so deleting the newest round made the
next round take its id — and with it the seat engine's holds and blocks and the cached layout of the
deleted one. AUTOINCREMENT tables never go back (server/db/tables.py, NEVER_REUSE_IDS). SQLite cannot
add it to a table: each is recreated with its rows. MariaDB's InnoDB never reuses ids: nothing to do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:00:00
"""
from alembic import op

from server.db.sqlite_recreate import foreign_keys_off


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ('halls', 'seats', 'performers', 'performances', 'rounds', 'outbox')


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    with foreign_keys_off():
        for table in TABLES:
            with op.batch_alter_table(table, recreate='always',
                                      table_kwargs={'sqlite_autoincrement': autoincrement}):
                pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
