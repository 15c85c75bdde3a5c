#!/usr/bin/env python3
"""Start and stop the real backends the test suite talks to (stdlib only).

    eval "$(scripts/backends.py start)"   # starts what is missing, prints `export ...` lines
    scripts/backends.py stop              # stops only what that start started

moto_server and aiosmtpd come from the repo's .venv, which scripts/test sets up.

A backend whose port already answers (say, a developer's own server) is reused
and never stopped.  Everything we start lives in one throwaway temp dir and runs
in its own session (so Ctrl-C in the terminal does not hit it); `stop` signals
every process in those sessions (ES and its launcher, MariaDB, ...), after
checking each session leader's start time, so a stale state file can never hit
an unrelated process that got the same pid.
Progress goes to stderr, so stdout holds only the export lines.
"""

import argparse
import getpass
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"  # moto_server and aiosmtpd are installed there
HOST = "127.0.0.1"
PORTS = {
    "mysql": int(os.environ.get("TB_TEST_MYSQL_PORT", 13306)),
    "mysql_replica": int(os.environ.get("TB_TEST_MYSQL_REPLICA_PORT", 13307)),
    "redis": int(os.environ.get("TB_TEST_REDIS_PORT", 16379)),
    "smtp": int(os.environ.get("TB_TEST_SMTP_PORT", 11025)),
    "s3": int(os.environ.get("TB_TEST_S3_PORT", 15000)),
    "elasticsearch": int(os.environ.get("TB_TEST_ELASTICSEARCH_PORT", 19200)),
}
ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_USER = "tbsearch"  # Elasticsearch refuses to run as root


class BackendError(Exception):
    pass


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


