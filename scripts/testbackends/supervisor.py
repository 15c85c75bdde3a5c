"""Start what is missing, in the order the backends' needs give; stop only what we started.

A backend whose port already answers (a developer's own server, or one an earlier run left up) is
reused and never stopped; its record (a maildir, a hold file) comes from the state file of the run
that started it. Every run keeps its own state file, so stop ends exactly what its start started.
"""
import json
import shutil
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path

from testbackends.common import BackendError, CannotRun, port_answers, say
from testbackends.processes import stop_sessions


def start_order(backends):
    """Needs first; among the backends free to go, the slow ones first, so the rest start while
    they boot. Their ready() calls then run in the same order."""
    by_name = {b.name: b for b in backends}
    graph = TopologicalSorter({b.name: b.needs for b in backends})
    graph.prepare()
    order = []
    while graph.is_active():
        free = sorted(graph.get_ready(), key=lambda name: (not by_name[name].slow, name))
        order += [by_name[name] for name in free]
        graph.done(*free)
    return order


def load(state_path):
    return json.loads(state_path.read_text()) if state_path.exists() else None


def save(state_path, state):
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=2) + "\n")


def recorded(state_path, name):
    """The record that the run which started a reused backend kept of it (None if none is found)."""
    for other in sorted(state_path.parent.glob("*.json")):
        record = ((load(other) or {}).get("records") or {}).get(name)
        if other != state_path and record and Path((load(other) or {})["tmpdir"]).is_dir():
            return record
    return None


def start(state_path, backends):
    """Start what is missing; returns the TICKETBLUE_TEST_* variables of every backend that is up."""
    if load(state_path):
        say(f"{state_path} exists: cleaning up what that earlier run left behind")
        stop(state_path)
    tmp = Path(tempfile.mkdtemp(prefix="ticketblue-backends-"))
    tmp.chmod(0o711)  # the ES user must reach its own subdir
    state = {"tmpdir": str(tmp), "started": [], "records": {}}
    save(state_path, state)  # before spawning anything, so stop can always clean up
    up, waiting = {}, []
    try:
        for backend in start_order(backends):
            if port_answers(backend.port):
                say(f"{backend.name}: reusing what already answers on port {backend.port}")
                record = recorded(state_path, backend.name)
                if record is None and backend.reuse_needs_record:
                    raise BackendError(f"{backend.name} already answers on port {backend.port}, but no state "
                                       f"file in {state_path.parent} records it; stop it or let this script "
                                       "start it")
                up[backend.name] = record or {}
                continue
            began = time.monotonic()
            try:
                started = backend.start(tmp)
            except CannotRun as why:
                say(f"{backend.name}: not started: {why}")
                continue
            state["started"].append(backend.name)
            state["records"][backend.name] = up[backend.name] = started.record
            save(state_path, state)
            waiting.append((backend, began, started))
        for backend, began, started in waiting:
            started.ready()
            say(f"{backend.name}: up on port {backend.port} after {time.monotonic() - began:.1f}s")
    except BaseException as exc:  # also Ctrl-C: leave nothing running
        if isinstance(exc, BackendError):
            say(f"ERROR: {exc}")
        stop(state_path)
        raise SystemExit(1) if isinstance(exc, BackendError) else exc
    return {key: value for backend in backends if backend.name in up
            for key, value in backend.exports(up[backend.name]).items()}


def stop(state_path):
    state = load(state_path)
    if not state:
        return
    stop_sessions(state["tmpdir"], ", ".join(state["started"]) or "leftovers")
    shutil.rmtree(state["tmpdir"], ignore_errors=True)
    state_path.unlink()
