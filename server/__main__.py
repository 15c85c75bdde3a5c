"""Command line: `python -m server [serve|migrate|demo|reindex|job NAME] ...`. Settings come from TICKETBLUE_* variables."""
from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import textwrap
from typing import get_args

from server import settings as settings_module
from server.jobs.schemas import JobName
from server.settings import SettingsError


def _settings_help() -> str:
    lines = ["settings (environment variables):"]
    for name, default, text in settings_module.describe():
        lines.append(f"  {name}  [default {default}]")
        lines += ["      " + line for line in textwrap.wrap(text, 90)]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m server", description="Ticket Blue booking server.",
                                epilog=_settings_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the server (the default)")
    serve.add_argument("--demo", action="store_true", help="load the demo hall, performance and rounds first "
                                                           "(only into an empty database)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="run N server processes on the port (SO_REUSEPORT), each a whole instance sharing "
                            "the database and Redis, restarted if one dies (needs Redis and Toss; default 1)")
    serve.add_argument("--as-worker", action="store_true", help=argparse.SUPPRESS)   # (one of --workers')
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("demo", help="load the demo hall, performance and rounds into an empty database")
    sub.add_parser("reindex", help="rebuild the Elasticsearch indices from the database (bulk, then an alias "
                                   "swap: search keeps answering meanwhile)")
    job = sub.add_parser("job", help="run one batch job now, in this process, and print what it did (exit 1 if it "
                                     "failed, 3 if it is running elsewhere)")
    job.add_argument("name", choices=get_args(JobName))
    return p


async def _demo(settings, *, serving: bool) -> None:
    from server.demo import DEMO_ADMIN_EMAIL, demo_admin, load_demo
    await load_demo(settings)
    password = await demo_admin(settings) if serving else None
    if password:                       # (printed, not logged: see server/demo.py)
        print(f"demo admin for http://{settings.host}:{settings.port}/admin : {DEMO_ADMIN_EMAIL} / {password} "
              "(a new password at every start)", flush=True)


async def _reindex(settings) -> int:
    from server.db.database import Database
    from server.search.service import open_search
    if not settings.elasticsearch_url:
        print("error: TICKETBLUE_ELASTICSEARCH_URL is not set; SQL search reads the tables, there is no "
              "index to rebuild", file=sys.stderr)
        return 2
    log = logging.getLogger("server.reindex")

    async def progress(kind: str, done: int) -> None:
        log.info("%s: %s indexed", kind, done)
    db = Database(settings.resolved_database_url)
    try:
        async with open_search(settings, db) as search:
            counts = await search.reindex(progress=progress)
    finally:
        await db.close()
    print(" ".join(f"{kind}={count}" for kind, count in counts.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_module.load()
        from server.jobs.service import check_intervals
        check_intervals(settings)          # a bad schedule stops start-up here, naming the variable
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from server.logs import configure
    configure(settings.log_level, settings.log_format)        # every handler redacts ?token= values
    log = logging.getLogger("server")
    command = args.command or "serve"
    if command == "job":
        from server.jobs.cli import run_job
        return asyncio.run(run_job(settings, args.name))
    if command == "reindex":
        return asyncio.run(_reindex(settings))
    if command == "migrate":
        from server.db.migrate import upgrade_url
        asyncio.run(upgrade_url(settings.resolved_database_url))
        log.info("database is up to date")
        return 0
    workers = getattr(args, "workers", 1)
    from server.workers import serve_workers, why_not
    refusal = why_not(settings, workers)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    if workers > 1:                            # once, before any worker: none of them races another to it
        from server.db.migrate import upgrade_url
        asyncio.run(upgrade_url(settings.resolved_database_url))
    if command == "demo" or getattr(args, "demo", False):
        asyncio.run(_demo(settings, serving=command == "serve"))
        if command == "demo":
            return 0
    if workers > 1:
        return serve_workers(settings, workers)
    from server.app import create_app
    from server.http_server import serve
    log.debug("starting with %s", settings_module.safe_summary(settings))
    _tune_gc()
    serve(create_app(settings), host=settings.host, port=settings.port, shutdown_timeout=10,
          event_loop=settings.event_loop, reuse_port=getattr(args, "as_worker", False))
    return 0


def _tune_gc() -> None:
    """Fewer, cheaper garbage collections while serving. The objects made at start-up (modules,
    the app, settings) are frozen out of every collection, and the youngest generation is
    collected every 50,000 allocations instead of 700: with the defaults a request now and then
    paid for a collection of everything, which was most of the hold benchmark's p99 (94 ms -> 20 ms
    at ~2,900 holds/s, benchmarks/RESULTS.md)."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


if __name__ == "__main__":
    sys.exit(main())
