"""The domain services the handlers call, built once per application from its resources."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web

from server.accounts import Accounts
from server.app_keys import DATABASE, HEALTH, HTTP, HUB, SEAT_ENGINE, SETTINGS, STORAGE, TOKENS
from server.catalogue.cast import Cast
from server.catalogue.halls import Halls
from server.catalogue.performances import Performances
from server.catalogue.performers import Performers
from server.catalogue.rounds import Rounds
from server.health import Health
from server.kakao import Kakao
from server.passwords import Passwords
from server.posters import Posters
from server.reservations import Reservations
from server.seating import Seating
from seatmap.hub import Hub


@dataclass
class Services:
    accounts: Accounts
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
    hub: Hub


def build_services(app: web.Application) -> Services:
    settings, db, http = app[SETTINGS], app[DATABASE], app[HTTP]
    storage, zone = app[STORAGE], ZoneInfo(settings.timezone)
    seating = Seating(db, app[SEAT_ENGINE], hold_seconds=settings.hold_seconds,
                      max_seats_per_user=settings.max_seats_per_user, zone=zone)
    passwords = Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    return Services(
        accounts=Accounts(db, passwords, app[TOKENS], settings.admin_signup_key),
        kakao=Kakao(http, client_id=settings.kakao_client_id, client_secret=settings.kakao_client_secret,
                    auth_url=settings.kakao_auth_url, api_url=settings.kakao_api_url),
        health=app[HEALTH],
        halls=Halls(db),
        performers=Performers(db),
        performances=Performances(db, storage, zone),
        cast=Cast(db),
        rounds=Rounds(db, zone),
        posters=Posters(db, storage),
        seating=seating,
        reservations=Reservations(db, seating, payment_window_seconds=settings.payment_window_seconds,
                                  zone=zone),
        hub=app[HUB],
    )
