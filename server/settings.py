"""All settings, read once from ``TICKETBLUE_*`` environment variables into one typed object.

Each field's ``Meta(description=...)`` is the single source for ``--help`` and the README table.
"""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Literal

import limits
import msgspec

PREFIX = "TICKETBLUE_"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _doc(text: str, **constraints) -> msgspec.Meta:
    return msgspec.Meta(description=text, **constraints)


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: Annotated[str, _doc("Address to listen on.")] = "127.0.0.1"
    port: Annotated[int, _doc("Port to listen on.", ge=0, le=65535)] = 8080
    data_dir: Annotated[str, _doc("Working folder for the embedded run (SQLite file, posters, JWT secret).")] = "./var"
    database_url: Annotated[str, _doc("SQLAlchemy URL. Empty: SQLite file in the data folder; "
                                      "mysql+aiomysql://user:pass@host/db for MySQL/MariaDB.")] = ""
    replica_urls: Annotated[str, _doc("Read replicas, comma separated (none: all reads go to the primary).")] = ""
    replica_max_lag_seconds: Annotated[float, _doc(
        "A replica further behind the primary than this (or down) is skipped: its reads go to another "
        "replica or the primary until it has caught up. Keep it above the check interval.", gt=0)] = 5
    replica_check_seconds: Annotated[float, _doc(
        "How often each instance checks its replicas: it writes a heartbeat on the primary and reads how old "
        "the copy on each replica is (that is the lag, to within this interval).", gt=0)] = 1
    redis_url: Annotated[str, _doc(
        "Redis URL: redis://host:port/db (rediss:// for TLS), or redis+cluster://host:port,host:port,... for a "
        "Redis Cluster (any reachable node finds the others). Empty: in-process seat engine, pub/sub and cache.")] = ""
    redis_key_prefix: Annotated[str, _doc(
        "Starts the name of every Redis key and channel of this deployment (seat maps, SSE bus, rate limits; "
        "the search cache's start with the Elasticsearch index prefix), so several deployments can share one Redis or one cluster.",
        pattern=r"^[A-Za-z0-9_-]{1,32}$")] = "tb"
    elasticsearch_url: Annotated[str, _doc("Elasticsearch URL. Empty: search with SQL queries.")] = ""
    elasticsearch_index_prefix: Annotated[str, _doc(
        "Names of this deployment's Elasticsearch indices (<prefix>-performances, ...) and of its search "
        "cache keys in Redis, so several deployments or test runs can share one cluster.",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] = "ticketblue"
    search_cache_seconds: Annotated[float, _doc(
        "How long a catalogue search answer is kept in the cache (Redis, else in-process); 0 turns the "
        "cache off. A catalogue change makes cached answers obsolete at once, whatever this says.", ge=0)] = 60
    search_cache_entries: Annotated[int, _doc("Most answers the in-process search cache keeps (Redis "
                                              "keeps what its memory allows).", ge=1)] = 10000
    s3_bucket: Annotated[str, _doc("S3 bucket for posters. Empty: posters go to the media folder.")] = ""
    s3_endpoint_url: Annotated[str, _doc("S3 endpoint for S3-compatible stores (MinIO, moto).")] = ""
    s3_region: Annotated[str, _doc("S3 region.")] = "ap-northeast-2"
    s3_public_url: Annotated[str, _doc("Public base URL of poster objects. Empty: <endpoint>/<bucket>.")] = ""
    media_dir: Annotated[str, _doc("Poster folder when S3 is off, served under /media. Empty: <data_dir>/media.")] = ""
    smtp_url: Annotated[str, _doc("smtp://user:pass@host:port (STARTTLS when offered) or smtps:// (TLS). "
                                  "Empty: mail is written to the log.")] = ""
    mail_from: Annotated[str, _doc("Sender address of outgoing mail.")] = "Ticket Blue <no-reply@ticketblue.local>"
    toss_secret_key: Annotated[str, _doc("Toss Payments secret key. Empty: built-in sandbox.")] = ""
    toss_client_key: Annotated[str, _doc("Toss Payments client key, for the payment widget.")] = ""
    toss_api_url: Annotated[str, _doc("Toss API base URL. Empty: https://api.tosspayments.com with a secret key, "
                                      "else the sandbox built into this server. Set without a secret key to "
                                      "use another instance's sandbox (http://host:port/sandbox/toss, with its "
                                      "TICKETBLUE_TOSS_SANDBOX_KEY).")] = ""
    toss_timeout_seconds: Annotated[float, _doc("Time limit of one call to Toss (connect and answer).", gt=0)] = 10
    toss_retries: Annotated[int, _doc("Further attempts when a call to Toss gets no answer (network error, "
                                      "timeout); the same Idempotency-Key makes them safe.", ge=0, le=10)] = 2
    toss_retry_backoff_seconds: Annotated[float, _doc("Wait before the first retry of a Toss call; doubles "
                                                      "per retry.", ge=0)] = 0.5
    toss_sandbox_key: Annotated[str, _doc(
        "Secret key of the built-in Toss sandbox: only a client with it may use the sandbox's Toss API "
        "(/sandbox/toss/v1). Empty: a random key made at start, known only to this server. Set the same key "
        "on the instance that hosts the sandbox and on those that point TICKETBLUE_TOSS_API_URL at it.")] = ""
    toss_sandbox_faults: Annotated[bool, _doc(
        "Let anyone script provider failures with POST /sandbox/toss/failures (tests and demos only). Off: "
        "that endpoint answers 404.")] = False
    toss_sandbox_min_latency_seconds: Annotated[float, _doc(
        "Shortest time the built-in sandbox takes to answer a call, as Toss does over the internet (tests "
        "of races).", ge=0, le=60)] = 0
    toss_sandbox_max_latency_seconds: Annotated[float, _doc(
        "Longest time the built-in sandbox takes to answer a call (each call takes a random time between "
        "the two; at least the shortest).", ge=0, le=60)] = 0
    refund_cutoff_minutes: Annotated[int, _doc(
        "A paid reservation can be canceled (and refunded) until this many minutes before its round "
        "starts; later, cancel answers 409 too_late.", ge=0)] = 0
    slack_webhook_url: Annotated[str, _doc("Slack incoming webhook URL. Empty: Slack is off.")] = ""
    delivery_timeout_seconds: Annotated[float, _doc("Longest wait for one mail or Slack delivery; a slower "
                                                    "server counts as a failed attempt.", gt=0)] = 15
    outbox_poll_seconds: Annotated[float, _doc("How often the dispatcher looks for due messages (it is also "
                                               "woken at once by this instance's own commits).", gt=0)] = 1
    outbox_batch_size: Annotated[int, _doc("Messages one dispatcher claims per channel at a time.", ge=1)] = 50
    outbox_max_attempts: Annotated[int, _doc("Delivery attempts before a message is dead-lettered.", ge=1)] = 10
    outbox_backoff_seconds: Annotated[float, _doc("Wait before the first retry; doubles per attempt.", gt=0)] = 10
    outbox_backoff_max_seconds: Annotated[float, _doc("Longest wait between two attempts.", gt=0)] = 3600
    outbox_keep_hours: Annotated[float, _doc("Delivered messages are kept this long (SSE replay with "
                                             "Last-Event-ID reaches this far back).", ge=24)] = 48
    sse_heartbeat_seconds: Annotated[float, _doc("Idle SSE streams get a `: ping` comment this often.",
                                                 gt=0, le=15)] = 15
    kakao_client_id: Annotated[str, _doc("Kakao REST API key. Empty: Kakao login is off.")] = ""
    kakao_client_secret: Annotated[str, _doc("Kakao client secret (optional).")] = ""
    kakao_redirect_uri: Annotated[str, _doc("Redirect URI registered with Kakao. Empty: <request origin>/api/auth/kakao/callback.")] = ""
    kakao_auth_url: Annotated[str, _doc("Kakao OAuth base URL.")] = "https://kauth.kakao.com"
    kakao_api_url: Annotated[str, _doc("Kakao API base URL.")] = "https://kapi.kakao.com"
    jwt_secret: Annotated[str, _doc("Secret that signs access tokens. Empty: generated and kept in the data "
                                    "folder (embedded run only; required with MySQL).")] = ""
    jwt_ttl_seconds: Annotated[int, _doc("Lifetime of an access token.", ge=60)] = 3600
    admin_signup_key: Annotated[str, _doc("Key for admin sign-up. Empty: admin sign-up is closed.")] = ""
    token_check_seconds: Annotated[float, _doc(
        "How long an instance may trust what it last read of an account (deleted or not, which tokens count) "
        "before reading it again: a logout, password change or deletion refuses the account's older tokens "
        "at once on the instance that made it, and on every other within this time.", ge=0, le=60)] = 2
    password_hash_concurrency: Annotated[int, _doc(
        "Most password hashes computed at once (login, sign-up, password change); more wait their turn, so "
        "a flood of logins cannot take every core. 0: the number of CPUs.", ge=0)] = 0
    rate_limit_strategy: Annotated[Literal["moving-window", "sliding-window-counter", "fixed-window"], _doc(
        "How the rate limits count (the `limits` library's strategies): moving-window is exact; the others "
        "keep less per key. Counts live in Redis when TICKETBLUE_REDIS_URL is set (shared by all instances), "
        "else in this process.")] = "moving-window"
    rate_limit_login_per_address: Annotated[str, _doc(
        "Logins from one client address, as `limits` rates separated by `;` (10/minute;100/hour). Empty: "
        "no limit. Over a limit the answer is 429 rate_limited with Retry-After. The short window spreads a burst "
        "of guesses out, so that it cannot queue up the password hashes of everyone else.")] = "5/10 seconds;30/minute;300/hour"
    rate_limit_password_per_account: Annotated[str, _doc(
        "Password attempts against one account, from any address: logins, counted per e-mail address, and "
        "password changes, counted per account.")] = "10/minute;50/hour"
    rate_limit_signup_per_address: Annotated[str, _doc("Sign-ups from one client address.")] = "10/minute;50/day"
    rate_limit_admin_signup_per_address: Annotated[str, _doc(
        "Admin sign-up attempts (admin sign-up key guesses) from one client address.")] = "5/minute;20/day"
    rate_limit_holds_per_account: Annotated[str, _doc(
        "Holds and releases by one account, REST and WebSocket together: far more than a person clicking "
        "seats, far less than a script. Counted per round by the seat engine, with the hold itself.")] = "20/second;300/minute"
    rate_limit_coupon_issue_per_account: Annotated[str, _doc(
        "Coupon issue requests by one account.")] = "20/minute;200/hour"
    rate_limit_ws_connects_per_account: Annotated[str, _doc(
        "New seat-map WebSocket connections with one account's token.")] = "30/minute"
    rate_limit_ws_connects_per_address: Annotated[str, _doc(
        "New seat-map WebSocket connections from one client address (signed in or not).")] = "120/minute"
    rate_limit_queue_joins_per_account: Annotated[str, _doc(
        "Joins of waiting rooms (POST /api/rounds/{id}/queue) by one account.")] = "30/minute"
    rate_limit_queue_joins_per_address: Annotated[str, _doc(
        "Joins of waiting rooms from one client address.")] = "600/minute"
    trusted_proxies: Annotated[str, _doc(
        "Addresses or networks (CIDR) of the reverse proxies in front of this server, comma separated. A "
        "request from one of them is counted against the rightmost X-Forwarded-For address that is not "
        "itself a trusted proxy; from anywhere else, against its own address (X-Forwarded-For ignored). "
        "Empty: no proxy is trusted.")] = ""
    metrics_token: Annotated[str, _doc(
        "Bearer token that /metrics requires (Authorization: Bearer <token>). Empty: /metrics is open.")] = ""
    hold_seconds: Annotated[int, _doc("How long a seat hold lasts.", ge=1)] = 300
    max_seats_per_user: Annotated[int, _doc("Seats one user may hold or have pending per round.", ge=1)] = 8
    max_hold_seconds: Annotated[int, _doc(
        "Longest one user may keep the same seat held by holding it again: a hold is not extended past this "
        "after it began, and the seat is then released. 0: twice TICKETBLUE_HOLD_SECONDS.", ge=0)] = 0
    hold_cooldown_seconds: Annotated[int, _doc(
        "After a user's hold on a seat ends, how long holding it again carries on the same hold (releasing and "
        "holding again does not restart the clock), and how long a user who reached the longest hold must "
        "wait to hold that seat again. 0: TICKETBLUE_HOLD_SECONDS.", ge=0)] = 0
    seat_watches_per_user: Annotated[int, _doc("Seats or grades one user may watch per round (seat watch).",
                                               ge=1, le=1000)] = 20
    waiting_room_grace_seconds: Annotated[int, _doc(
        "A user in a waiting room whose queue sockets are all gone keeps their place this long after their last "
        "sign of life (a socket, a look at their place); then the admission passes them over.", ge=1)] = 120
    waiting_room_accounts_per_address: Annotated[int, _doc(
        "Places one client address may have in one round's waiting room at once (behind a trusted proxy, the "
        "forwarded address). 0: any number.", ge=0)] = 8
    waiting_room_step_seconds: Annotated[float, _doc(
        "How often each instance runs an admission step for every open waiting room.", gt=0, le=10)] = 0.5
    waiting_room_slow_hold_ms: Annotated[float, _doc(
        "Admission slows down (halves, down to a tenth) while this instance's holds take longer than this at the "
        "90th percentile, and recovers when they do not.", gt=0)] = 250
    waiting_room_hold_error_share: Annotated[float, _doc(
        "Admission slows down too while more than this share of this instance's holds fail with a backend "
        "error.", gt=0, le=1)] = 0.05
    seat_repair_seconds: Annotated[float, _doc("How often each instance compares the seat maps of rounds with "
                                               "recent reservations against the database (repairs what a "
                                               "crashed instance left half done).", gt=0)] = 10
    payment_window_seconds: Annotated[int, _doc("Time to pay for a pending reservation.", ge=1)] = 600
    jobs_scheduled: Annotated[bool, _doc(
        "Run the batch jobs on their schedule inside this server (with several instances each run happens on "
        "one of them, under a lock). Off: only `python -m server job <name>` and the admin API run them.")] = True
    job_intervals: Annotated[str, _doc(
        "Schedule overrides, name=seconds comma separated (expired-reservations=30,dormant-users=43200). "
        "Defaults: dormant-users, dormant-users-notice and old-performances daily, expired-reservations "
        "every 60 s, upcoming-reminders and review-reminders every 600 s; 0 takes a job off the schedule.")] = ""
    job_chunk_size: Annotated[int, _doc("Rows a batch job handles per transaction.", ge=1, le=10000)] = 2000
    job_lock_seconds: Annotated[float, _doc(
        "Lease of a running job's lock, renewed every third of it; the job of an instance that died is "
        "taken over once it runs out.", ge=3)] = 60
    dormant_after_days: Annotated[int, _doc("Accounts with no login for this long become dormant (a login "
                                            "re-activates them), once their notice is as old as "
                                            "TICKETBLUE_DORMANT_NOTICE_DAYS.", ge=1)] = 365
    dormant_notice_days: Annotated[int, _doc("Accounts are told by mail this many days before they become "
                                             "dormant.", ge=1)] = 30
    anonymise_after_dormant_days: Annotated[int, _doc(
        "Dormant accounts are anonymised (personal data erased, bookings kept) after this long.", ge=1)] = 1460
    archive_after_days: Annotated[int, _doc("Performances whose last day is longer ago than this are archived "
                                            "(poster deleted, cast and unbooked rounds removed).", ge=1)] = 365
    upcoming_reminder_hours: Annotated[float, _doc("Bookers of a round are reminded this long before it "
                                                   "starts.", gt=0)] = 24
    review_invite_days: Annotated[float, _doc(
        "Attendees are invited to review rounds that ended within this many days; reservations of rounds "
        "that ended earlier become attended without a message.", gt=0)] = 7
    timezone: Annotated[str, _doc("Time zone of times in responses.")] = "Asia/Seoul"
    password_hash_time_cost: Annotated[int, _doc("argon2 time cost.", ge=1)] = 3
    password_hash_memory_kib: Annotated[int, _doc("argon2 memory cost in KiB.", ge=8)] = 65536
    max_body_bytes: Annotated[int, _doc("Largest JSON request body.", ge=1024)] = 1024 * 1024
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], _doc("Log level.")] = "INFO"
    event_loop: Annotated[Literal["uvloop", "asyncio"], _doc(
        "The event loop `serve` runs on: uvloop (a drop-in, faster at socket writes, which the seat "
        "map's fan-out is mostly made of) or Python's own asyncio.")] = "uvloop"
    log_format: Annotated[Literal["text", "json"], _doc(
        "How log lines are written: text, or json (one object per line: time, level, logger, message, "
        "request_id, exception). Either way each line written for a request carries its X-Request-Id.")] = "text"

    # ---- derived values -------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'ticketblue.sqlite3'}"

    @property
    def resolved_media_dir(self) -> Path:
        return Path(self.media_dir or Path(self.data_dir) / "media").resolve()

    @property
    def replicas(self) -> list[str]:
        return [u.strip() for u in self.replica_urls.split(",") if u.strip()]

    @property
    def is_embedded_database(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()]

    def rate_limit(self, name: str) -> list[limits.RateLimitItem]:
        """The rates of TICKETBLUE_RATE_LIMIT_<NAME> (none: no limit)."""
        value = getattr(self, f"rate_limit_{name}")
        return limits.parse_many(value) if value.strip() else []


