"""Property-based tests of the whole REST API: schemathesis generates requests from the live
/openapi.json (valid ones and ones that break the document's rules) for every operation, as a user
and as an admin, against a real server process, and fails on any 5xx or any answer the document
does not describe (status, content type, body). Endpoints added later are covered once they are
declared. The WebSocket seat map and /sandbox are not in the document; tests/test_seatmap_ws.py,
tests/test_bad_input.py and tests/test_toss_sandbox.py send them bad frames and bodies by hand.
"""
from __future__ import annotations

import uuid

import aiohttp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from handlers import RESOURCES
from handlers.docs import openapi
from tests.support.api import ADMIN_KEY, PASSWORD, ApiClient
from tests.support.backends import run_in_fresh_loop
from tests.support.factories import make_round
from tests.support.instances import ServerProcess

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def server_process(tmp_path_factory):
    """`python -m server serve` on its embedded defaults, with a show on sale to find by id."""
    server = ServerProcess(tmp_path_factory.mktemp("properties"), admin_signup_key=ADMIN_KEY,
                           password_hash_time_cost=1, password_hash_memory_kib=1024).start()
    try:
        run_in_fresh_loop(server.wait_ready)
        run_in_fresh_loop(_make_show, server)
        yield server
    finally:
        server.stop()


async def _make_show(server: ServerProcess) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        client = ApiClient(http)
        await make_round(client, await client.token(admin=True))


class Accounts:
    """A signed-in account per role; a new one after a generated `DELETE /api/users/me` removed it."""

    def __init__(self, url: str):
        self._url = url
        self._tokens: dict[str, str] = {}

    def headers(self, role: str) -> dict[str, str]:
        if role not in self._tokens:
            email = f"property-{role}-{uuid.uuid4().hex}@example.com"
            body = {"email": email, "password": PASSWORD, "name": f"Property {role}"}
            path = "/api/auth/signup"
            if role == "admin":
                body["admin_key"], path = ADMIN_KEY, "/api/auth/signup/admin"
            requests.post(self._url + path, json=body, timeout=10).raise_for_status()
            login = requests.post(self._url + "/api/auth/login", json={"email": email, "password": PASSWORD},
                                  timeout=10)
            self._tokens[role] = login.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[role]}"}

    def forget(self, role: str) -> None:
        self._tokens.pop(role, None)


@pytest.fixture(scope="module")
def accounts(server_process) -> Accounts:
    return Accounts(server_process.url)


def document() -> dict:
    """The document the server serves, made by the same generator from the same declarations."""
    return openapi([endpoint for module in RESOURCES for endpoint in module.api.endpoints], "dev")


# Built at import, because schemathesis makes one test per operation when pytest collects them
# (its lazy `from_fixture` schema fails on pytest 9.2); test_the_live_document_is_this_one checks
# that the server serves exactly this document.
schema = schemathesis.openapi.from_dict(document()).exclude(
    # An endless text/event-stream: a generated call would never end. tests/test_events.py and
    # tests/test_bad_input.py (last_event_id, Last-Event-ID) cover it.
    path="/api/events",
)
# A bounded number of examples per operation, the same ones on every run.
examples = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def test_the_live_document_is_this_one(server_process):
    live = requests.get(f"{server_process.url}/openapi.json", timeout=10).json()
    assert {**live, "info": None} == {**document(), "info": None}


def call_and_check(case, server: ServerProcess, role: str, accounts: Accounts) -> None:
    response = case.call_and_validate(base_url=server.url, headers=accounts.headers(role), checks=CHECKS,
                                      timeout=30)
    if case.method == "DELETE" and case.path == "/api/users/me" and response.status_code == 204:
        accounts.forget(role)


@schema.parametrize()
@examples
def test_as_a_user_every_answer_is_documented_and_none_is_a_server_error(case, server_process, accounts):
    call_and_check(case, server_process, "user", accounts)


@schema.parametrize()
@examples
def test_as_an_admin_every_answer_is_documented_and_none_is_a_server_error(case, server_process, accounts):
    call_and_check(case, server_process, "admin", accounts)


def test_every_body_can_be_too_large_and_the_poster_of_a_wrong_type():
    operations = [(path, method, op) for path, item in document()["paths"].items() for method, op in item.items()]
    with_body = [(path, method, op) for path, method, op in operations if "requestBody" in op]
    assert len(with_body) > 20
    assert [(path, method) for path, method, op in with_body if "413" not in op["responses"]] == []
    poster = document()["paths"]["/api/performances/{performance_id}/poster"]["put"]
    assert {"413", "415"} <= set(poster["responses"])
