"""What the search tests share: settings for Elasticsearch, waiting for the index sync, searching, and
a small catalogue (Korean and English names) made through the public API."""
from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from server.db.tables import outbox
from server.outbox.routes import SEARCH_SYNC as SEARCH_CHANNEL
from server.search.sync import reservations_changed
from server.wiring import DATABASE, SEARCH
from tests.support.api import ApiClient, eventually
from tests.support.backends import backend_url

TODAY = date.today()
SECTIONS = [{"name": "A", "rows": 1, "seats_per_row": 4, "grade": "R"}]


def drop_indices(prefix: str) -> None:
    """Delete a test's indices by name (Elasticsearch refuses wildcard deletes)."""
    base = backend_url("ELASTICSEARCH_URL")
    with urllib.request.urlopen(f"{base}/{prefix}-*?features=aliases") as resp:
        names = list(json.load(resp))
    if names:
        urllib.request.urlopen(urllib.request.Request(f"{base}/{','.join(names)}", method="DELETE")).close()


def elasticsearch_settings(request) -> dict:
    """Settings for Elasticsearch with an index prefix of this test's own, dropped afterwards."""
    prefix = f"tbtest-{uuid.uuid4().hex[:12]}"
    request.addfinalizer(lambda: drop_indices(prefix))
    return {"elasticsearch_url": backend_url("ELASTICSEARCH_URL"), "elasticsearch_index_prefix": prefix}


async def synced(client: ApiClient) -> None:
    """Wait until every search message written so far is delivered (applied to the index)."""
    db = client.http.app[DATABASE]

    async def nothing_pending():
        async with db.read_own_writes() as conn:
            pending = (await conn.execute(sa.select(outbox.c.id).where(
                outbox.c.channel == SEARCH_CHANNEL, outbox.c.status != "delivered").limit(1))).first()
        return pending is None
    await eventually(nothing_pending, timeout=10)


async def search(client: ApiClient, q: str, **params) -> dict:
    reply = await client.get("/api/search", params={"q": q, **params})
    assert reply.status == 200, reply.json
    return reply.json


def ids(results: dict, kind: str) -> list[int]:
    return [hit["id"] for hit in results[kind]]


async def reservations_booked(client: ApiClient, reservation_ids: list[int]) -> None:
    """What the reservation service does in its transactions (the main engineer wires it there)."""
    async with client.http.app[DATABASE].begin() as conn:
        await reservations_changed(conn, reservation_ids)


def backend_name(client: ApiClient) -> str:
    return client.http.app[SEARCH].backend.name


class Catalogue:
    """Halls, performers and performances made through the API, by short names."""

    def __init__(self, client: ApiClient, admin: str):
        self.client, self.admin = client, admin
        self.halls: dict[str, int] = {}
        self.performers: dict[str, int] = {}
        self.performances: dict[str, int] = {}

    async def hall(self, key: str, name: str, address: str = "Seoul") -> int:
        reply = await self.client.post("/api/halls", token=self.admin,
                                       json={"name": name, "address": address, "sections": SECTIONS})
        assert reply.status == 201, reply.json
        self.halls[key] = reply.json["id"]
        return reply.json["id"]

    async def performer(self, key: str, name: str, nationality: str | None = None) -> int:
        reply = await self.client.post("/api/performers", token=self.admin,
                                       json={"name": name, "nationality": nationality})
        assert reply.status == 201, reply.json
        self.performers[key] = reply.json["id"]
        return reply.json["id"]

    async def performance(self, key: str, title: str, hall: str, *, category: str = "musical",
                          starts_in: int = 0, days: int = 30, cast: tuple[str, ...] = ()) -> int:
        reply = await self.client.post("/api/performances", token=self.admin, json={
            "title": title, "description": "", "category": category, "hall_id": self.halls[hall],
            "starts_on": str(TODAY + timedelta(days=starts_in)),
            "ends_on": str(TODAY + timedelta(days=starts_in + days)), "duration_minutes": 120,
            "prices": {"R": 100000}})
        assert reply.status == 201, reply.json
        self.performances[key] = performance_id = reply.json["id"]
        for member in cast:
            added = await self.client.post(f"/api/performances/{performance_id}/performers", token=self.admin,
                                           json={"performer_id": self.performers[member]})
            assert added.status == 201, added.json
        return performance_id


async def sample_catalogue(client: ApiClient) -> Catalogue:
    """The catalogue most search tests search in; synced before it is returned."""
    cat = Catalogue(client, await client.token(admin=True))
    await cat.hall("sejong", "세종문화회관 대극장", "서울 종로구 세종대로 175")
    await cat.hall("blue", "Blue Square", "Hannam-dong, Yongsan-gu")
    await cat.performer("cho", "조승우", "KR")
    await cat.performer("ok", "옥주현", "KR")
    await cat.performer("hugh", "Hugh Jackman", "AU")
    await cat.performance("phantom", "오페라의 유령 The Phantom of the Opera", "sejong", cast=("cho", "ok"),
                          starts_in=-10)
    await cat.performance("les", "레미제라블 Les Miserables", "blue", cast=("hugh",), starts_in=40)
    await cat.performance("orchestra", "Phantom Orchestra Live", "blue", category="concert", starts_in=5)
    await cat.performance("cho_concert", "조승우 콘서트", "blue", category="concert", starts_in=60)
    await cat.performance("hamlet", "햄릿 Hamlet", "sejong", category="play", starts_in=100)
    await synced(client)
    return cat
