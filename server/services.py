"""The domain services the handlers call, built once per application from its resources."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from server.accounts import Accounts
from server.app_keys import DATABASE, HEALTH, HTTP, SETTINGS, TOKENS
from server.health import Health
from server.kakao import Kakao
from server.passwords import Passwords


@dataclass
class Services:
    accounts: Accounts
    kakao: Kakao
    health: Health


def build_services(app: web.Application) -> Services:
    settings, db, http = app[SETTINGS], app[DATABASE], app[HTTP]
    passwords = Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    return Services(
        accounts=Accounts(db, passwords, app[TOKENS], settings.admin_signup_key),
        kakao=Kakao(http, client_id=settings.kakao_client_id, client_secret=settings.kakao_client_secret,
                    auth_url=settings.kakao_auth_url, api_url=settings.kakao_api_url),
        health=app[HEALTH],
    )
