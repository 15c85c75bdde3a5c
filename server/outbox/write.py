"""Writing to the outbox: the messages a change causes, in the same transaction as the change."""
from __future__ import annotations

from typing import Any, Iterable

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import request_ids
from server.db.tables import event_streams, outbox
from server.db.types import utcnow
from server.db.upsert import insert_ignore, insert_ignore_from_select
from server.outbox.routes import CHANNELS, SSE, TO_A_USER, routes_of

# In a pooled connection's info: channels to wake once its transaction is over (dispatch.Dispatcher).
WAKE_KEY = "outbox.wake"


async def enqueue(conn: AsyncConnection, *, event: str, user_id: int | None, payload: Any,
                  channels: Iterable[str] | None = None) -> dict[str, int]:
    """Write one outbox row per channel of `event` (ROUTES, or `channels`) in the caller's open
    transaction; returns {channel: row id} (the SSE row's id is the event's SSE `id:`).

    `payload` is a dict or a msgspec Struct (see server/notify/messages.py for what mail and Slack
    read). Call it last in the transaction: with an SSE row it locks the user's event stream until
    the commit, so two transactions for one user cannot commit their events out of id order."""
    routes = routes_of(event)
    targets = routes if channels is None else tuple(channels)
    if unknown := set(targets) - set(CHANNELS):
        raise ValueError(f"unknown outbox channels {sorted(unknown)}")
    if user_id is None and TO_A_USER & set(targets):
        raise ValueError(f"{event}: channels {sorted(TO_A_USER & set(targets))} need a user_id")
    if SSE in targets:
        await _lock_stream(conn, user_id)
    now, body = utcnow(), msgspec.to_builtins(payload)
    ids = {}
    for channel in targets:
        result = await conn.execute(outbox.insert().values(
            channel=channel, event=event, user_id=user_id, payload=body, status="pending",
            attempts=0, next_attempt_at=now, created_at=now, request_id=request_ids.current()))
        ids[channel] = result.inserted_primary_key[0]
    # Read by the pool's check-in hook (Dispatcher._after_commit): wake this instance's dispatcher as
    # soon as the transaction is over instead of at its next poll.
    conn.info.setdefault(WAKE_KEY, set()).update(targets)
    return ids


async def enqueue_select(conn: AsyncConnection, *, event: str, source: sa.Select) -> int:
    """`enqueue` for batch jobs: `event` to every user of `source` — a SELECT of (user_id, payload),
    the payload JSON built by the database — in the caller's open transaction, with one INSERT ...
    SELECT per channel however many users. Returns the rows written. Call it last in the
    transaction, like `enqueue`; the users' event streams are locked in user_id order, so two batch
    transactions cannot deadlock over them."""
    targets = routes_of(event)
    user_id, payload = source.selected_columns
    # The source's own FROM, WHERE and hints, other columns: no derived table for the planner to
    # merge (and lose a join-order hint with).
    if SSE in targets:
        user_ids = source.with_only_columns(user_id).group_by(user_id).order_by(user_id)
        await insert_ignore_from_select(conn, event_streams, ["user_id"], user_ids)
    now = sa.literal(utcnow(), outbox.c.created_at.type)
    request_id = sa.literal(request_ids.current(), outbox.c.request_id.type)    # a job run from the admin API has one
    written = 0
    for channel in targets:
        result = await conn.execute(outbox.insert().from_select(
            ["channel", "event", "user_id", "payload", "status", "attempts", "next_attempt_at", "created_at",
             "request_id"],
            source.with_only_columns(sa.literal(channel), sa.literal(event), user_id, payload, sa.literal("pending"),
                                     sa.literal(0), now, now, request_id)))
        written += result.rowcount
    if written:
        conn.info.setdefault(WAKE_KEY, set()).update(targets)
    return written


async def _lock_stream(conn: AsyncConnection, user_id: int) -> None:
    """Lock the user's event_streams row (creating it if needed) until the caller commits.
    Not the users row: the caller's inserts that reference the user hold shared locks on it, and
    two such transactions upgrading to exclusive would deadlock each other."""
    await insert_ignore(conn, event_streams, user_id=user_id)     # (MariaDB: locks it; SQLite serialises anyway)
