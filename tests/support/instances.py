"""Real server processes (`python -m server serve`), for multi-instance tests and benchmarks.

Each instance is a separate OS process with its own event loop, sharing only what production
instances share: the database and Redis.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Callable

import aiohttp

from tests.support.api import ADMIN_KEY, MANY_ACCOUNTS, ApiClient

ROOT = Path(__file__).resolve().parents[2]          # the repository
JWT_SECRET = "instances-jwt-secret-long-enough-for-hs256"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def until_answers(process: subprocess.Popen, method: str, url: str, timeout: float = 30,
                        log: Callable[[], str] = str) -> None:
    """Ask `url` until it answers 200, while `process` (the server behind it) still runs; `log`
    says what the process wrote, for the error if it never does."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server of {url} exited with {process.returncode}: {log()}")
            try:
                async with http.request(method, url, json={} if method == "POST" else None) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer in {timeout} s: {log()}")
            await asyncio.sleep(0.05)


class ServerProcess:
    """One server instance on a free loopback port, configured only through TICKETBLUE_* variables."""

    def __init__(self, data_dir: Path, *, serve_args: tuple[str, ...] = (), **settings: object):
        self.serve_args = serve_args            # after `python -m server serve` (e.g. --workers 2)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"server-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETBLUE_")}
        env.update({"TICKETBLUE_PORT": str(self.port), "TICKETBLUE_DATA_DIR": str(data_dir),
                    "TICKETBLUE_JWT_SECRET": JWT_SECRET, "TICKETBLUE_LOG_LEVEL": "WARNING"})
        env.update({f"TICKETBLUE_{k.upper()}": str(v) for k, v in {**MANY_ACCOUNTS, **settings}.items()})
        self._env = env
        self._process: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        data_dir = self.log_path.parent
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen([sys.executable, "-m", "server", "serve", *self.serve_args], cwd=ROOT,
                                             env=self._env, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self._process.pid

    async def wait_ready(self, timeout: float = 30) -> None:
        """Poll /readyz until every backend answers (the process needs a moment to import and bind)."""
        await until_answers(self._process, "GET", self.url + "/readyz", timeout, log=self.log)

    def kill(self) -> None:
        """SIGKILL: the crash case, no graceful shutdown."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM (graceful shutdown), then SIGKILL if it does not finish in time."""
        if self._process is None or self._process.poll() is not None:
            return self._process.returncode if self._process else 0
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


async def start_instances(count: int, data_dir: Path, **settings: object) -> list[ServerProcess]:
    servers = [ServerProcess(data_dir, **settings).start() for _ in range(count)]
    try:
        await asyncio.gather(*(s.wait_ready() for s in servers))
    except BaseException:
        for s in servers:
            s.kill()
        raise
    return servers


@asynccontextmanager
async def instance_clients(count: int, data_dir: Path, **settings: object) -> AsyncIterator[list[ApiClient]]:
    """`count` server processes with `settings` (and the suite's admin key and quick password hashing),
    an API client on each; all stopped on leaving."""
    servers = await start_instances(count, data_dir, admin_signup_key=ADMIN_KEY, password_hash_time_cost=1,
                                    password_hash_memory_kib=1024, **settings)
    sessions = [aiohttp.ClientSession(base_url=s.url, connector=aiohttp.TCPConnector(limit=0)) for s in servers]
    try:
        yield [ApiClient(s) for s in sessions]
    finally:
        for session in sessions:
            await session.close()
        for server in servers:
            server.stop()
