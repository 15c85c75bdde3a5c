"""Typed keys for everything the application holds. Opened and closed in server/resources.py."""
from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from seatmap.engine import SeatEngine
from seatmap.hub import Hub
from server.background import Background
from server.db.database import Database
from server.health import Health
from server.settings import Settings
from server.storage import Storage
from server.tokens import Tokens

if TYPE_CHECKING:
    from server.services import Services

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
TOKENS = web.AppKey("tokens", Tokens)
HEALTH = web.AppKey("health", Health)
HTTP = web.AppKey("http_client", aiohttp.ClientSession)
STORAGE = web.AppKey("storage", Storage)
SEAT_ENGINE = web.AppKey("seat_engine", SeatEngine)
HUB = web.AppKey("hub", Hub)
BACKGROUND = web.AppKey("background", Background)
SERVICES: web.AppKey["Services"] = web.AppKey("services")
