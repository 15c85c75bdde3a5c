import subprocess
import sys

import pytest

from server.settings import SettingsError, describe, load, safe_summary
from tests.support.instances import ROOT


def test_defaults_are_the_embedded_run(tmp_path):
    s = load(environ={"TICKETBLUE_DATA_DIR": str(tmp_path)})
    assert s.port == 8080 and s.hold_seconds == 300 and s.max_seats_per_user == 8
    assert s.payment_window_seconds == 600 and s.redis_url == "" and s.is_embedded_database
    assert len(s.jwt_secret) >= 32
    assert load(environ={"TICKETBLUE_DATA_DIR": str(tmp_path)}).jwt_secret == s.jwt_secret   # kept


def test_values_are_converted_from_strings(tmp_path):
    s = load(environ={"TICKETBLUE_PORT": "9000", "TICKETBLUE_HOLD_SECONDS": "60", "TICKETBLUE_DATA_DIR": str(tmp_path)})
    assert s.port == 9000 and s.hold_seconds == 60


@pytest.mark.parametrize("name,value", [("TICKETBLUE_PORT", "eighty"), ("TICKETBLUE_PORT", "70000"),
                                        ("TICKETBLUE_HOLD_SECONDS", "0"), ("TICKETBLUE_TIMEZONE", "Mars/Olympus"),
                                        ("TICKETBLUE_REDIS_URL", "localhost:6379"), ("TICKETBLUE_LOG_LEVEL", "LOUD"),
                                        ("TICKETBLUE_JWT_SECRET", "short")])
def test_bad_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        load(environ={name: value, "TICKETBLUE_DATA_DIR": str(tmp_path)})


def test_jwt_secret_is_required_off_the_embedded_database():
    with pytest.raises(SettingsError, match="TICKETBLUE_JWT_SECRET"):
        load(environ={"TICKETBLUE_DATABASE_URL": "mysql+aiomysql://u:p@db/x"})


def test_secrets_are_masked_in_the_logged_summary():
    s = load(environ={"TICKETBLUE_DATABASE_URL": "mysql+aiomysql://app:hunter2hunter2@db/x",
                      "TICKETBLUE_JWT_SECRET": "s" * 40, "TICKETBLUE_TOSS_SECRET_KEY": "test_sk_secret"})
    text = repr(safe_summary(s))
    assert "hunter2hunter2" not in text and "s" * 40 not in text and "test_sk_secret" not in text
    assert "mysql+aiomysql://app:***@db/x" in text


def test_help_lists_every_setting():
    out = subprocess.run([sys.executable, "-m", "server", "--help"], capture_output=True, text=True, check=True).stdout
    for name, _default, _text in describe():
        assert name in out
    assert "migrate" in out and "demo" in out and "serve" in out


def test_bad_setting_stops_start_up_with_a_message(tmp_path):
    run = subprocess.run([sys.executable, "-m", "server", "migrate"], capture_output=True, text=True,
                         env={"TICKETBLUE_PORT": "nope", "TICKETBLUE_DATA_DIR": str(tmp_path), "PATH": ""})
    assert run.returncode == 2 and "TICKETBLUE_PORT" in run.stderr


def test_readme_lists_every_setting_and_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in describe() if f"`{name}`" not in readme]
    assert missing == []
    assert "scripts/test" in readme and "scripts/run" in readme
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "scripts/test"
