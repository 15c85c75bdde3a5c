"""The schema. Constraints here are what make bad states impossible, whatever the code does:
unique emails, one live reservation per (round, seat), one issued coupon per (coupon, user),
foreign keys everywhere, and checks on money and counters."""
from __future__ import annotations

import sqlalchemy as sa

from server.db.types import UtcDateTime

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


# Tables whose rows are deleted never hand a deleted row's id out again: their ids live on outside the
# database (seat engine keys, layout and search caches, search documents, SSE event ids), where a
# reused id would make them stand for another row. MariaDB's InnoDB never reuses ids (its counter has
# survived restarts since 10.2); SQLite does, unless the table is AUTOINCREMENT (migration 0009).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def _fk(name: str, target: str, *, nullable: bool = False, ondelete: str | None = None, **kw) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, **kw)


def _created() -> sa.Column:
    return sa.Column("created_at", UtcDateTime, nullable=False)


users = sa.Table(
    "users", metadata, _id(),
    # NULL once the account is deleted, so the address can sign up again (kept in deleted_email).
    sa.Column("email", sa.String(254), unique=True, nullable=True),
    sa.Column("deleted_email", sa.String(254)),
    sa.Column("password_hash", sa.String(255)),           # NULL for Kakao-only accounts
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("kakao_id", sa.String(64), unique=True),
    # Carried in every access token; a logout or a password change adds one, which ends every
    # token issued before (server/revocation.py).
    sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
    # What the server writes to the person in (mail, SSE messages): 'ko' or 'en'.
    sa.Column("language", sa.String(2), nullable=False, server_default="ko"),
    _created(),
    sa.Column("last_login_at", UtcDateTime),
    sa.Column("dormant_at", UtcDateTime),
    sa.Column("deleted_at", UtcDateTime),
    sa.CheckConstraint("role IN ('user', 'admin', 'staff')", name="role"),
    sa.CheckConstraint("status IN ('active', 'dormant', 'deleted')", name="status"),
    sa.CheckConstraint("language IN ('ko', 'en')", name="language"),
)

halls = sa.Table(
    "halls", metadata, _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(500), nullable=False),
    _created(),
    **NEVER_REUSE_IDS,
)

