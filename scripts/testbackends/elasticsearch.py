"""Elasticsearch 8 from Maven Central's minimal `integ-test-zip`, on Debian's JDK, security off."""
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from testbackends.common import HOST, Backend, BackendError, Started, http_ok, port, say, wait_until
from testbackends.processes import run, spawn

PORT = port("TB_TEST_ELASTICSEARCH_PORT", 19200)
VERSION = "8.19.21"
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
USER = "tbsearch"  # Elasticsearch refuses to run as root


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


def distribution(cache):
    """Fetch the minimal ES zip from Maven Central once, unzip it once; both kept in cache."""
    home = cache / f"elasticsearch-{VERSION}"
    if home.is_dir():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    zip_path = cache / f"elasticsearch-{VERSION}.zip"
    if not zip_path.exists():
        say(f"downloading {ARTIFACT} with maven")
        run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={cache}"],
            cache / "mvn.log")  # shown only if it fails
    partial = Path(tempfile.mkdtemp(dir=cache, prefix=".unzip-"))  # a Ctrl-C never leaves half a tree
    run(["unzip", "-q", zip_path, "-d", partial])
    (partial / home.name).rename(home)
    shutil.rmtree(partial)
    return home


def start(tmp):
    es = tmp / "es"
    as_root = os.geteuid() == 0
    if as_root and subprocess.run(["id", USER], capture_output=True).returncode != 0:
        run(["useradd", "-r", "-m", "-s", "/usr/sbin/nologin", USER])
    user = pwd.getpwnam(USER) if as_root else pwd.getpwuid(os.getuid())
    # The cache sits in the home of the user that runs ES: root's home is not readable by tbsearch.
    home = distribution(Path(user.pw_dir) / ".cache" / "ticketblue")
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
        "http.host": HOST, "http.port": PORT, "transport.host": HOST, "transport.port": PORT + 100,
        "path.data": es / "data", "path.logs": es / "logs", "xpack.security.enabled": "false",
        # ingest.geoip.downloader.enabled is rejected: this distribution has no ingest-geoip module
    }
    cmd = [home / "bin/elasticsearch"] + [f"-E{k}={v}" for k, v in settings.items()]
    drop = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[]) if as_root else {}
    proc, log = spawn(tmp, "elasticsearch", cmd, env, cwd=es, **drop)
    health = f"http://{HOST}:{PORT}/_cluster/health?wait_for_status=yellow&timeout=5s"
    return Started(lambda: wait_until(lambda: http_ok(health), 180, "Elasticsearch", proc, log))


ELASTICSEARCH = Backend("elasticsearch", PORT, start,
                        lambda record: {"TICKETBLUE_TEST_ELASTICSEARCH_URL": f"http://{HOST}:{PORT}"}, slow=True)
