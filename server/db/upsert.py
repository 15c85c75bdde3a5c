"""Insert a row unless its key exists, in each database's dialect (MariaDB's ON DUPLICATE KEY UPDATE, SQLite's
ON CONFLICT DO NOTHING). On MariaDB the statement also locks the row until the transaction ends, which
is what the outbox uses it for (a user's event stream)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_ignore(conn: AsyncConnection, table: sa.Table, **values) -> None:
    key, value = next(iter(values.items()))
    if conn.dialect.name == "mysql":
        statement = mysql_insert(table).values(**values).on_duplicate_key_update({key: value})
    else:
        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    await conn.execute(statement)


async def insert_ignore_from_select(conn: AsyncConnection, table: sa.Table, columns: list[str],
                                    select: sa.Select) -> None:
    if conn.dialect.name == "mysql":
        statement = mysql_insert(table).from_select(columns, select)
        statement = statement.on_duplicate_key_update({c: statement.inserted[c] for c in columns[:1]})
    else:                          # (WHERE: SQLite would read "SELECT ... ON CONFLICT" as a join's ON)
        statement = sqlite_insert(table).from_select(columns, select.where(sa.true())).on_conflict_do_nothing()
    await conn.execute(statement)
