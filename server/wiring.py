"""How the application is put together: the typed keys of everything it holds, the cleanup contexts
that open and close it in order, and the one place where the domain services are built.

    create_app(settings)                          a server: every context (SERVER)
    create_app(settings, contexts=COMMAND_LINE)   `python -m server job`: what a short-lived process
                                                  may run (no background tasks, no outbox dispatcher)

Nothing else reaches into the application: services are built from plain arguments (they never see
the app), and each resource (hub, health, Toss client, sandbox, rate limits) has a key of its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import AsyncIterator, Callable
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from seatmap.engine import SeatEngine
from seatmap.hub import Hub
from seatmap.memory import MemoryEngine
from server.accounts import Accounts
from server.admission_pace import AdmissionPace
from server.background import Background
from server.catalogue.cast import Cast
from server.catalogue.halls import Halls
from server.catalogue.performances import Performances
from server.catalogue.performers import Performers
from server.catalogue.rounds import Rounds
from server.checkout import Checkout
from server.coupons import Coupons
from server.db.database import Database
from server.db.migrate import upgrade
from server.health import Health
from server.jobs.base import JobContext
from server.jobs.service import Jobs
from server.kakao import Kakao
from server.metrics import Metrics
from server.notify import open_channels
from server.notify.events import EventStreams, LocalBus, open_bus
from server.outbox.dispatch import Dispatcher, Policy
from server.outbox.figures import outbox_figures
from server.outbox.routes import SEARCH_SYNC
from server.passwords import Passwords
from server.payments import open_toss
from server.payments.sandbox_http import SANDBOX
from server.payments.toss import TossPayments
from server.posters import Posters
from server.queue_watch import QueueWatch
from server.ratelimit import RateLimits, open_rate_limits
from server.redis_client import open_redis
from server.reservations import Reservations
from server.reviews import Reviews
from server.revocation import Revocation
from server.sales_report import SalesReport
from server.search.service import Search, open_search
from server.seat_watch import SeatWatch
from server.seating import Seating, load_truth
from server.settings import Settings
from server.storage import Storage, open_storage
from server.tickets import Tickets
from server.tokens import Tokens
from server.waiting_room import WaitingRoom

log = logging.getLogger(__name__)

# ---- what the application holds ------------------------------------------------------------
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
HEALTH = web.AppKey("health", Health)
TOKENS = web.AppKey("tokens", Tokens)
DATABASE = web.AppKey("database", Database)
HTTP = web.AppKey("http_client", aiohttp.ClientSession)
STORAGE = web.AppKey("storage", Storage)
SEAT_ENGINE = web.AppKey("seat_engine", SeatEngine)
SEARCH = web.AppKey("search", Search)                 # Elasticsearch or SQL, with its cache and outbox channel
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
EVENT_BUS = web.AppKey("event_bus", LocalBus)         # LocalBus or RedisBus
DISPATCHER = web.AppKey("outbox_dispatcher", Dispatcher)
TOSS = web.AppKey("toss", TossPayments)
TOSS_SANDBOX = SANDBOX                                # only when this server hosts the sandbox
HUB = web.AppKey("hub", Hub)
BACKGROUND = web.AppKey("background", Background)
JOBS = web.AppKey("jobs", Jobs)                       # the batch jobs: runner, schedule, run records


@dataclass(frozen=True)
class Services:
    """The domain services the handlers call."""
    accounts: Accounts
    revocation: Revocation
    kakao: Kakao
    halls: Halls
    performers: Performers
    performances: Performances
    cast: Cast
    rounds: Rounds
    posters: Posters
    seating: Seating
    reservations: Reservations
    coupons: Coupons
    checkout: Checkout
    reviews: Reviews
    events: EventStreams
    search: Search
    waiting_room: WaitingRoom
    tickets: Tickets
    seat_watch: SeatWatch
    sales_report: SalesReport


SERVICES = web.AppKey("services", Services)
QUEUE_WATCH = web.AppKey("queue_watch", QueueWatch)


def build_services(settings: Settings, *, db: Database, http: aiohttp.ClientSession, storage: Storage,
                   engine: SeatEngine, tokens: Tokens, toss: TossPayments, bus: LocalBus, search: Search,
                   metrics: Metrics) -> Services:
    zone = ZoneInfo(settings.timezone)
    pace = AdmissionPace(slow_hold_ms=settings.waiting_room_slow_hold_ms,
                         error_share=settings.waiting_room_hold_error_share)
    seating = Seating(db, engine, hold_seconds=settings.hold_seconds,
                      max_seats_per_user=settings.max_seats_per_user, zone=zone,
                      max_hold_seconds=settings.max_hold_seconds, hold_cooldown_seconds=settings.hold_cooldown_seconds,
                      hold_rates=tuple((rate.amount, rate.get_expiry() * 1000)
                                       for rate in settings.rate_limit("holds_per_account")), pace=pace,
                      metrics=metrics)
    passwords = Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib,
                          concurrency=settings.password_hash_concurrency)
    revocation = Revocation(db, ttl_seconds=settings.token_check_seconds)
    coupons = Coupons(db, zone)
    tickets = Tickets(db, zone, secret=settings.jwt_secret)
    seat_watch = SeatWatch(db, seating, per_user=settings.seat_watches_per_user)
    seating.events = seat_watch
    reservations = Reservations(db, seating, coupons, tickets, payment_window_seconds=settings.payment_window_seconds,
                                zone=zone, metrics=metrics)
    return Services(
        accounts=Accounts(db, passwords, tokens, revocation, settings.admin_signup_key),
        revocation=revocation,
        kakao=Kakao(http, client_id=settings.kakao_client_id, client_secret=settings.kakao_client_secret,
                    auth_url=settings.kakao_auth_url, api_url=settings.kakao_api_url),
        halls=Halls(db),
        performers=Performers(db),
        performances=Performances(db, storage, zone, seating),
        cast=Cast(db),
        rounds=Rounds(db, zone, seating),
        posters=Posters(db, storage),
        seating=seating,
        reservations=reservations,
        coupons=coupons,
        checkout=Checkout(db, toss, reservations, seating, zone, refund_cutoff_minutes=settings.refund_cutoff_minutes,
                          metrics=metrics),
        reviews=Reviews(db, zone),
        events=EventStreams(db, bus, heartbeat_seconds=settings.sse_heartbeat_seconds, zone=zone),
        search=search,
        tickets=tickets,
        seat_watch=seat_watch,
        sales_report=SalesReport(db, seating, zone),
        waiting_room=WaitingRoom(db, engine, seating, zone, draw_key=settings.jwt_secret,
                                 grace_seconds=settings.waiting_room_grace_seconds,
                                 accounts_per_address=settings.waiting_room_accounts_per_address, pace=pace,
                                 step_seconds=settings.waiting_room_step_seconds, metrics=metrics),
    )


def job_context(settings: Settings, db: Database, storage: Storage, services: Services) -> JobContext:
    """What the batch jobs work with: the server's own services, which they call rather than repeat."""
    return JobContext(db=db, settings=settings, storage=storage, seating=services.seating,
                      reservations=services.reservations, checkout=services.checkout, zone=ZoneInfo(settings.timezone))