def port_answers(port):
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def http_ok(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status == 200


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


def install_mariadb(data, user, log):
    """A fresh MariaDB data directory. Its bootstrap failed once in many CI runs, and the reason went
    with the temporary directory: so the errors it logged are shown, and it is tried once more."""
    cmd = [sbin("mariadb-install-db"), "--no-defaults", f"--datadir={data}", f"--user={user}",
           "--auth-root-authentication-method=normal", "--skip-test-db"]
    try:
        run(cmd, log)
    except BackendError as exc:
        errors = [line for line in Path(log).read_text(errors="replace").splitlines() if "[ERROR]" in line]
        say(f"{data.name}: mariadb-install-db failed, trying once more with an empty directory:\n"
            + "\n".join(errors[-20:] or [str(exc)]))
        shutil.rmtree(data, ignore_errors=True)
        run(cmd, log)


# --- one function per backend: launch it and return a function that waits until it is ready ---

def start_mysql(tmp):
    port, data, sock, log = PORTS["mysql"], tmp / "mysql", tmp / "mysqld.sock", tmp / "mariadb.log"
    user = getpass.getuser()  # --user=root only works as root; a developer runs as themselves
    install_mariadb(data, user, log)
    proc, _ = spawn(tmp, "mariadbd", [
        sbin("mariadbd"), "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
        f"--bind-address={HOST}", f"--user={user}", "--skip-name-resolve", f"--log-error={log}",
        # A pool that holds the benchmarks' million-row tables, as a production server's would
        # (InnoDB takes the memory as it fills it; the tests' small tables never do).
        "--innodb-buffer-pool-size=2G", "--max-connections=500",
        # a binary log for the replica (start_mysql_replica); throwaway data: no fsync per commit
        "--server-id=1", "--log-bin=mysql-bin", "--innodb-flush-log-at-trx-commit=2"])
    root_sql = [sbin("mariadb"), "--no-defaults", f"--socket={sock}", "-uroot", "-e"]

    def ready():
        wait_until(lambda: subprocess.run(root_sql + ["SELECT 1"], capture_output=True).returncode == 0,
                   60, "MariaDB", proc, log)
        sql = "".join(
            f"CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
            for db in ("ticketblue_test", "ticketblue_test2"))
        for host in (HOST, "localhost"):
            sql += (f"CREATE USER IF NOT EXISTS 'ticketblue'@'{host}' IDENTIFIED BY 'ticketblue';"
                    f"GRANT ALL ON *.* TO 'ticketblue'@'{host}';")
        run(root_sql + [sql])
    return ready


def primary_logs_binlog():
    """A MariaDB we did not start (reused) can only be replicated if it writes a binary log."""
    res = subprocess.run([sbin("mariadb"), "--no-defaults", f"--host={HOST}", f"--port={PORTS['mysql']}",
                          "-uticketblue", "-pticketblue", "-N", "-e", "SELECT @@log_bin"],
                         capture_output=True, text=True)
    return res.returncode == 0 and res.stdout.strip() == "1"


def start_mysql_replica(tmp):
    """A second MariaDB, a read replica of the first (GTID replication of everything but the
    benchmarks' databases), for the primary/replica tests.

    It runs under a shell loop that starts it again whenever it stops, except while the hold file
    exists: a test stops the replica for real (SQL SHUTDOWN) after creating that file, and brings it
    back by deleting it. The loop is the session leader, so `stop` ends both."""
    if port_answers(PORTS["mysql"]) and not primary_logs_binlog():
        say(f"mysql_replica: not started: the MariaDB reused on port {PORTS['mysql']} writes no binary log "
            "(restart it with this script to get one); the replica tests will fail")
        return None
    port, data, sock = PORTS["mysql_replica"], tmp / "mysql-replica", tmp / "mysqld-replica.sock"
    log, hold = tmp / "mariadb-replica.log", tmp / "mysql-replica.hold"
    user = getpass.getuser()
    install_mariadb(data, user, log)
    mariadbd = [sbin("mariadbd"), "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
                f"--bind-address={HOST}", f"--user={user}", "--skip-name-resolve", f"--log-error={log}",
                "--innodb-buffer-pool-size=128M", "--max-connections=500", "--innodb-flush-log-at-trx-commit=2",
                "--server-id=2", "--skip-log-bin", "--relay-log=relay-bin", "--read-only",
                # the 1M-row job benchmarks would only keep a second server busy on two cores
                "--replicate-wild-ignore-table=ticketblue_bench%.%"]
    loop = (f"while :; do while [ -e {shlex.quote(str(hold))} ]; do sleep 0.2; done; "
            f"{shlex.join(mariadbd)}; sleep 0.2; done")
    proc, _ = spawn(tmp, "mariadbd-replica", ["sh", "-c", loop])
    root_sql = [sbin("mariadb"), "--no-defaults", f"--socket={sock}", "-uroot", "-N", "-e"]

    def query(sql):
        return subprocess.run(root_sql + [sql], capture_output=True, text=True)

    def ready():  # called after the primary's ready(): its ticketblue user exists by now
        wait_until(lambda: query("SELECT 1").returncode == 0, 60, "MariaDB replica", proc, log)
        run(root_sql + [f"CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={PORTS['mysql']}, "
                        "MASTER_USER='ticketblue', MASTER_PASSWORD='ticketblue', MASTER_USE_GTID=slave_pos, "
                        "MASTER_CONNECT_RETRY=1; START SLAVE;"])
        # caught up far enough: the primary's test database and user have arrived
        wait_until(lambda: query("SELECT COUNT(*) FROM mysql.user WHERE user='ticketblue'").stdout.strip()
                   not in ("", "0") and "ticketblue_test" in query("SHOW DATABASES").stdout.split(),
                   120, "MariaDB replica catching up", proc, log)
    return ready, {"replica_hold": str(hold)}


def start_redis(tmp):
    port = PORTS["redis"]
    (tmp / "redis").mkdir()
    proc, log = spawn(tmp, "redis", [
        shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", HOST,
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(tmp / "redis")])

    def pong():
        with socket.create_connection((HOST, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    return lambda: wait_until(pong, 20, "Redis", proc, log)


def start_smtp(tmp, maildir):
    port = PORTS["smtp"]
    # aiosmtpd passes the trailing positional args to Mailbox.from_cli -> Mailbox(maildir)
    proc, log = spawn(tmp, "smtp", [
        VENV_BIN / "python", "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{port}",
        "-c", "aiosmtpd.handlers.Mailbox", str(maildir)])

    def banner():
        with socket.create_connection((HOST, port), timeout=2) as s:
            return s.recv(512).startswith(b"220")
    return lambda: wait_until(banner, 30, "SMTP (aiosmtpd)", proc, log)


def start_s3(tmp):
    port = PORTS["s3"]
    proc, log = spawn(tmp, "moto", [VENV_BIN / "moto_server", "-H", HOST, "-p", str(port)])
    return lambda: wait_until(lambda: http_ok(f"http://{HOST}:{port}/"), 60, "S3 (moto_server)", proc, log)


def find_jdk():
    """Elasticsearch 8 needs JDK 17+ and breaks on 24+; prefer the LTS releases 17 and 21."""
    found = []
    for release in Path("/usr/lib/jvm").glob("*/release"):
        for line in release.read_text(errors="replace").splitlines():
            if line.startswith("JAVA_VERSION="):
                major = int(line.split("=")[1].strip('"').split(".")[0])
                if 17 <= major <= 23 and (release.parent / "bin/java").exists():
                    found.append((major not in (17, 21), major, str(release.parent)))
    if not found:
        raise BackendError("no JDK 17..23 under /usr/lib/jvm (apt-get install openjdk-17-jdk-headless)")
    return min(found)[2]


def es_distribution(cache):
    """Fetch the minimal ES zip from Maven Central once, unzip it once; both kept in cache."""
    home = cache / f"elasticsearch-{ES_VERSION}"
    if home.is_dir():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    zip_path = cache / f"elasticsearch-{ES_VERSION}.zip"
    if not zip_path.exists():
        say(f"downloading {ES_ARTIFACT} with maven")
        run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={cache}"],
            cache / "mvn.log")  # shown only if it fails
    partial = Path(tempfile.mkdtemp(dir=cache, prefix=".unzip-"))  # a Ctrl-C never leaves half a tree
    run(["unzip", "-q", zip_path, "-d", partial])
    (partial / home.name).rename(home)
    shutil.rmtree(partial)
    return home


def start_elasticsearch(tmp):
    port, es = PORTS["elasticsearch"], tmp / "es"
    as_root = os.geteuid() == 0
    if as_root and subprocess.run(["id", ES_USER], capture_output=True).returncode != 0:
        run(["useradd", "-r", "-m", "-s", "/usr/sbin/nologin", ES_USER])
    user = pwd.getpwnam(ES_USER) if as_root else pwd.getpwuid(os.getuid())
    # The cache sits in the home of the user that runs ES: root's home is not readable by tbsearch.
    home = es_distribution(Path(user.pw_dir) / ".cache" / "ticketblue")
    # ES writes into its config dir (keystore) on first start: give it a private copy.
    shutil.copytree(home / "config", es / "config")
    for sub in ("data", "logs", "tmp"):
        (es / sub).mkdir()
    if as_root:
        run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", es])
    env = {
        "ES_JAVA_HOME": find_jdk(), "ES_JAVA_OPTS": "-Xms512m -Xmx512m",
        "ES_PATH_CONF": str(es / "config"), "ES_TMPDIR": str(es / "tmp"),
        "CLI_JAVA_OPTS": f"-Djava.io.tmpdir={es / 'tmp'}",  # else the launcher leaves temp dirs in /tmp
        "HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name,
    }
    settings = {
        "discovery.type": "single-node", "cluster.name": "ticketblue-test",
        "http.host": HOST, "http.port": port, "transport.host": HOST, "transport.port": port + 100,
        "path.data": es / "data", "path.logs": es / "logs", "xpack.security.enabled": "false",
        # ingest.geoip.downloader.enabled is rejected: this distribution has no ingest-geoip module
    }
    cmd = [home / "bin/elasticsearch"] + [f"-E{k}={v}" for k, v in settings.items()]
    drop = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[]) if as_root else {}
    proc, log = spawn(tmp, "elasticsearch", cmd, env, cwd=es, **drop)
    health = f"http://{HOST}:{port}/_cluster/health?wait_for_status=yellow&timeout=5s"
    return lambda: wait_until(lambda: http_ok(health), 180, "Elasticsearch", proc, log)


# --- start / stop ---

def load(state_path):
    return json.loads(state_path.read_text()) if state_path.exists() else None


def save(state_path, state):
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=2) + "\n")


