"""Everything /metrics says, in one registry per application (two apps in one process never share a
count). The services are given this object and call one method where each event happens; the states
of the database and Redis are read when /metrics is asked (`read_at_scrape`).

    metric                                         type       labels               what it counts
    ticketblue_http_requests_total                 counter    method route status  HTTP requests answered
    ticketblue_http_request_duration_seconds       histogram  method route         time to answer them
    ticketblue_search_cache_total                  counter    result (hit|miss)    catalogue searches, from the cache or not
    ticketblue_holds_total                         counter    outcome              hold requests the seat engine answered
    ticketblue_releases_total                      counter    reason               seats whose hold ended (released, expired, blocked)
    ticketblue_reservations_total                  counter    outcome              reservations created, confirmed, canceled, expired
    ticketblue_payments_total                      counter    outcome              payments confirmed, failed, canceled (refunded)
    ticketblue_revenue_won_total                   counter                         KRW of confirmed payments
    ticketblue_refunds_won_total                   counter                         KRW refunded by canceled payments
    ticketblue_seatmap_viewers                     gauge                           seat-map sockets open on this instance
    ticketblue_queue_sockets                       gauge                           waiting-room sockets open on this instance
    ticketblue_deltas_published_total              counter                         seat-map deltas this instance's hub fanned out
    ticketblue_frames_sent_total                   counter                         seat-map frames the hub queued to sockets
    ticketblue_hub_resyncs_total                   counter                         times the hub reloaded a round's copy (a gap)
    ticketblue_hub_sends_total                     counter                         deltas written to a viewer's socket, one write per viewer per send
    ticketblue_hub_send_seconds_total              counter                         the hub's time writing them (over sends: one viewer's cost)
    ticketblue_slow_sockets_dropped_total          counter                         sockets closed for not keeping up
    ticketblue_waiting_room_waiting                gauge (scrape)                  people waiting in all open waiting rooms
    ticketblue_waiting_room_admitted_total         counter                         people this instance let in
    ticketblue_outbox_backlog                      gauge (scrape) channel          messages waiting to be delivered
    ticketblue_outbox_oldest_age_seconds           gauge (scrape) channel          age of the oldest of them
    ticketblue_outbox_dead_letters                 gauge (scrape) channel          messages given up on
    ticketblue_job_runs_total                      counter    job status           batch job runs, by how they ended
    ticketblue_job_duration_seconds                histogram  job                  how long they took
    ticketblue_toss_request_duration_seconds       histogram  operation            one HTTP attempt at Toss
    ticketblue_toss_errors_total                   counter    operation kind       attempts that failed: timeout, network, provider
    ticketblue_replica_lag_seconds                 gauge (scrape) replica          how far each replica is behind (absent: none, or down)
    ticketblue_rate_limited_total                  counter    limit                requests refused by a rate limit
    ticketblue_instance_info                       gauge      instance_id version  1, to tell instances apart

Labels are never ids of users, rounds, reservations or seats: each label has a handful of values.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import contextmanager
from typing import Awaitable, Callable, Iterator, Mapping

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# prometheus_client's `<counter>_created` series double every counter and say nothing a dashboard uses.
# (A switch of the library's, for the whole process.)
prometheus_client.disable_created_metrics()

SCRAPE_READ_SECONDS = 2.0       # a reading that takes longer is left out of this scrape
HOLD_OUTCOMES = ("granted", "unavailable", "limit", "rate_limited", "not_admitted", "sale_not_open", "other")
RELEASE_REASONS = ("released", "expired", "blocked")
RESERVATION_OUTCOMES = ("created", "confirmed", "canceled", "expired")
PAYMENT_OUTCOMES = ("confirmed", "failed", "canceled")
TOSS_OPERATIONS = ("confirm", "cancel", "lookup")
TOSS_ERRORS = ("timeout", "network", "provider")
FAST = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
SLOW = (.1, .5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600)

Values = Mapping[tuple[str, ...], float]          # label values -> value


class ScrapedGauge(Collector):
    """A gauge whose values are read when /metrics is asked: only what the last reading found is
    shown (a reading that failed shows nothing, rather than an old value)."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = (), *,
                 registry: CollectorRegistry):
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self.values: Values = {}
        registry.register(self)

    def describe(self):
        return [GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)]

    def collect(self):
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in self.values.items():
            family.add_metric(labels, value)
        return [family]


Reader = Callable[[], Awaitable[Mapping[ScrapedGauge, Values]]]


