"""What every backend record is made of, and the small helpers they share."""
import os
import re
import socket
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"  # moto_server and aiosmtpd are installed there
HOST = "127.0.0.1"


class BackendError(Exception):
    """A backend could not be started: the run stops, and what was started is stopped."""


class CannotRun(Exception):
    """This backend cannot run here (the reason says why): the others still start, its tests fail."""


@dataclass(frozen=True)
class Started:
    ready: Callable[[], None]                     # waits until it answers (raises BackendError)
    record: dict = field(default_factory=dict)    # kept in the state file, for exports and later runs


@dataclass(frozen=True)
class Backend:
    name: str
    port: int                                     # answers when the backend is up: then it is reused
    start: Callable[[Path], Started]              # launch in this run's throwaway folder
    exports: Callable[[dict], dict[str, str]]     # TICKETBLUE_TEST_* variables, from its record
    needs: tuple[str, ...] = ()                   # backends whose ready() must have returned first
    slow: bool = False                            # launched first, so the others start while it boots
    reuse_needs_record: bool = False              # reusing it needs the record of the run that started it


def port(variable: str, default: int) -> int:
    """A backend's port, movable so that several checkouts can run their own backends side by side."""
    return int(os.environ.get(variable, default))


def say(msg):
    print(f"backends: {msg}", file=sys.stderr, flush=True)


def tail(path, lines=30):
    """The last lines of a log, without Java stack frames (they would hide the actual error)."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    text = [line for line in text if not re.match(r"\s+(at |\.\.\. \d+ more)", line)]
    return f"--- last lines of {path} ---\n" + "\n".join(text[-lines:])


def wait_until(check, timeout, what, proc=None, log=None):
    """Poll check() until it is true; fail early if proc died, and show the log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass  # refused / reset / timed out: not up yet
        if proc is not None and proc.poll() is not None:
            raise BackendError(f"{what} exited with code {proc.returncode}\n{tail(log)}")
        if time.monotonic() > deadline:
            raise BackendError(f"{what} did not come up within {timeout}s\n{tail(log)}")
        time.sleep(0.25)


def port_answers(port_number):
    try:
        socket.create_connection((HOST, port_number), timeout=1).close()
        return True
    except OSError:
        return False


def http_ok(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status == 200
