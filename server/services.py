"""The domain services the handlers call, built once per application from its resources."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web

from server.accounts import Accounts
from server.app_keys import (DATABASE, EVENT_BUS, HEALTH, HTTP, HUB, SEARCH, SEAT_ENGINE, SETTINGS, STORAGE, TOKENS,
                             TOSS, TOSS_SANDBOX)
from server.catalogue.cast import Cast
from server.checkout import Checkout
from server.coupons import Coupons
from server.catalogue.halls import Halls
from server.catalogue.performances import Performances
from server.catalogue.performers import Performers
from server.catalogue.rounds import Rounds
from server.health import Health
from server.kakao import Kakao
from server.notify.events import EventStreams
from server.passwords import Passwords
from server.payments.sandbox import TossSandbox
from server.payments.toss import TossPayments
from server.posters import Posters
from server.reservations import Reservations
from server.revocation import Revocation
from server.reviews import Reviews
from server.search.service import Search
from server.seating import Seating
from seatmap.hub import Hub


@dataclass
class Services:
    accounts: Accounts
    revocation: Revocation
    kakao: Kakao
    health: Health
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
    hub: Hub
    events: EventStreams
    toss: TossPayments
    toss_sandbox: TossSandbox | None      # None unless this server hosts the sandbox
    search: Search


def build_services(app: web.Application) -> Services:
    settings, db, http = app[SETTINGS], app[DATABASE], app[HTTP]
    storage, zone = app[STORAGE], ZoneInfo(settings.timezone)
    seating = Seating(db, app[SEAT_ENGINE], hold_seconds=settings.hold_seconds,
                      max_seats_per_user=settings.max_seats_per_user, zone=zone,
                      max_hold_seconds=settings.max_hold_seconds, hold_cooldown_seconds=settings.hold_cooldown_seconds,
                      hold_rates=tuple((rate.amount, rate.get_expiry() * 1000)
                                       for rate in settings.rate_limit("holds_per_account")))
    passwords = Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib,
                          concurrency=settings.password_hash_concurrency)
    revocation = Revocation(db, ttl_seconds=settings.token_check_seconds)
    coupons = Coupons(db, zone)
    reservations = Reservations(db, seating, coupons, payment_window_seconds=settings.payment_window_seconds,
                                zone=zone)
    return Services(
        accounts=Accounts(db, passwords, app[TOKENS], revocation, settings.admin_signup_key),
        revocation=revocation,
        kakao=Kakao(http, client_id=settings.kakao_client_id, client_secret=settings.kakao_client_secret,
                    auth_url=settings.kakao_auth_url, api_url=settings.kakao_api_url),
        health=app[HEALTH],
        halls=Halls(db),
        performers=Performers(db),
        performances=Performances(db, storage, zone, seating),
        cast=Cast(db),
        rounds=Rounds(db, zone, seating),
        posters=Posters(db, storage),
        seating=seating,
        reservations=reservations,
        coupons=coupons,
        checkout=Checkout(db, app[TOSS], reservations, seating, zone,
                          refund_cutoff_minutes=settings.refund_cutoff_minutes),
        reviews=Reviews(db, zone),
        hub=app[HUB],
        events=EventStreams(db, app[EVENT_BUS], heartbeat_seconds=settings.sse_heartbeat_seconds),
        toss=app[TOSS],
        toss_sandbox=app.get(TOSS_SANDBOX),
        search=app[SEARCH],
    )
