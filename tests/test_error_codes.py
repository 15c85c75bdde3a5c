"""Every error code the server can answer is one named constant, listed by the contract
(docs/API.md) and by the OpenAPI document."""
import re

from server.errors import Code
from tests.support.instances import ROOT

API_DOC = ROOT / "docs" / "API.md"


def documented_codes() -> set[str]:
    """The codes in the first column of code names of docs/API.md's Errors table."""
    errors = API_DOC.read_text(encoding="utf-8").split("## Errors", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in errors.splitlines() if line.startswith("| ")]
    return {code for row in rows if len(row) > 3 for code in re.findall(r"`([a-z_]+)`", row[2])}


def test_the_contract_lists_every_error_code_and_no_other():
    assert documented_codes() == {code.value for code in Code}


async def test_the_openapi_document_lists_every_error_code(client):
    document = (await client.get("/openapi.json")).json
    detail = document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    enum = document["components"]["schemas"][detail["$ref"].rsplit("/", 1)[1]]["enum"]
    assert sorted(enum) == sorted(code.value for code in Code)
