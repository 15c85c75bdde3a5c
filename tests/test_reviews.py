"""Reviews: only your own confirmed reservation of that performance, once."""
from tests.support.factories import confirmed_reservation, hold_and_reserve


async def test_who_went_reviews_once(client, show):
    token = await client.token()
    reservation = await confirmed_reservation(client, show, token)
    path = f"/api/performances/{show['performance_id']}/reviews"
    body = {"reservation_id": reservation["id"], "rating": 5, "content": "최고의 공연!"}
    made = await client.post(path, token=token, json=body)
    assert made.status == 201 and made.json["rating"] == 5 and made.json["user_name"] == "Tester"
    twice = await client.post(path, token=token, json=body)
    assert twice.status == 409 and twice.error_code() == "already_reviewed"
    listed = await client.get(path)
    assert listed.json["total"] == 1 and listed.json["items"][0]["content"] == "최고의 공연!"


async def test_only_your_own_paid_reservation_of_that_performance(client, show):
    owner, other = await client.token(), await client.token()
    path = f"/api/performances/{show['performance_id']}/reviews"
    pending = (await hold_and_reserve(client, owner, show["round_id"], show["seat_ids"][1:2])).json
    reply = await client.post(path, token=owner, json={"reservation_id": pending["id"], "rating": 4, "content": "x"})
    assert reply.status == 409 and reply.json["error"]["details"]["status"] == "pending"
    paid = await confirmed_reservation(client, show, owner)
    reply = await client.post(path, token=other, json={"reservation_id": paid["id"], "rating": 1, "content": "x"})
    assert reply.status == 409 and reply.error_code() == "invalid_state"
    for bad in ({"reservation_id": paid["id"], "rating": 6, "content": "x"},
                {"reservation_id": paid["id"], "rating": 3, "content": ""}, {"rating": 3, "content": "x"}):
        assert (await client.post(path, token=owner, json=bad)).status == 400
    assert (await client.post("/api/performances/99999/reviews", token=owner,
                              json={"reservation_id": paid["id"], "rating": 3, "content": "x"})).status == 404
    assert (await client.get(path)).json["total"] == 0
