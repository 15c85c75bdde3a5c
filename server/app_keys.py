"""Typed keys for everything the application holds. Opened and closed in server/resources.py."""
from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from server.db.database import Database
from server.health import Health
from server.settings import Settings
from server.tokens import Tokens

if TYPE_CHECKING:
    from server.services import Services

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
TOKENS = web.AppKey("tokens", Tokens)
HEALTH = web.AppKey("health", Health)
HTTP = web.AppKey("http_client", aiohttp.ClientSession)
SERVICES: web.AppKey["Services"] = web.AppKey("services")
