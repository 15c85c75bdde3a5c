from tests.support import PASSWORD


async def test_signup_login_and_profile(client):
    user = await client.signup(email="Kim@Example.com", name="Kim")
    assert user["role"] == "user" and user["email"] == "kim@example.com"
    login = await client.post("/api/auth/login", json={"email": "kim@example.com", "password": PASSWORD})
    assert login.status == 200 and login.json["token_type"] == "bearer"
    me = await client.get("/api/users/me", token=login.json["access_token"])
    assert me.status == 200 and me.json["id"] == user["id"] and me.json["name"] == "Kim"
