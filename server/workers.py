"""`python -m server serve --workers N`: N server processes on one port, one per core.

Each worker is a whole instance (`python -m server serve --as-worker`), as a second machine's
would be: it shares only the database and Redis with the others, and binds the same port with
SO_REUSEPORT, so the kernel spreads new connections over the workers. The supervisor (this
process, after `python -m server` brought the schema up to date once) restarts a worker that
dies (after a pause that grows while it keeps dying at once), and on SIGTERM or SIGINT passes
the signal on and waits for every worker's graceful shutdown.

What a worker keeps in its own memory cannot be shared, so some settings refuse to run split:
the in-process seat engine (no Redis) and the built-in Toss sandbox (each worker would keep its own
ledger). The usual alternative, several instances behind nginx, is deploy/nginx.conf.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from server.payments import hosts_sandbox
from server.settings import Settings

log = logging.getLogger(__name__)

QUICK_DEATH_SECONDS = 5      # a worker that dies sooner after starting is failing to start
MAX_PAUSE_SECONDS = 10


def why_not(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run in `workers` processes (None: they can)."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers == 1:
        return None
    if not settings.redis_url:
        return ("--workers needs TICKETBLUE_REDIS_URL: without Redis the seats are held in the process's "
                "own memory, which other processes cannot see")
    if hosts_sandbox(settings):
        return ("--workers needs Toss (TICKETBLUE_TOSS_SECRET_KEY) or a sandbox elsewhere "
                "(TICKETBLUE_TOSS_API_URL): the built-in Toss sandbox keeps its ledger in the process's memory")
    if settings.port == 0:
        return "--workers needs a fixed TICKETBLUE_PORT (port 0 would give each worker a port of its own)"
    return None


@dataclass
class Worker:
    number: int
    process: subprocess.Popen | None = None
    started: float = 0.0
    pause: float = 0.0
    due: float = 0.0               # when to start it (again)


class Supervisor:
    def __init__(self, count: int, command: list[str]):
        self._workers = [Worker(i + 1) for i in range(count)]
        self._command = command
        self._stopping = False

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        while not self._stopping:
            now = time.monotonic()
            for worker in self._workers:
                if worker.process is None and now >= worker.due:
                    self._start(worker)
                elif worker.process is not None and worker.process.poll() is not None:
                    self._died(worker, now)
            time.sleep(0.2)                # (a supervisor's poll: nothing waits on it)
        return self._shut_down()

    def _start(self, worker: Worker) -> None:
        worker.process = subprocess.Popen(self._command)
        worker.started = time.monotonic()
        log.info("worker %d started (pid %d)", worker.number, worker.process.pid)

    def _died(self, worker: Worker, now: float) -> None:
        code = worker.process.returncode
        quick = now - worker.started < QUICK_DEATH_SECONDS
        worker.pause = min(MAX_PAUSE_SECONDS, max(0.5, worker.pause * 2)) if quick else 0.0
        worker.due = now + worker.pause
        worker.process = None
        log.error("worker %d exited with %s; starting it again in %.1f s", worker.number, code, worker.pause)

    def _stop(self, signum, frame) -> None:
        self._stopping = True

    def _shut_down(self) -> int:
        running = [w.process for w in self._workers if w.process is not None and w.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)        # each finishes its requests, then exits
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.info("all workers stopped")
        return 0


def serve_workers(settings: Settings, count: int) -> int:
    """The supervisor's whole life (the schema is up to date already): keep `count` workers running
    until told to stop."""
    log.info("serving on port %d with %d workers (SO_REUSEPORT)", settings.port, count)
    return Supervisor(count, [sys.executable, "-m", "server", "serve", "--as-worker"]).run()
