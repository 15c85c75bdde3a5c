"""`python -m server job <name>`: one run of a job in the foreground, recorded like any other.

The process opens what a short-lived process may (server/wiring.py COMMAND_LINE: a server's
resources and services without its background tasks and outbox dispatcher), with the job schedule
off. Without Toss keys, point TICKETBLUE_TOSS_API_URL at a
server's sandbox (http://host:port/sandbox/toss, with that server's TICKETBLUE_TOSS_SANDBOX_KEY): a
sandbox of this process's own knows no payment.
"""
from __future__ import annotations

import logging
import sys

import msgspec
from aiohttp import web

from server.app import create_app
from server.jobs.runner import JobRunning
from server.settings import Settings
from server.wiring import COMMAND_LINE, JOBS

log = logging.getLogger(__name__)
EXIT_FAILED, EXIT_RUNNING = 1, 3


def command_line_app(settings: Settings) -> web.Application:
    return create_app(msgspec.structs.replace(settings, jobs_scheduled=False), contexts=COMMAND_LINE)


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
