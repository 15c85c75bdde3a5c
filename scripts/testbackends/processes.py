"""Starting backend processes in sessions of their own, and stopping exactly those sessions.

Everything a run starts lives in one throwaway folder and runs in its own session (so Ctrl-C in the
terminal does not hit it); stopping signals every process in those sessions (ES and its launcher,
MariaDB and its restart loop, ...) after checking each session leader's start time, so a stale state
file can never hit an unrelated process that got the same pid.
"""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from testbackends.common import BackendError, say, tail


def spawn(tmp, name, cmd, env=None, **popen_kw):
    """Start a long-running backend in a new session inside tmp; output into <tmp>/<name>.log."""
    log = tmp / f"{name}.log"
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, **(env or {})}, start_new_session=True, **popen_kw)
        except FileNotFoundError:
            raise BackendError(f"{cmd[0]} not found: run scripts/test once, it installs everything") from None
    # New session: its id is the pid. With the start time, stop can tell it from a reused pid.
    (tmp / f"{name}.session").write_text(f"{proc.pid} {proc_stat(proc.pid)[2]}")
    return proc, log


def proc_stat(pid):
    """(state, session id, start time) of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0], fields[3], fields[19]


def run(cmd, log=None, **kw):
    """Run a setup command to completion; its output goes to log (or our stderr)."""
    out = open(log, "ab") if log else sys.stderr
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, **kw)
    finally:
        if log:
            out.close()
    if res.returncode != 0:
        raise BackendError(f"{shlex.join(map(str, cmd))} failed ({res.returncode})\n" + (tail(log) if log else ""))


def sbin(tool):
    """mariadbd lives in /usr/sbin, which is not on every user's PATH."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/local/sbin:/usr/sbin:/sbin")
    if not path:
        raise BackendError(f"{tool} not found (scripts/test installs it)")
    return path


def _our_sessions(tmp):
    """Sessions this run started whose leader is still the process we started."""
    sessions = set()
    for f in Path(tmp).glob("*.session"):
        leader, started = f.read_text().split()
        try:
            if proc_stat(leader)[2] == started:
                sessions.add(leader)
        except OSError:
            pass  # leader is gone
    return sessions


def _live_members(sessions):
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            state, session, _ = proc_stat(proc.name)
        except OSError:
            continue  # exited meanwhile
        if state != "Z" and session in sessions:  # zombies are dead, just not reaped
            pids.append(int(proc.name))
    return pids


def _signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_sessions(tmp, what):
    """SIGTERM to every process of the sessions started in tmp (MariaDB and ES shut down cleanly on
    it), SIGKILL to what is left after 30 s."""
    sessions = _our_sessions(tmp)
    if pids := _live_members(sessions):
        say(f"stopping {what}")
        _signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while (pids := _live_members(sessions)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pids:
            say(f"still running after 30s, killing: {pids}")
            _signal_all(pids, signal.SIGKILL)
