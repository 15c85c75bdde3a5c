"""The production topology on this machine, natively: scripts/stack up|down|status (stdlib only).

    nginx (deploy/nginx.conf) ─► two `python -m server serve` instances ─► MariaDB primary + replica,
    Prometheus (deploy/prometheus.yml) ─┘ scraping both             Redis, Elasticsearch, S3 (moto), SMTP

The backends are the test backends (scripts/testbackends, the same records scripts/backends.py starts):
reused where they already answer on their ports (TB_TEST_<NAME>_PORT), started otherwise, and stopped
by `down` only if this stack started them. The stack keeps its data apart from the tests': database
ticketblue_stack, Redis database 1, Elasticsearch indices ticketblue-stack-*; each `up` starts them
empty. nginx listens on TB_STACK_PORT (default 8000), the instances on the next two ports, Prometheus
on TB_STACK_PORT + 9. The instances get deploy/app.env (the settings compose gives them too), the
backends' addresses, and every TICKETBLUE_* variable of this command's environment on top.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from testbackends.common import HOST, ROOT, VENV_BIN, BackendError, http_ok, port, port_answers, wait_until
from testbackends.elasticsearch import ELASTICSEARCH
from testbackends.mariadb import MYSQL, MYSQL_REPLICA
from testbackends.processes import run, sbin, spawn, stop_sessions
from testbackends.redis import REDIS
from testbackends.s3 import S3
from testbackends.smtp import SMTP
from testbackends.supervisor import load, save, start as start_backends, stop as stop_backends

DEPLOY = ROOT / "deploy"
BACKENDS = (ELASTICSEARCH, MYSQL, MYSQL_REPLICA, REDIS, S3, SMTP)
NGINX_PORT = port("TB_STACK_PORT", 8000)
APP_PORTS = (NGINX_PORT + 1, NGINX_PORT + 2)
PROMETHEUS_PORT = NGINX_PORT + 9
DATABASE = "ticketblue_stack"
REDIS_DATABASE = 1
INDEX_PREFIX = "ticketblue-stack"


def say(msg: str) -> None:
    print(f"stack: {msg}", file=sys.stderr, flush=True)


def urls() -> dict[str, str]:
    return {"nginx": f"http://{HOST}:{NGINX_PORT}",
            **{f"app{n}": f"http://{HOST}:{p}" for n, p in enumerate(APP_PORTS, 1)},
            "prometheus": f"http://{HOST}:{PROMETHEUS_PORT}"}


def render(template: str, values: dict[str, str]) -> str:
    """${TB_NAME} filled in, as the nginx image's envsubst does; a name without a value is an error."""
    def fill(match):
        if match.group(1) not in values:
            raise BackendError(f"deploy/nginx.conf names ${{{match.group(1)}}}, which scripts/stack does not set")
        return values[match.group(1)]
    return re.sub(r"\$\{(TB_\w+)\}", fill, template)


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (compose's env_file format, without quoting), comments and blank lines skipped."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def with_path(url: str, path: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path=path).geturl()


# ---- the stack's own data on the shared backends, emptied -----------------------------------------
def fresh_data(exports: dict[str, str], log: Path) -> None:
    db = urllib.parse.urlsplit(exports["TICKETBLUE_TEST_MYSQL_URL"])
    run([sbin("mariadb"), "--no-defaults", f"--host={db.hostname}", f"--port={db.port}", f"--user={db.username}",
         f"--password={db.password}", "-e", f"DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE} "
         "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"], log)   # the replica follows through the binlog
    redis = urllib.parse.urlsplit(exports["TICKETBLUE_TEST_REDIS_URL"])
    run([shutil.which("redis-cli") or "redis-cli", "-h", redis.hostname, "-p", str(redis.port),
         "-n", str(REDIS_DATABASE), "FLUSHDB"], log)
    es = exports["TICKETBLUE_TEST_ELASTICSEARCH_URL"]
    with urllib.request.urlopen(f"{es}/_cat/indices/{INDEX_PREFIX}-*?h=index&format=json", timeout=10) as resp:
        indices = [row["index"] for row in json.load(resp)]
    for index in indices:   # by name: Elasticsearch refuses to delete by wildcard
        urllib.request.urlopen(urllib.request.Request(f"{es}/{index}", method="DELETE"), timeout=10).close()
    s3 = exports["TICKETBLUE_TEST_S3_ENDPOINT_URL"]
    try:        # moto takes an unsigned request; the bucket outlives a stack only while moto runs
        urllib.request.urlopen(urllib.request.Request(f"{s3}/posters", method="PUT"), timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:                         # already there
            raise


def app_environment(exports: dict[str, str]) -> dict[str, str]:
    """What both instances are told: deploy/app.env, where the backends are, then the caller's TICKETBLUE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETBLUE_")}
    env.update(env_file(DEPLOY / "app.env"))
    database = with_path(exports["TICKETBLUE_TEST_MYSQL_URL"], f"/{DATABASE}")
    replica = with_path(exports["TICKETBLUE_TEST_MYSQL_REPLICA_URL"], f"/{DATABASE}")
    env.update({
        "TICKETBLUE_HOST": HOST,
        "TICKETBLUE_DATABASE_URL": database,
        "TICKETBLUE_REPLICA_URLS": replica,
        "TICKETBLUE_REDIS_URL": with_path(exports["TICKETBLUE_TEST_REDIS_URL"], f"/{REDIS_DATABASE}"),
        "TICKETBLUE_ELASTICSEARCH_URL": exports["TICKETBLUE_TEST_ELASTICSEARCH_URL"],
        "TICKETBLUE_ELASTICSEARCH_INDEX_PREFIX": INDEX_PREFIX,
        "TICKETBLUE_S3_ENDPOINT_URL": exports["TICKETBLUE_TEST_S3_ENDPOINT_URL"],
        "TICKETBLUE_SMTP_URL": exports["TICKETBLUE_TEST_SMTP_URL"],
        "TICKETBLUE_TRUSTED_PROXIES": HOST,          # nginx, on this machine
    })
    env.update({k: v for k, v in os.environ.items()
                if k.startswith("TICKETBLUE_") and not k.startswith("TICKETBLUE_TEST_")})
    return env


# ---- the stack's own processes ----------------------------------------------------------------------
def start_apps(tmp: Path, env: dict[str, str]) -> None:
    run([VENV_BIN / "python", "-m", "server", "migrate"], tmp / "migrate.log", env=env, cwd=ROOT)
    # app1 hosts the built-in Toss sandbox; app2 pays through it (as in compose.yml)
    sandbox = {"TICKETBLUE_TOSS_API_URL": f"http://{HOST}:{APP_PORTS[0]}/sandbox/toss"}
    started = []
    for n, app_port in enumerate(APP_PORTS, 1):
        data = tmp / f"app{n}"
        data.mkdir()
        proc, log = spawn(tmp, f"app{n}", [VENV_BIN / "python", "-m", "server", "serve"], cwd=ROOT,
                          env={**env, **(sandbox if n > 1 else {}),
                               "TICKETBLUE_PORT": str(app_port), "TICKETBLUE_DATA_DIR": str(data)})
        started.append((n, app_port, proc, log))
    for n, app_port, proc, log in started:
        wait_until(lambda: http_ok(f"http://{HOST}:{app_port}/readyz"), 60, f"app{n}", proc, log)


def start_nginx(tmp: Path) -> None:
    folder = tmp / "nginx"
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(render((DEPLOY / "nginx.conf").read_text(), {
        "TB_LISTEN": f"{HOST}:{NGINX_PORT}", "TB_RUN_DIR": str(folder),
        "TB_APP1": f"{HOST}:{APP_PORTS[0]}", "TB_APP2": f"{HOST}:{APP_PORTS[1]}"}))
    # -e: errors before the configuration is read go to stderr, not to Debian's /var/log/nginx
    proc, log = spawn(tmp, "nginx", [sbin("nginx"), "-e", "stderr", "-p", str(folder), "-c", str(conf),
                                     "-g", "daemon off;"])
    wait_until(lambda: http_ok(f"{urls()['nginx']}/healthz"), 20, "nginx", proc, log)


def start_prometheus(tmp: Path) -> None:
    """deploy/prometheus.yml as it is, beside the file_sd list of this stack's instances."""
    folder = tmp / "prometheus"
    (folder / "targets").mkdir(parents=True)
    shutil.copy(DEPLOY / "prometheus.yml", folder / "prometheus.yml")
    (folder / "targets" / "ticketblue.json").write_text(json.dumps(
        [{"targets": [f"{HOST}:{p}" for p in APP_PORTS], "labels": {"deployment": "native"}}]))
    proc, log = spawn(tmp, "prometheus", [
        shutil.which("prometheus") or "prometheus", f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address={HOST}:{PROMETHEUS_PORT}"])
    wait_until(lambda: http_ok(f"{urls()['prometheus']}/-/ready"), 30, "Prometheus", proc, log)


# ---- the commands ---------------------------------------------------------------------------------
def backends_state(state_path: Path) -> Path:
    """Beside the stack's state, where supervisor.recorded() finds the records of reused backends."""
    return state_path.with_name(f"{state_path.stem}-backends.json")


def up(state_path: Path) -> None:
    if load(state_path):
        say(f"{state_path} exists: stopping what that earlier stack left behind")
        down(state_path)
    for name, url in urls().items():
        if port_answers(urllib.parse.urlsplit(url).port):
            raise SystemExit(f"stack: {url} ({name}) is taken: set TB_STACK_PORT to move the stack's ports")
    exports = start_backends(backends_state(state_path), BACKENDS)
    tmp = Path(tempfile.mkdtemp(prefix="ticketblue-stack-"))
    save(state_path, {"tmpdir": str(tmp), "backends_state": str(backends_state(state_path)), "urls": urls()})
    try:
        fresh_data(exports, tmp / "setup.log")
        start_apps(tmp, app_environment(exports))
        start_nginx(tmp)
        start_prometheus(tmp)
    except BaseException as exc:   # also Ctrl-C: leave nothing running
        if isinstance(exc, BackendError):
            say(f"ERROR: {exc}")
        down(state_path)
        raise SystemExit(1) if isinstance(exc, BackendError) else exc
    say(f"up; logs in {tmp}; `scripts/stack down` stops it")
    for name, url in urls().items():
        print(f"{name:<11} {url}")


def down(state_path: Path) -> None:
    state = load(state_path)
    if not state:
        say("no stack is running (nothing recorded)")
        return
    stop_sessions(state["tmpdir"], "the stack (nginx, instances, Prometheus)")
    shutil.rmtree(state["tmpdir"], ignore_errors=True)
    stop_backends(Path(state["backends_state"]))
    state_path.unlink()


def status(state_path: Path) -> int:
    """What the recorded stack (else one on TB_STACK_PORT) answers; exit 1 unless all of it is up."""
    state = load(state_path)
    addresses = (state or {}).get("urls") or urls()
    answering = {name: port_answers(urllib.parse.urlsplit(url).port) for name, url in addresses.items()}
    print(f"stack recorded in {state_path}, logs in {state['tmpdir']}" if state else "no stack recorded")
    for name, url in addresses.items():
        print(f"{name:<11} {url:<28} {'up' if answering[name] else 'down'}")
    return 0 if state and all(answering.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--state", type=Path, default=ROOT / ".backends" / "stack.json",
                        help="where up records what it started, for down (default: %(default)s)")
    args = parser.parse_args()
    if args.action == "up":
        up(args.state)
    elif args.action == "down":
        down(args.state)
    else:
        return status(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