seats = sa.Table(
    "seats", metadata, _id(),
    _fk("hall_id", "halls.id", ondelete="CASCADE", index=True),
    sa.Column("section", sa.String(50), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("x", sa.Float, nullable=False),
    sa.Column("y", sa.Float, nullable=False),
    sa.Column("grade", sa.String(20), nullable=False),
    sa.UniqueConstraint("hall_id", "section", "row", "number"),
    **NEVER_REUSE_IDS,
)

performers = sa.Table(
    "performers", metadata, _id(),
    sa.Column("name", sa.String(200), nullable=False, index=True),
    sa.Column("birth_date", sa.Date),
    sa.Column("nationality", sa.String(60)),
    _created(),
    **NEVER_REUSE_IDS,
)

performances = sa.Table(
    "performances", metadata, _id(),
    sa.Column("title", sa.String(200), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("category", sa.String(20), nullable=False, index=True),
    _fk("hall_id", "halls.id", index=True),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    _created(),
    sa.Column("archived_at", UtcDateTime),
    sa.CheckConstraint("starts_on <= ends_on", name="dates"),
    sa.CheckConstraint("duration_minutes > 0", name="duration"),
    **NEVER_REUSE_IDS,
)

prices = sa.Table(
    "performance_prices", metadata,
    _fk("performance_id", "performances.id", ondelete="CASCADE", primary_key=True),
    sa.Column("grade", sa.String(20), primary_key=True),
    sa.Column("price", sa.Integer, nullable=False),
    sa.CheckConstraint("price >= 0", name="price"),
)

cast = sa.Table(
    "performance_performers", metadata,
    _fk("performance_id", "performances.id", ondelete="CASCADE", primary_key=True),
    _fk("performer_id", "performers.id", ondelete="CASCADE", primary_key=True),
)

posters = sa.Table(
    "posters", metadata,
    _fk("performance_id", "performances.id", ondelete="CASCADE", primary_key=True),
    sa.Column("storage_key", sa.String(300), nullable=False),
    sa.Column("content_type", sa.String(50), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("uploaded_at", UtcDateTime, nullable=False),
)

rounds = sa.Table(
    "rounds", metadata, _id(),
    _fk("performance_id", "performances.id", index=True),
    sa.Column("starts_at", UtcDateTime, nullable=False, index=True),
    _created(),
    # Set in the transaction that blocks or unblocks seats of the round: the seat-map repair compares
    # such rounds with the engine, in case the process died before telling the engine.
    sa.Column("blocks_changed_at", UtcDateTime, index=True),
    # NULL: on sale. Before it, holds are refused (the seat engine keeps it with the round's seats).
    sa.Column("sale_opens_at", UtcDateTime),
    # One more with each change of the sale opening or the waiting room (server/gates.py).
    sa.Column("gate_version", sa.Integer, nullable=False, server_default="0"),
    **NEVER_REUSE_IDS,
)

coupons = sa.Table(
    "coupons", metadata, _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("discount_type", sa.String(10), nullable=False),
    sa.Column("discount", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    # Incremented only by "UPDATE ... WHERE issued_count < quantity": first come, first served.
    sa.Column("issued_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    _created(),
    sa.CheckConstraint("discount_type IN ('amount', 'percent')", name="discount_type"),
    sa.CheckConstraint("discount > 0", name="discount"),
    sa.CheckConstraint("issued_count >= 0 AND issued_count <= quantity", name="issued_count"),
)

reservations = sa.Table(
    "reservations", metadata, _id(),
    _fk("user_id", "users.id", index=True),
    _fk("round_id", "rounds.id", index=True),
    sa.Column("status", sa.String(10), nullable=False, index=True),
    sa.Column("amount", sa.Integer, nullable=False),       # to pay, after discount
    sa.Column("discount", sa.Integer, nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False, unique=True),
    _fk("user_coupon_id", "user_coupons.id", nullable=True, unique=True),  # a coupon is used at most once
    sa.Column("expires_at", UtcDateTime, nullable=False, index=True),
    _created(),
    sa.Column("updated_at", UtcDateTime, nullable=False, index=True),   # the seat-map repair's window
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'canceled', 'expired', 'attended')", name="status"),
    sa.CheckConstraint("amount >= 0 AND discount >= 0", name="money"),
)

reservation_seats = sa.Table(
    "reservation_seats", metadata,
    _fk("reservation_id", "reservations.id", ondelete="CASCADE", primary_key=True),
    _fk("seat_id", "seats.id", primary_key=True),
    _fk("round_id", "rounds.id"),
    sa.Column("price", sa.Integer, nullable=False),
    # 1 while the reservation is live (pending/confirmed/attended), NULL after. NULLs never
    # collide in a unique index, so this is "unique (round, seat) among live reservations" on
    # both SQLite and MariaDB (which has no partial indexes).
    sa.Column("live", sa.Boolean),
    sa.UniqueConstraint("round_id", "seat_id", "live", name="uq_reservation_seats_live_seat"),
    sa.CheckConstraint("live = 1 OR live IS NULL", name="live"),
)

payments = sa.Table(
    "payments", metadata, _id(),
    _fk("reservation_id", "reservations.id", index=True),
    sa.Column("payment_key", sa.String(200), nullable=False, unique=True),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("method", sa.String(50)),
    sa.Column("confirm_idempotency_key", sa.String(64), nullable=False),
    sa.Column("cancel_idempotency_key", sa.String(64)),
    sa.Column("approved_at", UtcDateTime),
    sa.Column("canceled_at", UtcDateTime),
    _created(),
    sa.CheckConstraint("status IN ('confirming', 'approved', 'canceling', 'canceled', 'failed')", name="status"),
)

user_coupons = sa.Table(
    "user_coupons", metadata, _id(),
    _fk("coupon_id", "coupons.id"),
    _fk("user_id", "users.id", index=True),
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
    sa.UniqueConstraint("coupon_id", "user_id"),
)

reviews = sa.Table(
    "reviews", metadata, _id(),
    _fk("performance_id", "performances.id", index=True),
    _fk("reservation_id", "reservations.id", unique=True),   # once per reservation
    _fk("user_id", "users.id"),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    _created(),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
)

# Messages caused by a state change, written in the same transaction as the change and
# delivered afterwards by a dispatcher (one row per channel: sse, mail, slack, search).
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("event", sa.String(50), nullable=False),
    _fk("user_id", "users.id", nullable=True),           # NULL for messages to no one user (Slack)
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    _created(),
    sa.Column("delivered_at", UtcDateTime),
    sa.Column("claimed_by", sa.String(32)),       # the dispatcher working on it (until next_attempt_at)
    sa.Column("request_id", sa.String(64)),       # of the request that enqueued it: its deliveries log it
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    sa.Index("ix_outbox_stream", "user_id", "channel", "id"),      # SSE replay: a user's events after an id
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    **NEVER_REUSE_IDS,
)

# One row per user with SSE events. Enqueueing an event locks the user's row, so that the events of
# one user commit in the order of their ids and a stream reading "ids after N" never skips one.
event_streams = sa.Table(
    "event_streams", metadata,
    _fk("user_id", "users.id", ondelete="CASCADE", primary_key=True),
)

# Seats an admin took off sale for one round. Kept here, not only in the seat engine, so a
# lost Redis rebuilds them like sold seats.
round_blocks = sa.Table(
    "round_blocks", metadata,
    _fk("round_id", "rounds.id", ondelete="CASCADE", primary_key=True),
    _fk("seat_id", "seats.id", primary_key=True),
    _created(),
)

# One per seat of a paid reservation (server/tickets.py): what the door checks. The code is random
# and signed; it is kept whole, so a ticket can be shown again.
tickets = sa.Table(
    "tickets", metadata, _id(),
    _fk("reservation_id", "reservations.id", index=True),
    _fk("seat_id", "seats.id"),
    sa.Column("code", sa.String(80), nullable=False, unique=True),
    _created(),
    sa.Column("checked_in_at", UtcDateTime),
    _fk("checked_in_by", "users.id", nullable=True),
    sa.UniqueConstraint("reservation_id", "seat_id"),
)

# Seats (or a grade) of a round a user wants to hear of when they are available again (server/seat_watch.py).
seat_watches = sa.Table(
    "seat_watches", metadata, _id(),
    _fk("user_id", "users.id", ondelete="CASCADE", index=True),
    _fk("round_id", "rounds.id", ondelete="CASCADE", index=True),
    _fk("seat_id", "seats.id", nullable=True),
    sa.Column("grade", sa.String(20)),
    _created(),
    sa.CheckConstraint("(seat_id IS NULL) <> (grade IS NULL)", name="seat_or_grade"),
)

# A round's waiting room (server/waiting_room.py), as its admin set it. The seat engine keeps a copy
# with the round's seats, so that its hold can check admission atomically; this is the copy a lost
# Redis is rebuilt from.
waiting_rooms = sa.Table(
    "waiting_rooms", metadata,
    _fk("round_id", "rounds.id", ondelete="CASCADE", primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("prequeue_minutes", sa.Integer, nullable=False),
    sa.Column("max_active", sa.Integer, nullable=False),
    sa.Column("admit_per_minute", sa.Integer, nullable=False),
    sa.Column("session_seconds", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("prequeue_minutes >= 0 AND max_active >= 1 AND admit_per_minute >= 1 "
                       "AND session_seconds >= 1", name="figures"),
)

# The catalogue's version for search caches: a new random token in the same transaction as every
# catalogue change (server/search/sync.py), so a cached answer keyed by it cannot outlive a commit.
search_versions = sa.Table(
    "search_versions", metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("token", sa.String(32), nullable=False),
)

# ---- batch jobs (server/jobs/) ----------------------------------------------------------------------
# One row per run of a job: who started it, when, what it did (counts) and how it ended.
job_runs = sa.Table(
    "job_runs", metadata, _id(),
    sa.Column("job", sa.String(40), nullable=False),
    sa.Column("triggered_by", sa.String(10), nullable=False),   # schedule, api or cli
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("holder", sa.String(64), nullable=False),      # the lock token of the instance running it
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("error", sa.Text),
    sa.Index("ix_job_runs_job_id", "job", "id"),            # a job's runs, newest first
    sa.CheckConstraint("triggered_by IN ('schedule', 'api', 'cli')", name="triggered_by"),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
)

# A lease per running job: one holder until expires_at, renewed while the job runs.
job_locks = sa.Table(
    "job_locks", metadata,
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("run_id", sa.Integer),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# The dormancy notice an account was sent; a login after it starts a new inactivity period.
dormant_notices = sa.Table(
    "dormant_notices", metadata,
    _fk("user_id", "users.id", ondelete="CASCADE", primary_key=True),
    sa.Column("sent_at", UtcDateTime, nullable=False),
)

# Reservations whose day-before reminder was sent (review invitations need no mark: the reservation
# becomes `attended` in the same transaction).
reservation_reminders = sa.Table(
    "reservation_reminders", metadata,
    _fk("reservation_id", "reservations.id", ondelete="CASCADE", primary_key=True),
    sa.Column("sent_at", UtcDateTime, nullable=False),
)

# What an archived performance was (prices, cast, poster, rounds), kept after those rows are gone.
# `poster_key` is the stored object still to delete: cleared once the storage confirms.
performance_archive = sa.Table(
    "performance_archive", metadata,
    _fk("performance_id", "performances.id", primary_key=True),
    sa.Column("archived_at", UtcDateTime, nullable=False),
    sa.Column("poster_key", sa.String(300), index=True),
    sa.Column("record", sa.JSON, nullable=False),
)

# Written on the primary by every instance that has replicas and read back on each replica: how old
# the replica's copy is is how far it lags (server/db/database.py).
replica_heartbeat = sa.Table(
    "replica_heartbeat", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("beat_ms", sa.BigInteger, nullable=False),
)
