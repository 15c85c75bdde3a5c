"""ids of deleted rows are never handed out again

SQLite gives a new row the highest id in the table plus one, so deleting the newest round made the
next round take its id — and with it the seat engine's holds and blocks and the cached layout of the
deleted one. AUTOINCREMENT tables never go back (server/db/tables.py, NEVER_REUSE_IDS). SQLite cannot
add it to a table: each is recreated with its rows. MariaDB's InnoDB never reuses ids: nothing to do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:00:00
"""
from contextlib import contextmanager

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ('halls', 'seats', 'performers', 'performances', 'rounds', 'outbox')


@contextmanager
def _foreign_keys_off():
    """Recreating a table drops the old one, which with foreign keys on would delete the rows that
    refer to it (ON DELETE CASCADE) or be refused. SQLite ignores the pragma inside a transaction, so
    the migration's transaction is committed first, and a new one opened for what follows."""
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"foreign keys broken by recreating tables: {broken[:10]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")         # for Alembic's version update and commit


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    with _foreign_keys_off():
        for table in TABLES:
            with op.batch_alter_table(table, recreate='always',
                                      table_kwargs={'sqlite_autoincrement': autoincrement}):
                pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
