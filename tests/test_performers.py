"""Performers: CRUD, name search, admin-only writes."""
from __future__ import annotations

import pytest

from tests.support.factories import make_performer


async def test_create_get_and_update(client):
    admin = await client.token(admin=True)
    created = await make_performer(client, admin, birth_date="1990-05-16", nationality="KR")
    assert created == {"id": created["id"], "name": "Han Ji-woo", "birth_date": "1990-05-16", "nationality": "KR"}
    assert (await client.get(f"/api/performers/{created['id']}")).json == created
    renamed = await client.patch(f"/api/performers/{created['id']}", token=admin, json={"name": "한지우"})
    assert renamed.status == 200
    assert renamed.json == {**created, "name": "한지우"}
    cleared = await client.patch(f"/api/performers/{created['id']}", token=admin, json={"birth_date": None})
    assert cleared.json == {**created, "name": "한지우", "birth_date": None}
    assert (await client.get(f"/api/performers/{created['id']}")).json == cleared.json


async def test_optional_fields_default_to_null(client):
    admin = await client.token(admin=True)
    created = await make_performer(client, admin, name="The Blue Notes")
    assert created["birth_date"] is None and created["nationality"] is None


async def test_list_is_sorted_paginated_and_searchable(client):
    admin = await client.token(admin=True)
    for name in ("Charlie Kim", "alice Park", "Bob Lee", "100%_real"):
        await make_performer(client, admin, name=name)
    everyone = await client.get("/api/performers?size=2")
    assert everyone.json["total"] == 4 and len(everyone.json["items"]) == 2
    page2 = await client.get("/api/performers?size=2&page=2")
    assert len(page2.json["items"]) == 2
    names = {p["name"] for p in everyone.json["items"] + page2.json["items"]}
    assert names == {"Charlie Kim", "alice Park", "Bob Lee", "100%_real"}
    found = await client.get("/api/performers?q=ALICE")
    assert [p["name"] for p in found.json["items"]] == ["alice Park"] and found.json["total"] == 1
    # LIKE wildcards in q are taken literally.
    assert [p["name"] for p in (await client.get("/api/performers?q=%25_")).json["items"]] == ["100%_real"]
    assert (await client.get("/api/performers?q=zzz")).json == {"items": [], "page": 1, "size": 20, "total": 0}


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x", "birth_date": "1990-13-01"}, "birth_date"),
    ({"name": "x", "birth_date": 1990}, "birth_date"),
    ({"name": "x", "nationality": "k" * 61}, "nationality"),
    ({"name": "x", "stage_name": "y"}, "stage_name"),
])
async def test_bad_bodies_are_rejected_and_nothing_is_written(client, body, field):
    admin = await client.token(admin=True)
    reply = await client.post("/api/performers", token=admin, json=body)
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == [field]
    assert (await client.get("/api/performers")).json["total"] == 0


async def test_patch_rejects_null_name_and_keeps_the_row(client):
    admin = await client.token(admin=True)
    created = await make_performer(client, admin)
    reply = await client.patch(f"/api/performers/{created['id']}", token=admin, json={"name": None})
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["name"]
    assert (await client.get(f"/api/performers/{created['id']}")).json == created


async def test_delete_and_404s(client):
    admin = await client.token(admin=True)
    created = await make_performer(client, admin)
    assert (await client.delete(f"/api/performers/{created['id']}", token=admin)).status == 204
    for method in ("GET", "PATCH", "DELETE"):
        reply = await client.call(method, f"/api/performers/{created['id']}", token=admin,
                                  json={"name": "x"} if method == "PATCH" else None)
        assert reply.status == 404 and reply.error_code() == "not_found"


async def test_writes_need_an_admin(client):
    user = await client.token()
    admin = await client.token(admin=True)
    created = await make_performer(client, admin)
    for method, path, body in [("POST", "/api/performers", {"name": "x"}),
                               ("PATCH", f"/api/performers/{created['id']}", {"name": "x"}),
                               ("DELETE", f"/api/performers/{created['id']}", None)]:
        assert (await client.call(method, path, json=body)).status == 401
        assert (await client.call(method, path, json=body, token=user)).status == 403
    assert (await client.get("/api/performers")).json["items"] == [created]
