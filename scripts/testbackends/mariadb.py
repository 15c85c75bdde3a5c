"""MariaDB from Debian's packages: a primary with a binary log, and a read replica of it."""
import getpass
import shlex
import shutil
import subprocess
from pathlib import Path

from testbackends.common import HOST, Backend, CannotRun, Started, port, port_answers, say, wait_until
from testbackends.processes import run, sbin, spawn

PRIMARY_PORT = port("TB_TEST_MYSQL_PORT", 13306)
REPLICA_PORT = port("TB_TEST_MYSQL_REPLICA_PORT", 13307)
DATABASES = ("ticketblue_test", "ticketblue_test2")


def _url(port_number):
    return f"mysql+aiomysql://ticketblue:ticketblue@{HOST}:{port_number}/ticketblue_test"


def _install(data, user, log):
    """A fresh data directory. Its bootstrap failed once in many CI runs, and the reason went with the
    temporary directory: so the errors it logged are shown, and it is tried once more."""
    cmd = [sbin("mariadb-install-db"), "--no-defaults", f"--datadir={data}", f"--user={user}",
           "--auth-root-authentication-method=normal", "--skip-test-db"]
    try:
        run(cmd, log)
    except Exception as exc:
        errors = [line for line in Path(log).read_text(errors="replace").splitlines() if "[ERROR]" in line]
        say(f"{data.name}: mariadb-install-db failed, trying once more with an empty directory:\n"
            + "\n".join(errors[-20:] or [str(exc)]))
        shutil.rmtree(data, ignore_errors=True)
        run(cmd, log)


def _server(tmp, name, port_number, *options):
    """The mariadbd command line of one server in tmp/<name>, and its socket and log."""
    data, sock, log = tmp / name, tmp / f"{name}.sock", tmp / f"{name}.log"
    user = getpass.getuser()  # --user=root only works as root; a developer runs as themselves
    _install(data, user, log)
    cmd = [sbin("mariadbd"), "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port_number}",
           f"--bind-address={HOST}", f"--user={user}", "--skip-name-resolve", f"--log-error={log}",
           "--max-connections=500", "--innodb-flush-log-at-trx-commit=2", *options]  # throwaway data: no fsync
    root_sql = [sbin("mariadb"), "--no-defaults", f"--socket={sock}", "-uroot", "-N", "-e"]
    return cmd, root_sql, log


def _answers(root_sql):
    return subprocess.run(root_sql + ["SELECT 1"], capture_output=True).returncode == 0


def start_primary(tmp):
    cmd, root_sql, log = _server(
        tmp, "mysql", PRIMARY_PORT,
        # A pool that holds the benchmarks' million-row tables, as a production server's would
        # (InnoDB takes the memory as it fills it; the tests' small tables never do).
        "--innodb-buffer-pool-size=2G",
        "--server-id=1", "--log-bin=mysql-bin")                   # a binary log for the replica
    proc, _ = spawn(tmp, "mariadbd", cmd)

    def ready():
        wait_until(lambda: _answers(root_sql), 60, "MariaDB", proc, log)
        sql = "".join(f"CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
                      for db in DATABASES)
        for host in (HOST, "localhost"):
            sql += (f"CREATE USER IF NOT EXISTS 'ticketblue'@'{host}' IDENTIFIED BY 'ticketblue';"
                    f"GRANT ALL ON *.* TO 'ticketblue'@'{host}';")
        run(root_sql + [sql])
    return Started(ready)


def _primary_writes_no_binlog():
    """A MariaDB we did not start (reused) can only be replicated if it writes a binary log. Only a
    clear "no" counts: the primary this run is starting answers on its port before its ticketblue
    user exists, and refusing that one (as this once did under load) left the replica tests to fail."""
    res = subprocess.run([sbin("mariadb"), "--no-defaults", f"--host={HOST}", f"--port={PRIMARY_PORT}",
                          "-uticketblue", "-pticketblue", "-N", "-e", "SELECT @@log_bin"],
                         capture_output=True, text=True)
    return res.returncode == 0 and res.stdout.strip() == "0"


def start_replica(tmp):
    """A second MariaDB, a read replica of the first (GTID replication of everything but the
    benchmarks' databases), for the primary/replica tests.

    It runs under a shell loop that starts it again whenever it stops, except while the hold file
    exists: a test stops the replica for real (SQL SHUTDOWN) after creating that file, and brings it
    back by deleting it. The loop is the session leader, so stopping the run ends both."""
    if port_answers(PRIMARY_PORT) and _primary_writes_no_binlog():
        raise CannotRun(f"the MariaDB on port {PRIMARY_PORT} writes no binary log (restart it with this script "
                        "to get one); the replica tests will fail")
    hold = tmp / "mysql-replica.hold"
    cmd, root_sql, log = _server(
        tmp, "mysql-replica", REPLICA_PORT, "--innodb-buffer-pool-size=128M",
        "--server-id=2", "--skip-log-bin", "--relay-log=relay-bin", "--read-only",
        # the 1M-row job benchmarks would only keep a second server busy on two cores
        "--replicate-wild-ignore-table=ticketblue_bench%.%")
    loop = f"while :; do while [ -e {shlex.quote(str(hold))} ]; do sleep 0.2; done; {shlex.join(cmd)}; sleep 0.2; done"
    proc, _ = spawn(tmp, "mariadbd-replica", ["sh", "-c", loop])

    def query(sql):
        return subprocess.run(root_sql + [sql], capture_output=True, text=True)

    def ready():  # after the primary's ready() (needs): its ticketblue user exists by now
        wait_until(lambda: _answers(root_sql), 60, "MariaDB replica", proc, log)
        run(root_sql + [f"CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={PRIMARY_PORT}, "
                        "MASTER_USER='ticketblue', MASTER_PASSWORD='ticketblue', MASTER_USE_GTID=slave_pos, "
                        "MASTER_CONNECT_RETRY=1; START SLAVE;"])
        # caught up far enough: the primary's test database and user have arrived
        wait_until(lambda: query("SELECT COUNT(*) FROM mysql.user WHERE user='ticketblue'").stdout.strip()
                   not in ("", "0") and "ticketblue_test" in query("SHOW DATABASES").stdout.split(),
                   120, "MariaDB replica catching up", proc, log)
    return Started(ready, {"hold_file": str(hold)})


def _replica_exports(record):
    env = {"TICKETBLUE_TEST_MYSQL_REPLICA_URL": _url(REPLICA_PORT)}
    if record.get("hold_file"):   # the test that stops the replica creates this file first
        env["TICKETBLUE_TEST_MYSQL_REPLICA_HOLD_FILE"] = record["hold_file"]
    return env


MYSQL = Backend("mysql", PRIMARY_PORT, start_primary, lambda record: {"TICKETBLUE_TEST_MYSQL_URL": _url(PRIMARY_PORT)})
MYSQL_REPLICA = Backend("mysql_replica", REPLICA_PORT, start_replica, _replica_exports, needs=("mysql",))
