"""Redis from Debian's package, without persistence."""
import shutil
import socket

from testbackends.common import HOST, Backend, Started, port, wait_until
from testbackends.processes import spawn

PORT = port("TB_TEST_REDIS_PORT", 16379)


def pong(port_number):
    with socket.create_connection((HOST, port_number), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def start(tmp):
    (tmp / "redis").mkdir()
    proc, log = spawn(tmp, "redis", [
        shutil.which("redis-server") or "redis-server", "--port", str(PORT), "--bind", HOST,
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(tmp / "redis")])
    return Started(lambda: wait_until(lambda: pong(PORT), 20, "Redis", proc, log))


REDIS = Backend("redis", PORT, start, lambda record: {"TICKETBLUE_TEST_REDIS_URL": f"redis://{HOST}:{PORT}/0"})
