import time

import jwt
import pytest
import sqlalchemy as sa

from server.db.database import Database
from server.db.tables import users
from tests.support.api import ADMIN_KEY, PASSWORD, count_users, forge


async def test_signup_login_and_profile(client):
    user = await client.signup(email="Kim@Example.com", name="Kim")
    assert user["role"] == "user" and user["email"] == "kim@example.com"
    login = await client.post("/api/auth/login", json={"email": "kim@example.com", "password": PASSWORD})
    assert login.status == 200 and login.json["token_type"] == "bearer" and login.json["expires_in"] > 0
    me = await client.get("/api/users/me", token=login.json["access_token"])
    assert me.status == 200 and me.json["id"] == user["id"] and me.json["name"] == "Kim"
    assert me.json["last_login_at"] is not None and me.json["language"] == "ko"         # Korean unless told


async def test_the_language_is_chosen_at_sign_up_and_changed_with_the_name(client):
    reply = await client.post("/api/auth/signup", json={"email": "en@example.com", "password": PASSWORD,
                                                       "name": "Jane", "language": "en"})
    assert reply.status == 201 and reply.json["language"] == "en"
    admin = await client.post("/api/auth/signup/admin", json={"email": "boss@example.com", "password": PASSWORD,
                                                             "name": "Boss", "admin_key": ADMIN_KEY, "language": "en"})
    assert admin.status == 201 and (admin.json["role"], admin.json["language"]) == ("admin", "en")
    login = await client.post("/api/auth/login", json={"email": "en@example.com", "password": PASSWORD})
    token = login.json["access_token"]
    assert (await client.get("/api/users/me", token=token)).json["language"] == "en"

    korean = await client.patch("/api/users/me", token=token, json={"language": "ko"})
    assert korean.status == 200 and (korean.json["language"], korean.json["name"]) == ("ko", "Jane")
    renamed = await client.patch("/api/users/me", token=token, json={"name": "  김제인 "})
    assert renamed.status == 200 and (renamed.json["name"], renamed.json["language"]) == ("김제인", "ko")
    both = await client.patch("/api/users/me", token=token, json={"name": "Jane Kim", "language": "en"})
    assert (both.json["name"], both.json["language"]) == ("Jane Kim", "en")
    me = (await client.get("/api/users/me", token=token)).json
    assert (me["name"], me["language"], me["id"]) == ("Jane Kim", "en", reply.json["id"])


@pytest.mark.parametrize("body,fields", [
    (None, []),
    ({}, ["name", "language"]),
    ({"language": "fr"}, ["language"]),
    ({"language": "EN"}, ["language"]),
    ({"language": None}, ["language"]),
    ({"name": ""}, ["name"]),
    ({"name": "   "}, ["name"]),
    ({"name": "a\x00b"}, ["name"]),
    ({"name": "n" * 101}, ["name"]),
    ({"name": None}, ["name"]),
    ({"role": "admin"}, ["role"]),
], ids=["no-body", "empty", "unknown-language", "upper-case", "null-language", "empty-name", "blank-name",
        "control-character", "long-name", "null-name", "role"])
async def test_a_bad_profile_change_is_400_naming_the_field_and_changes_nothing(client, body, fields):
    token = await client.token()
    before = (await client.get("/api/users/me", token=token)).json
    reply = await client.patch("/api/users/me", token=token, json=body)
    assert reply.status == 400 and reply.error_code() == "invalid_request"
    assert reply.json["error"]["details"]["fields"] == fields
    assert (await client.get("/api/users/me", token=token)).json == before


async def test_a_profile_change_needs_a_signed_in_account(client):
    assert (await client.patch("/api/users/me", json={"language": "en"})).status == 401


async def test_password_is_stored_only_as_argon2_hash(client, settings):
    await client.signup(email="hash@example.com")
    db = Database(settings.resolved_database_url)
    async with db.read_own_writes() as conn:
        stored = (await conn.execute(sa.select(users.c.password_hash))).scalar_one()
    await db.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_email_taken_is_409(client):
    await client.signup(email="dup@example.com")
    reply = await client.post("/api/auth/signup", json={"email": "DUP@example.com", "password": PASSWORD, "name": "x"})
    assert reply.status == 409 and reply.error_code() == "email_taken"


