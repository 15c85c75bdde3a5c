"""The HTTP edge: one module per resource. Each declares its endpoints on an `Api`."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from handlers import (accounts, docs, halls, health, pages, performances, performers, reservations, rounds,
                      seatmap_ws, seats)

RESOURCES = [health, accounts, halls, performers, performances, rounds, seats, reservations]


def setup(app: web.Application) -> None:
    endpoints = []
    for module in RESOURCES:
        module.api.add_to(app)
        endpoints += module.api.endpoints
    try:
        app_version = version("ticketblue")
    except PackageNotFoundError:
        app_version = "dev"
    docs.setup(app, endpoints, app_version)
    seatmap_ws.setup(app)
    pages.setup(app)