def recorded(state_path, key):
    """What the state file of the run that started a reused backend says about it (a path)."""
    for other in sorted(state_path.parent.glob("*.json")):
        value = (load(other) or {}).get(key)
        if other != state_path and value and Path(value).parent.is_dir():
            return value
    return None


def known_maildir(state_path):
    """A reused SMTP server: its maildir is recorded in the state file of the run that started it."""
    maildir = recorded(state_path, "maildir")
    if maildir and Path(maildir).is_dir():
        return maildir
    raise BackendError(f"an SMTP server already answers on port {PORTS['smtp']}, but no state file in "
                       f"{state_path.parent} records its maildir; stop it or let this script start it")


def start(state_path):
    if load(state_path):
        say(f"{state_path} exists: cleaning up what that earlier run left behind")
        stop(state_path)
    tmp = Path(tempfile.mkdtemp(prefix="ticketblue-backends-"))
    tmp.chmod(0o711)  # the ES user must reach its own subdir
    state = {"tmpdir": str(tmp), "started": [], "maildir": None}
    save(state_path, state)  # before spawning anything, so stop can always clean up
    starters = {  # slowest first, so the others start while Elasticsearch boots
        # the replica before the primary: ready() runs in reverse, and the replica's needs the primary's done
        "elasticsearch": start_elasticsearch, "mysql_replica": start_mysql_replica, "mysql": start_mysql,
        "redis": start_redis,
        "s3": start_s3, "smtp": lambda t: start_smtp(t, t / "maildir"),
    }
    waiting, reused = [], []
    try:
        for name, starter in starters.items():
            if port_answers(PORTS[name]):
                say(f"{name}: reusing what already answers on port {PORTS[name]}")
                if name == "smtp":
                    maildir = known_maildir(state_path)
                reused.append(name)
                continue
            began = time.monotonic()
            started = starter(tmp)
            if started is None:  # cannot run here (said why); its tests fail, the others run
                continue
            if isinstance(started, tuple):  # (ready, what to record for later runs that reuse it)
                started, extra = started
                state.update(extra)
            waiting.append((name, began, started))
            state["started"].append(name)
            if name == "smtp":
                maildir = state["maildir"] = str(tmp / "maildir")
            save(state_path, state)
        for name, began, ready in reversed(waiting):  # quick ones first, Elasticsearch last
            ready()
            say(f"{name}: up on port {PORTS[name]} after {time.monotonic() - began:.1f}s")
    except BaseException as exc:  # also Ctrl-C: leave nothing running
        if isinstance(exc, BackendError):
            say(f"ERROR: {exc}")
        stop(state_path)
        raise SystemExit(1) if isinstance(exc, BackendError) else exc
    env = {
        "TICKETBLUE_TEST_MYSQL_URL": f"mysql+aiomysql://ticketblue:ticketblue@{HOST}:{PORTS['mysql']}/ticketblue_test",
        "TICKETBLUE_TEST_REDIS_URL": f"redis://{HOST}:{PORTS['redis']}/0",
        "TICKETBLUE_TEST_ELASTICSEARCH_URL": f"http://{HOST}:{PORTS['elasticsearch']}",
        "TICKETBLUE_TEST_S3_ENDPOINT_URL": f"http://{HOST}:{PORTS['s3']}",
        "TICKETBLUE_TEST_SMTP_URL": f"smtp://{HOST}:{PORTS['smtp']}",
        "TICKETBLUE_TEST_MAILDIR": maildir,
    }
    if "mysql_replica" in state["started"] + reused:
        env["TICKETBLUE_TEST_MYSQL_REPLICA_URL"] = (
            f"mysql+aiomysql://ticketblue:ticketblue@{HOST}:{PORTS['mysql_replica']}/ticketblue_test")
    replica_hold = state.get("replica_hold") or recorded(state_path, "replica_hold")
    if replica_hold and "mysql_replica" in state["started"] + reused:  # the test that stops the replica creates this file first (see start_mysql_replica)
        env["TICKETBLUE_TEST_MYSQL_REPLICA_HOLD_FILE"] = replica_hold
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")


def our_sessions(tmp):
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


def live_members(sessions):
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            state, session, _ = proc_stat(proc.name)
        except OSError:
            continue  # exited meanwhile
        if state != "Z" and session in sessions:  # zombies are dead, just not reaped
            pids.append(int(proc.name))
    return pids


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop(state_path):
    state = load(state_path)
    if not state:
        return
    tmp = state["tmpdir"]
    sessions = our_sessions(tmp)
    if pids := live_members(sessions):
        say(f"stopping {', '.join(state['started']) or 'leftovers'}")
        signal_all(pids, signal.SIGTERM)  # MariaDB and ES shut down cleanly on SIGTERM
        deadline = time.monotonic() + 30
        while (pids := live_members(sessions)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pids:
            say(f"still running after 30s, killing: {pids}")
            signal_all(pids, signal.SIGKILL)
    shutil.rmtree(tmp, ignore_errors=True)
    state_path.unlink()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, default=ROOT / ".backends" / "state.json",
                        help="where start records what it started, for stop (default: %(default)s)")
    args = parser.parse_args()
    start(args.state) if args.action == "start" else stop(args.state)


if __name__ == "__main__":
    main()