async def test_unknown_email_and_wrong_password_get_the_same_401(client):
    await client.signup(email="known@example.com")
    wrong = await client.post("/api/auth/login", json={"email": "known@example.com", "password": "wrong-password"})
    unknown = await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status == unknown.status == 401
    assert wrong.json == unknown.json


async def test_admin_signup_needs_the_key(client, settings):
    bad = await client.post("/api/auth/signup/admin", json={"email": "a@example.com", "password": PASSWORD,
                                                           "name": "A", "admin_key": "guess"})
    assert bad.status == 403 and bad.error_code() == "forbidden"
    assert await count_users(settings) == 0
    good = await client.post("/api/auth/signup/admin", json={"email": "a@example.com", "password": PASSWORD,
                                                            "name": "A", "admin_key": ADMIN_KEY})
    assert good.status == 201 and good.json["role"] == "admin"


@pytest.mark.parametrize("settings_overrides", [{"admin_signup_key": ""}])
async def test_admin_signup_closed_without_a_configured_key(client):
    reply = await client.post("/api/auth/signup/admin", json={"email": "a@example.com", "password": PASSWORD,
                                                             "name": "A", "admin_key": ""})
    assert reply.status == 403


async def test_soft_delete_frees_the_email_and_ends_the_account(client, settings):
    token = await client.token(email="gone@example.com")
    assert (await client.delete("/api/users/me", token=token)).status == 204
    assert (await client.get("/api/users/me", token=token)).status == 401
    assert (await client.post("/api/auth/login", json={"email": "gone@example.com", "password": PASSWORD})).status == 401
    await client.signup(email="gone@example.com")            # the address may sign up again
    assert await count_users(settings) == 2                    # the old row is kept for past bookings


async def test_login_reactivates_a_dormant_account(client, settings):
    user = await client.signup(email="sleepy@example.com")
    db = Database(settings.resolved_database_url)
    async with db.begin() as conn:
        await conn.execute(users.update().where(users.c.id == user["id"]).values(status="dormant"))
    login = await client.post("/api/auth/login", json={"email": "sleepy@example.com", "password": PASSWORD})
    async with db.read_own_writes() as conn:
        status = (await conn.execute(sa.select(users.c.status).where(users.c.id == user["id"]))).scalar_one()
    await db.close()
    assert login.status == 200 and status == "active"


@pytest.mark.parametrize("token", [
    "not-a-jwt",
    forge({}, secret="another-secret-another-secret-another-secret"),     # signed with the wrong key
    forge({"exp": int(time.time()) - 10}),                                  # expired
    forge({"iss": "someone-else"}),
    jwt.encode({"sub": "1", "role": "admin"}, "", algorithm="none") if hasattr(jwt, "encode") else "x",
], ids=["garbage", "wrong-key", "expired", "wrong-issuer", "alg-none"])
async def test_bad_tokens_are_401(client, token):
    reply = await client.get("/api/users/me", token=token)
    assert reply.status == 401 and reply.error_code() == "unauthorized"


async def test_no_token_is_401(client):
    reply = await client.get("/api/users/me")
    assert reply.status == 401 and set(reply.json["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("body,field", [
    ({"email": "x@example.com", "password": "short", "name": "n"}, "password"),
    ({"email": "not-an-email", "password": PASSWORD, "name": "n"}, "email"),
    ({"email": "x@example.com", "password": PASSWORD}, "name"),
    ({"email": "x@example.com", "password": PASSWORD, "name": ""}, "name"),
    ({"email": "x@example.com", "password": PASSWORD, "name": 5}, "name"),
    ({"email": "x@example.com", "password": PASSWORD, "name": "n", "role": "admin"}, "role"),
    ({"email": "x@example.com", "password": "p" * 129, "name": "n"}, "password"),
    ({"email": "x@example.com", "password": PASSWORD, "name": "n", "language": "ja"}, "language"),
    ({"email": "x@example.com", "password": PASSWORD, "name": "n", "language": None}, "language"),
])
async def test_bad_signup_is_400_naming_the_field_and_writes_nothing(client, settings, body, field):
    reply = await client.post("/api/auth/signup", json=body)
    assert reply.status == 400 and reply.error_code() == "invalid_request"
    assert reply.json["error"]["details"]["fields"] == [field]
    assert await count_users(settings) == 0
