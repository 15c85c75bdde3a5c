"""The HTTP edge: one module per resource. Each declares its endpoints on an `Api`."""
from __future__ import annotations

from aiohttp import web

from server import app_version

from handlers import (accounts, clock, config, coupons, docs, events, halls, health, jobs, pages, payments,
                      performances, performers, queue_ws, reservations, reviews, rounds, sales_report, sandbox, search,
                      seatmap_ws, seats, socket_transport, tickets, waiting_room)

RESOURCES = [health, clock, accounts, halls, performers, performances, rounds, seats, reservations, payments, coupons,
             waiting_room, sales_report, tickets, reviews, search, events, sandbox, config, jobs]


def setup(app: web.Application) -> None:
    endpoints = []
    for module in RESOURCES:
        module.api.add_to(app)
        endpoints += module.api.endpoints
    docs.setup(app, endpoints, app_version())
    socket_transport.setup(app)
    seatmap_ws.setup(app)
    queue_ws.setup(app)
    events.setup(app)
    sandbox.setup(app)
    pages.setup(app)
