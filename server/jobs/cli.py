"""`python -m server job <name>`: one run of a job in the foreground, recorded like any other.

The process opens the same resources and services as a server (so the job frees seats in the same
Redis, asks the same Toss, deletes posters from the same bucket), minus what a short-lived process
must not start: the background tasks with the job schedule, and the outbox dispatcher — the servers
deliver what the job queued, and a dispatcher stopped as the process ends would leave its claimed
messages waiting for their lease to run out. Without Toss keys, point TICKETBLUE_TOSS_API_URL at a
server's sandbox (http://host:port/sandbox/toss, with that server's TICKETBLUE_TOSS_SANDBOX_KEY): a
sandbox of this process's own knows no payment.
"""
from __future__ import annotations

import logging
import sys
from typing import AsyncIterator

import msgspec
from aiohttp import web

from server import resources
from server.app import create_app
from server.app_keys import EVENT_BUS, JOBS, SETTINGS
from server.jobs.runner import JobRunning
from server.notify.events import open_bus
from server.settings import Settings

log = logging.getLogger(__name__)
EXIT_FAILED, EXIT_RUNNING = 1, 3


async def _bus_only(app: web.Application) -> AsyncIterator[None]:
    """resources.notifications without the dispatcher: the services need the event bus."""
    bus = await open_bus(app[SETTINGS])
    app[EVENT_BUS] = bus
    yield
    await bus.close()


def command_line_app(settings: Settings) -> web.Application:
    app = create_app(msgspec.structs.replace(settings, jobs_scheduled=False))
    app.cleanup_ctx[:] = [_bus_only if c is resources.notifications else c
                          for c in app.cleanup_ctx if c is not resources.background]
    return app


async def run_job(settings: Settings, name: str) -> int:
    runner = web.AppRunner(command_line_app(settings))
    await runner.setup()                   # opens the resources (cleanup contexts), serves nothing
    try:
        run = await runner.app[JOBS].run_here(name, "cli")
    except JobRunning as exc:
        print(f"{name}: {exc.message} (run {exc.details['run_id']})", file=sys.stderr)
        return EXIT_RUNNING
    finally:
        await runner.cleanup()
    counts = " ".join(f"{kind}={count}" for kind, count in sorted(run.counts.items())) or "nothing to do"
    print(f"{name}: run {run.id} {run.status}: {counts}" + (f" — {run.error}" if run.error else ""))
    return 0 if run.status == "succeeded" else EXIT_FAILED