class Metrics:
    def __init__(self, *, instance_id: str = "", version: str = "dev"):
        self.registry = registry = CollectorRegistry()
        self._http_requests = Counter("ticketblue_http_requests_total", "HTTP requests answered",
                                      ["method", "route", "status"], registry=registry)
        self._http_latency = Histogram("ticketblue_http_request_duration_seconds", "Time to answer an HTTP request",
                                       ["method", "route"], registry=registry, buckets=FAST)
        self._search_cache = Counter("ticketblue_search_cache_total", "Catalogue searches answered from the cache "
                                     "(hit) or not (miss)", ["result"], registry=registry)
        self._holds = Counter("ticketblue_holds_total", "Hold requests the seat engine answered, by outcome",
                              ["outcome"], registry=registry)
        self._releases = Counter("ticketblue_releases_total", "Seats whose hold ended: released by the holder, "
                                 "expired, or taken by an admin's block", ["reason"], registry=registry)
        self._reservations = Counter("ticketblue_reservations_total", "Reservations created, confirmed (paid), "
                                     "canceled or expired", ["outcome"], registry=registry)
        self._payments = Counter("ticketblue_payments_total", "Payments confirmed, failed, or canceled (refunded)",
                                 ["outcome"], registry=registry)
        self._revenue = Counter("ticketblue_revenue_won_total", "KRW of confirmed payments", registry=registry)
        self._refunds = Counter("ticketblue_refunds_won_total", "KRW refunded by canceled payments", registry=registry)
        self.seatmap_viewers = Gauge("ticketblue_seatmap_viewers", "Seat-map sockets open on this instance",
                                     registry=registry)
        self.queue_sockets = Gauge("ticketblue_queue_sockets", "Waiting-room sockets open on this instance",
                                   registry=registry)
        self._deltas = Counter("ticketblue_deltas_published_total", "Seat-map deltas this instance's hub fanned out "
                               "to its viewers", registry=registry)
        self._frames = Counter("ticketblue_frames_sent_total", "Seat-map frames (deltas and snapshots) the hub queued "
                               "to sockets", registry=registry)
        self._hub_resyncs = Counter("ticketblue_hub_resyncs_total", "Times the hub reloaded a round's copy from the "
                                    "engine (a gap in its deltas, or a lost subscription)", registry=registry)
        self._hub_sends = Counter("ticketblue_hub_sends_total", "Writes of a busy round's deltas to a viewer's socket "
                                  "(one per viewer per send, however many deltas it carries)", registry=registry)
        self._hub_send_seconds = Counter("ticketblue_hub_send_seconds_total", "The hub's time making those writes; over "
                                         "ticketblue_hub_sends_total it is what one viewer costs per send, the figure "
                                         "that bounds how many viewers one process can keep up to date",
                                         registry=registry)
        self._slow_dropped = Counter("ticketblue_slow_sockets_dropped_total", "Sockets closed for not keeping up with "
                                     "their frames", registry=registry)
        self.waiting = ScrapedGauge("ticketblue_waiting_room_waiting", "People waiting in all open waiting rooms",
                                    registry=registry)
        self._admitted = Counter("ticketblue_waiting_room_admitted_total", "People this instance let in from a "
                                 "waiting room", registry=registry)
        self.outbox_backlog = ScrapedGauge("ticketblue_outbox_backlog", "Outbox messages waiting to be delivered",
                                           ("channel",), registry=registry)
        self.outbox_oldest_age = ScrapedGauge("ticketblue_outbox_oldest_age_seconds", "Age of the oldest outbox "
                                              "message waiting to be delivered", ("channel",), registry=registry)
        self.outbox_dead = ScrapedGauge("ticketblue_outbox_dead_letters", "Outbox messages given up on (dead "
                                        "letters, kept for a person to look at)", ("channel",), registry=registry)
        self._job_runs = Counter("ticketblue_job_runs_total", "Batch job runs, by how they ended", ["job", "status"],
                                 registry=registry)
        self._job_duration = Histogram("ticketblue_job_duration_seconds", "How long a batch job run took", ["job"],
                                       registry=registry, buckets=SLOW)
        self._toss_latency = Histogram("ticketblue_toss_request_duration_seconds", "One HTTP attempt at Toss "
                                       "Payments, answered or not", ["operation"], registry=registry, buckets=FAST)
        self._toss_errors = Counter("ticketblue_toss_errors_total", "Attempts at Toss Payments that got no answer "
                                    "(timeout, network) or the provider's failure (provider)", ["operation", "kind"],
                                    registry=registry)
        self.replica_lag = ScrapedGauge("ticketblue_replica_lag_seconds", "How far each read replica is behind the "
                                        "primary, at its last check (absent: no replicas, or not answering)",
                                        ("replica",), registry=registry)
        self._rate_limited = Counter("ticketblue_rate_limited_total", "Requests refused by a rate limit (by the "
                                     "setting's short name)", ["limit"], registry=registry)
        Gauge("ticketblue_instance_info", "This server instance (always 1)", ["instance_id", "version"],
              registry=registry).labels(instance_id, version).set(1)
        for counter, values in ((self._holds, HOLD_OUTCOMES), (self._releases, RELEASE_REASONS),
                                (self._reservations, RESERVATION_OUTCOMES), (self._payments, PAYMENT_OUTCOMES)):
            for value in values:                  # every outcome shows from the start, at 0
                counter.labels(value)
        self._readers: list[tuple[str, Reader, tuple[ScrapedGauge, ...]]] = []
        self._failing: set[str] = set()

    # ---- events ------------------------------------------------------------------------------
    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._http_requests.labels(method, route, str(status)).inc()
        self._http_latency.labels(method, route).observe(seconds)

    def search_cache(self, result: str) -> None:
        self._search_cache.labels(result).inc()

    def hold(self, outcome: str) -> None:
        self._holds.labels(outcome).inc()

    def released(self, reason: str, seats: int) -> None:
        if seats:
            self._releases.labels(reason).inc(seats)

    def reservation(self, outcome: str) -> None:
        self._reservations.labels(outcome).inc()

    def payment(self, outcome: str, won: int = 0) -> None:
        """A payment `confirmed` (its amount is revenue), `failed`, or `canceled` (its amount refunded)."""
        self._payments.labels(outcome).inc()
        if outcome == "confirmed":
            self._revenue.inc(won)
        elif outcome == "canceled":
            self._refunds.inc(won)

    def deltas_published(self, count: int = 1) -> None:
        self._deltas.inc(count)

    def frames_sent(self, count: int) -> None:
        if count:
            self._frames.inc(count)

    def hub_resynced(self) -> None:
        self._hub_resyncs.inc()

    def hub_sent(self, sends: int, seconds: float) -> None:
        if sends:
            self._hub_sends.inc(sends)
            self._hub_send_seconds.inc(seconds)

    def slow_socket_dropped(self) -> None:
        self._slow_dropped.inc()

    def admitted(self, people: int) -> None:
        if people:
            self._admitted.inc(people)

    def job_ran(self, job: str, status: str, seconds: float) -> None:
        self._job_runs.labels(job, status).inc()
        self._job_duration.labels(job).observe(seconds)

    @contextmanager
    def toss_attempt(self, operation: str) -> Iterator[None]:
        """Times one HTTP attempt at Toss, answered or not."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self._toss_latency.labels(operation).observe(time.perf_counter() - started)

    def toss_error(self, operation: str, kind: str) -> None:
        self._toss_errors.labels(operation, kind).inc()

    def rate_limited(self, limit: str) -> None:
        self._rate_limited.labels(limit).inc()

    # ---- states read when /metrics is asked ---------------------------------------------------
    def read_at_scrape(self, name: str, reader: Reader, *gauges: ScrapedGauge) -> None:
        """`reader` gives the values of `gauges` (one cheap query or call); it runs at each scrape."""
        self._readers.append((name, reader, gauges))

    async def exposition(self) -> bytes:
        """The text /metrics answers: the readers run together, each within SCRAPE_READ_SECONDS; a
        reader that fails leaves its gauges out of this scrape (logged once until it works again)."""
        await asyncio.gather(*(self._read(*reader) for reader in self._readers))
        return prometheus_client.generate_latest(self.registry)

    async def _read(self, name: str, reader: Reader, gauges: tuple[ScrapedGauge, ...]) -> None:
        try:
            async with asyncio.timeout(SCRAPE_READ_SECONDS):
                values = await reader()
        except Exception as exc:
            if name not in self._failing:
                log.warning("metrics: %s could not be read, left out of /metrics until it can: %s",
                            name, f"{type(exc).__name__}: {exc}"[:300])
                self._failing.add(name)
            values = {}
        else:
            self._failing.discard(name)
        for gauge in gauges:
            gauge.values = values.get(gauge, {})