# ---- cleanup contexts, in the order they open ------------------------------------------------
Context = Callable[[web.Application], AsyncIterator[None]]


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db = Database(settings.resolved_database_url, settings.replicas,
                  max_lag_seconds=settings.replica_max_lag_seconds, check_seconds=settings.replica_check_seconds)
    if db.dialect == "sqlite":
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        # The embedded run migrates itself; MySQL deployments run `python -m server migrate` once.
        await upgrade(db)
    await db.watch_replicas()          # reads go to replicas that are up and in step, else to the primary
    app[DATABASE] = db
    app[HEALTH].add("database", db.ping)
    yield
    await db.close()


async def http_client(app: web.Application) -> AsyncIterator[None]:
    """One client session for every outgoing call (Toss, Kakao, Slack)."""
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


async def storage(app: web.Application) -> AsyncIterator[None]:
    """Poster storage: the S3 client when a bucket is configured, else the local media folder."""
    async with open_storage(app[SETTINGS]) as store:
        app[STORAGE] = store
        if app[SETTINGS].s3_bucket:
            app[HEALTH].add("s3", store.ping)
        yield


async def seat_engine(app: web.Application) -> AsyncIterator[None]:
    """Redis when configured (many instances), else the in-process engine (one instance)."""
    settings = app[SETTINGS]
    loader = partial(load_truth, app[DATABASE])
    if settings.redis_url:
        from seatmap.redis_engine import RedisEngine
        client = await open_redis(settings.redis_url)
        engine: SeatEngine = RedisEngine(client, loader, prefix=settings.redis_key_prefix)
        app[HEALTH].add("redis", client.ping)
    else:
        engine = MemoryEngine(loader)
    app[SEAT_ENGINE] = engine
    yield
    await engine.close()


async def search(app: web.Application) -> AsyncIterator[None]:
    """Search: Elasticsearch when configured (indices created if missing), else SQL queries; answers
    cached in Redis when configured, else in-process. Kept in step through the outbox."""
    async with open_search(app[SETTINGS], app[DATABASE], metrics=app[METRICS]) as opened:
        app[SEARCH] = opened
        if app[SETTINGS].elasticsearch_url:
            app[HEALTH].add("elasticsearch", opened.ping)
        yield


async def rate_limits(app: web.Application) -> AsyncIterator[None]:
    async with open_rate_limits(app[SETTINGS], app[METRICS]) as opened:
        app[RATE_LIMITS] = opened
        yield


async def event_bus(app: web.Application) -> AsyncIterator[None]:
    """The SSE event bus: Redis pub/sub when configured, else in process."""
    bus = await open_bus(app[SETTINGS])
    app[EVENT_BUS] = bus
    yield
    await bus.close()


