"""For migrations that recreate tables on SQLite (the only way it changes a constraint)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from alembic import op


@contextmanager
def foreign_keys_off() -> Iterator[None]:
    """Recreating a table drops the old one, which with foreign keys on would delete the rows that
    refer to it (ON DELETE CASCADE) or be refused. SQLite ignores the pragma inside a transaction, so
    the migration's transaction is committed first, and a new one opened for what follows; the
    foreign keys are checked before it commits."""
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


@contextmanager
def recreating() -> Iterator[None]:
    """Around batch_alter_table calls: on SQLite with foreign keys off (above); elsewhere as is."""
    if op.get_bind().dialect.name == "sqlite":
        with foreign_keys_off():
            yield
    else:
        yield