SECRET_FIELDS = frozenset({"jwt_secret", "admin_signup_key", "toss_secret_key", "toss_sandbox_key",
                           "kakao_client_secret", "slack_webhook_url", "metrics_token"})
_URL_PASSWORD = re.compile(r"(//[^:/@]+:)[^@]+@")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable."""


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for --help and docs."""
    rows = []
    for f in msgspec.structs.fields(Settings):
        meta = next(m for m in getattr(f.type, "__metadata__", ()) if isinstance(m, msgspec.Meta))
        rows.append((env_name(f.name), repr(f.default) if f.default != "" else "(empty)", meta.description))
    return rows


def load(environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Read settings from the environment (strings are converted to the field types)."""
    environ = os.environ if environ is None else environ
    names = {f.name for f in msgspec.structs.fields(Settings)}
    raw: dict[str, object] = {k[len(PREFIX):].lower(): v for k, v in environ.items()
                              if k.startswith(PREFIX) and k[len(PREFIX):].lower() in names}
    raw.update(overrides)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        field = re.search(r"\$\.(\w+)", str(exc))
        where = env_name(field.group(1)) if field else "settings"
        raise SettingsError(f"{where}: {str(exc).split(' - at ')[0]}") from None
    return _finish(settings)


def _finish(settings: Settings) -> Settings:
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(settings.timezone)
    except Exception:
        raise SettingsError(f"{env_name('timezone')}: unknown time zone {settings.timezone!r}") from None
    for name in ("database_url", "redis_url", "elasticsearch_url", "smtp_url", "toss_api_url",
                 "s3_endpoint_url", "slack_webhook_url"):
        value = getattr(settings, name)
        if value and "://" not in value:
            raise SettingsError(f"{env_name(name)}: expected a URL with a scheme, got {redact(value)!r}")
    for name in settings.__struct_fields__:
        if name.startswith("rate_limit_") and name != "rate_limit_strategy":
            try:
                settings.rate_limit(name.removeprefix("rate_limit_"))
            except ValueError:
                raise SettingsError(f"{env_name(name)}: expected rates like 10/minute;100/hour, "
                                    f"got {getattr(settings, name)!r}") from None
    try:
        settings.trusted_proxy_networks
    except ValueError as exc:
        raise SettingsError(f"{env_name('trusted_proxies')}: {exc}") from None
    if settings.jwt_secret:
        if len(settings.jwt_secret) < 32:
            raise SettingsError(f"{env_name('jwt_secret')}: must be at least 32 characters (HS256 key)")
        return settings
    if not settings.is_embedded_database:
        raise SettingsError(f"{env_name('jwt_secret')} is required when the database is not the embedded SQLite")
    return msgspec.structs.replace(settings, jwt_secret=_embedded_jwt_secret(Path(settings.data_dir)))


def _embedded_jwt_secret(data_dir: Path) -> str:
    """A secret kept in the data folder, so tokens survive a restart of the embedded server."""
    path = data_dir / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


def redact(value: str) -> str:
    return _URL_PASSWORD.sub(r"\1***@", value)


def safe_summary(settings: Settings) -> dict[str, object]:
    """Settings as they may be logged: secrets masked, passwords cut out of URLs."""
    out = {}
    for name in settings.__struct_fields__:
        value = getattr(settings, name)
        if name in SECRET_FIELDS and value:
            value = "***"
        elif isinstance(value, str):
            value = redact(value)
        out[name] = value
    return out