async def dispatcher(app: web.Application) -> AsyncIterator[None]:
    """The outbox dispatcher: delivers SSE, mail, Slack and search updates in the background,
    outside any booking."""
    settings, db = app[SETTINGS], app[DATABASE]
    channels = {**open_channels(settings, db, app[HTTP], app[EVENT_BUS]), SEARCH_SYNC: app[SEARCH].channel}
    app[DISPATCHER] = Dispatcher(db, channels, Policy.from_settings(settings))
    app[DISPATCHER].start()
    yield
    await app[DISPATCHER].stop()


async def payments(app: web.Application) -> AsyncIterator[None]:
    """The Toss client; without Toss keys also the built-in sandbox it talks to (server/payments)."""
    async with open_toss(app[SETTINGS], app[HTTP], app[METRICS]) as (toss, sandbox):
        app[TOSS] = toss
        if sandbox is not None:
            app[TOSS_SANDBOX] = sandbox
        yield


async def services(app: web.Application) -> AsyncIterator[None]:
    built = build_services(app[SETTINGS], db=app[DATABASE], http=app[HTTP], storage=app[STORAGE],
                           engine=app[SEAT_ENGINE], tokens=app[TOKENS], toss=app[TOSS], bus=app[EVENT_BUS],
                           search=app[SEARCH], metrics=app[METRICS])
    app[SERVICES] = built
    app[HUB] = Hub(app[SEAT_ENGINE], built.seating.seat_ids, app[METRICS])
    app[QUEUE_WATCH] = QueueWatch(built.waiting_room, app[SEAT_ENGINE].line)
    yield
    await app[QUEUE_WATCH].close()
    await app[HUB].close()


async def background(app: web.Application) -> AsyncIterator[None]:
    """Hold expiry runs often (seats come back quickly); unpaid reservations less often."""
    settings, built, tasks = app[SETTINGS], app[SERVICES], Background()
    tasks.start(0.25, "expire-holds", built.seating.expire_holds)
    tasks.start(5, "expire-reservations", built.checkout.expire_due)
    tasks.start(settings.waiting_room_step_seconds, "admit-waiting-rooms", built.waiting_room.step)
    repair_window = 60 + 3 * settings.seat_repair_seconds    # several chances for every recent change
    tasks.start(settings.seat_repair_seconds, "repair-seat-maps", partial(built.seating.repair_recent, repair_window))
    app[BACKGROUND] = tasks
    yield
    await tasks.stop()


async def jobs(app: web.Application) -> AsyncIterator[None]:
    """The batch jobs (server/jobs/): run by the admin API, and on their schedule when
    TICKETBLUE_JOBS_SCHEDULED; stopped first on the way out (a run cut short is recorded as such)."""
    app[JOBS] = Jobs(job_context(app[SETTINGS], app[DATABASE], app[STORAGE], app[SERVICES]), metrics=app[METRICS])
    app[JOBS].start()
    yield
    await app[JOBS].stop()


async def scraped_metrics(app: web.Application) -> AsyncIterator[None]:
    """The gauges /metrics reads when it is asked: states of the database and the seat engine."""
    metrics, db, waiting_room = app[METRICS], app[DATABASE], app[SERVICES].waiting_room

    async def outbox():
        figures = await outbox_figures(db)
        return {metrics.outbox_backlog: {(c,): f.backlog for c, f in figures.items()},
                metrics.outbox_oldest_age: {(c,): f.oldest_age_seconds for c, f in figures.items()},
                metrics.outbox_dead: {(c,): f.dead_letters for c, f in figures.items()}}

    async def waiting():
        return {metrics.waiting: {(): await waiting_room.waiting()}}

    async def replica_lag():               # (as the last check measured it: no query of its own)
        return {metrics.replica_lag: {(r.name,): r.lag_seconds for r in db.replicas.members
                                      if r.lag_seconds is not None}}

    metrics.read_at_scrape("the outbox", outbox, metrics.outbox_backlog, metrics.outbox_oldest_age,
                           metrics.outbox_dead)
    metrics.read_at_scrape("the waiting rooms", waiting, metrics.waiting)
    metrics.read_at_scrape("the replicas' lag", replica_lag, metrics.replica_lag)
    yield


SERVER: tuple[Context, ...] = (database, http_client, storage, seat_engine, search, rate_limits, event_bus,
                               dispatcher, payments, services, scraped_metrics, background, jobs)
# A short-lived process (`python -m server job`) opens the same resources and services as a server (so a
# job frees seats in the same Redis, asks the same Toss, deletes posters from the same bucket), minus the
# background tasks and the outbox dispatcher: the servers deliver what the job queued, and a dispatcher
# stopped as the process ends would leave its claimed messages waiting for their lease to run out.
COMMAND_LINE: tuple[Context, ...] = tuple(c for c in SERVER if c not in (dispatcher, background))
