"""Health, readiness, metrics and the generated API documentation."""
import msgspec

from server.app import create_app
from tests.support.api import ApiClient


async def test_healthz(client):
    reply = await client.get("/healthz")
    assert reply.status == 200 and reply.json == {"status": "ok"}


async def test_readyz_checks_the_database(client):
    reply = await client.get("/readyz")
    assert reply.status == 200 and reply.json["checks"]["database"] == "ok"


async def test_readyz_is_503_naming_the_backend_that_is_down(aiohttp_client, settings, unused_tcp_port):
    down = msgspec.structs.replace(settings, database_url=f"mysql+aiomysql://u:p@127.0.0.1:{unused_tcp_port}/x")
    client = ApiClient(await aiohttp_client(create_app(down)))
    reply = await client.get("/readyz")
    assert reply.status == 503 and reply.json["checks"]["database"].startswith("failed")
    assert (await client.get("/healthz")).status == 200


async def test_metrics_count_requests_by_route_and_status(client):
    await client.get("/healthz")
    await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "whatever1"})
    reply = await client.get("/metrics")
    text = reply.json.decode() if isinstance(reply.json, bytes) else reply.json
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
    assert 'ticketblue_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/api/auth/login",status="401"' in text
    assert "ticketblue_http_request_duration_seconds_bucket" in text


async def test_openapi_is_generated_from_the_code(client):
    reply = await client.get("/openapi.json")
    spec = reply.json
    assert reply.status == 200 and spec["openapi"].startswith("3.1")
    signup = spec["paths"]["/api/auth/signup"]["post"]
    schema_ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(request_schema["required"]) == {"email", "password", "name"}
    assert request_schema["properties"]["password"]["minLength"] == 8
    assert request_schema["properties"]["language"] == {"enum": ["en", "ko"], "default": "ko"}
    assert "409" in signup["responses"] and "201" in signup["responses"]
    me = spec["paths"]["/api/users/me"]["get"]
    assert me["security"] == [{"bearer": []}] and "401" in me["responses"]
    change = spec["paths"]["/api/users/me"]["patch"]
    change_ref = change["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    change_schema = spec["components"]["schemas"][change_ref.rsplit("/", 1)[1]]
    assert set(change_schema["properties"]) == {"name", "language"} and not change_schema.get("required")
    assert {"200", "400", "401"} <= set(change["responses"]) and change["security"] == [{"bearer": []}]


async def test_openapi_covers_every_api_route(client, app):
    spec = (await client.get("/openapi.json")).json
    import re
    for resource in app.router.resources():
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", resource.canonical)
        if path.startswith("/api/"):
            assert path in spec["paths"], path


async def test_swagger_ui_is_served_from_the_package(client):
    page = await client.get("/docs")
    assert page.status == 200 and b"/openapi.json" in page.json
    script = await client.get("/docs/static/swagger-ui-bundle.js")
    assert script.status == 200 and len(script.json) > 100_000
