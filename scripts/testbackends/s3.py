"""S3 as moto's server mode (moto_server from the repo's .venv)."""
from testbackends.common import HOST, VENV_BIN, Backend, Started, http_ok, port, wait_until
from testbackends.processes import spawn

PORT = port("TB_TEST_S3_PORT", 15000)


def start(tmp):
    proc, log = spawn(tmp, "moto", [VENV_BIN / "moto_server", "-H", HOST, "-p", str(PORT)])
    return Started(lambda: wait_until(lambda: http_ok(f"http://{HOST}:{PORT}/"), 60, "S3 (moto_server)", proc, log))


S3 = Backend("s3", PORT, start, lambda record: {"TICKETBLUE_TEST_S3_ENDPOINT_URL": f"http://{HOST}:{PORT}"})
