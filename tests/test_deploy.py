"""The deployment files: compose.yml is accepted by the compose CLI and wires what the native stack
wires (the same nginx and Prometheus files), and the Grafana dashboard's every query names only
metrics the server exports (read from a real application's /metrics)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from server.app import create_app
from tests.support.api import ApiClient
from tests.support.backends import settings_for, sqlite_copy

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "ticketblue.json"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"

# Series of Prometheus's own that a panel may name.
PROMETHEUS_OWN = {"up"}
# The samples each metric type writes, besides its TYPE line's name.
SAMPLE_SUFFIXES = {"counter": ("", "_total"), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count"),
                   "summary": ("", "_sum", "_count"), "info": ("_info",), "stateset": ("",), "unknown": ("",),
                   "untyped": ("",)}
METRIC_NAME = re.compile(r"\bticketblue_[a-z0-9_]+\b|\bup\b")


# ---- compose.yml --------------------------------------------------------------------------------------
def compose_cli() -> list[str]:
    """Docker's own `docker compose` where it is installed, else Debian's docker-compose (scripts/install)."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("no compose CLI: scripts/install installs Debian's docker-compose", pytrace=False)


def compose_config(*options: str) -> dict:
    """compose.yml as the CLI resolves it (anchors, env_file, profiles), with no engine needed."""
    done = subprocess.run([*compose_cli(), "-f", str(ROOT / "compose.yml"), *options, "config"], cwd=ROOT,
                          capture_output=True, text=True, env={"PATH": "/usr/local/bin:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def mounted(service: dict, target: str) -> Path:
    """The file of this repository mounted at `target` in a service."""
    for volume in service["volumes"]:
        source, _, rest = (volume if isinstance(volume, str) else f"{volume['source']}:{volume['target']}").partition(":")
        if rest.split(":")[0] == target:
            return Path(source).resolve().relative_to(ROOT)
    raise AssertionError(f"nothing mounted at {target}")


def test_compose_has_the_production_shape():
    services = compose_config()["services"]
    assert {"nginx", "app1", "app2", "mysql", "mysql-replica", "redis", "elasticsearch", "minio", "mailpit",
            "prometheus", "grafana"} <= set(services)
    app1, app2 = services["app1"]["environment"], services["app2"]["environment"]
    # The same settings but one: app1 hosts the Toss sandbox, app2 pays through it.
    assert {k: v for k, v in app2.items() if k != "TICKETBLUE_TOSS_API_URL"} == app1
    assert app2["TICKETBLUE_TOSS_API_URL"] == "http://app1:8080/sandbox/toss"
    assert "mysql-replica" in app1["TICKETBLUE_REPLICA_URLS"]
    nginx = services["nginx"]
    assert app1["TICKETBLUE_TRUSTED_PROXIES"] == nginx["networks"]["default"]["ipv4_address"]
    # The files the native stack (scripts/stack) uses, not copies of them.
    assert mounted(nginx, "/etc/nginx/templates/nginx.conf.template") == Path("deploy/nginx.conf")
    assert {nginx["environment"]["TB_APP1"], nginx["environment"]["TB_APP2"]} == {"app1:8080", "app2:8080"}
    assert mounted(services["prometheus"], "/etc/prometheus/prometheus.yml") == Path("deploy/prometheus.yml")
    targets = mounted(services["prometheus"], "/etc/prometheus/targets/ticketblue.json")
    assert json.loads((ROOT / targets).read_text())[0]["targets"] == ["app1:8080", "app2:8080"]
    assert mounted(services["grafana"], "/var/lib/grafana/dashboards") == DASHBOARD.parent.relative_to(ROOT)


def test_compose_has_the_redis_cluster_as_a_profile():
    assert compose_config("--profile", "cluster")["services"]["redis-cluster"]["profiles"] == ["cluster"]


# ---- the Grafana dashboard ------------------------------------------------------------------------------
@pytest.fixture
async def exported(aiohttp_client, tmp_path, sqlite_template) -> set[str]:
    """The names of every sample a real application's /metrics can write."""
    app = create_app(settings_for(tmp_path, sqlite_copy(sqlite_template, tmp_path)))
    reply = await ApiClient(await aiohttp_client(app)).get("/metrics")
    assert reply.status == 200
    names = set()
    for line in reply.json.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names |= {name + suffix for suffix in SAMPLE_SUFFIXES[kind]}
        elif line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group())
    return names


def dashboard_panels() -> list[dict]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_the_dashboard_is_provisioned_panels_with_queries():
    dashboard = json.loads(DASHBOARD.read_text())
    uid = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]["uid"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"]
    for panel in dashboard_panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == panel["datasource"]["uid"] == uid, panel["title"]
            assert METRIC_NAME.search(target["expr"]), (panel["title"], target["expr"])


def test_every_dashboard_query_names_only_exported_metrics(exported):
    unknown = {(panel["title"], name) for panel in dashboard_panels() for target in panel["targets"]
               for name in METRIC_NAME.findall(target["expr"])
               if name not in exported | PROMETHEUS_OWN}
    assert not unknown, f"panels naming metrics the server does not export: {sorted(unknown)}"
