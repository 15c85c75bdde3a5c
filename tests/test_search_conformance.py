"""One suite, both search backends (SQL queries and the real Elasticsearch), on SQLite and MariaDB:
what matches, in what order, with which filters and pages, and what a bad query gets."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.search import TODAY, backend_name, ids, search


@pytest.fixture
def settings_overrides(search_backend) -> dict:
    return search_backend


async def test_both_backends_are_what_they_say(client, search_backend):
    assert backend_name(client) == ("elasticsearch" if search_backend else "sql")


async def test_one_call_returns_performances_halls_and_performers(client, cat):
    found = await search(client, "세종")
    assert ids(found, "halls") == [cat.halls["sejong"]]
    # performances in that hall match through the hall's name
    assert set(ids(found, "performances")) == {cat.performances["phantom"], cat.performances["hamlet"]}
    assert found["performers"] == []
    found = await search(client, "승우")
    assert ids(found, "performers") == [cat.performers["cho"]]
    assert found["performers"][0] == {"id": cat.performers["cho"], "name": "조승우", "nationality": "KR"}
    assert found["totals"] == {"performances": 2, "halls": 0, "performers": 1}


@pytest.mark.parametrize("q, expected", [
    ("오페라", {"phantom"}),                    # Korean, start of a word
    ("유령", {"phantom"}),                      # Korean, a whole later word
    ("페라의", {"phantom"}),                    # Korean, inside a word
    ("햄", {"hamlet"}),                        # one Korean syllable
    ("phant", {"phantom", "orchestra"}),       # English prefix
    ("ANTOM", {"phantom", "orchestra"}),       # English infix, any case
    ("om", {"phantom", "orchestra"}),          # two letters
    ("orchestra live", {"orchestra"}),         # every word must match
    ("유령 phantom", {"phantom"}),
    ("오페라 종로구", set()),                    # an address is not a performance's
    ("오페라 세종", {"phantom"}),                # title and hall name together
    ("jack", {"les"}),                         # through the cast
    ("tomph", set()),                          # not across words: "phantom" / "phantom"
    ("operaphantom", set()),
    ("zzz", set()),
])
async def test_partial_words_in_korean_and_english(client, cat, q, expected):
    found = await search(client, q)
    assert set(ids(found, "performances")) == {cat.performances[k] for k in expected}
    assert found["totals"]["performances"] == len(expected)


async def test_halls_match_by_name_or_address_and_performers_by_name(client, cat):
    assert ids(await search(client, "종로"), "halls") == [cat.halls["sejong"]]
    assert ids(await search(client, "SQUARE"), "halls") == [cat.halls["blue"]]
    found = await search(client, "jackman")
    assert ids(found, "performers") == [cat.performers["hugh"]] and ids(found, "halls") == []


async def test_title_matches_come_before_matches_through_cast_or_hall(client, cat):
    # "조승우 콘서트" has the name in its title; the Phantom only in its cast.
    found = await search(client, "조승우")
    assert ids(found, "performances") == [cat.performances["cho_concert"], cat.performances["phantom"]]
    # Both titles contain "phantom"; "Phantom Orchestra Live" starts with it and goes first.
    found = await search(client, "phantom")
    assert ids(found, "performances") == [cat.performances["orchestra"], cat.performances["phantom"]]


async def test_ties_go_to_the_latest_first_day(client, cat):
    # Every performance in Blue Square matches "square" through its hall only: same rank.
    found = await search(client, "square")
    assert ids(found, "performances") == [cat.performances[k] for k in ("cho_concert", "les", "orchestra")]


async def test_hits_show_what_a_result_list_needs(client, cat):
    [hit] = (await search(client, "레미제라블"))["performances"]
    assert hit == {"id": cat.performances["les"], "title": "레미제라블 Les Miserables", "category": "musical",
                   "hall_id": cat.halls["blue"], "hall_name": "Blue Square",
                   "starts_on": str(TODAY + timedelta(days=40)), "ends_on": str(TODAY + timedelta(days=70)),
                   "performers": [{"id": cat.performers["hugh"], "name": "Hugh Jackman"}]}
    [phantom] = (await search(client, "유령"))["performances"]
    assert [p["name"] for p in phantom["performers"]] == ["옥주현", "조승우"]


async def test_category_and_date_filters_apply_to_performances(client, cat):
    found = await search(client, "phantom", category="concert")
    assert ids(found, "performances") == [cat.performances["orchestra"]]
    # running on some day of the range: the Phantom started 10 days ago and runs 30 days
    window = {"from": str(TODAY + timedelta(days=25)), "to": str(TODAY + timedelta(days=45))}
    found = await search(client, "square", **window)
    assert set(ids(found, "performances")) == {cat.performances["les"], cat.performances["orchestra"]}
    found = await search(client, "세종", to=str(TODAY - timedelta(days=11)))
    assert found["performances"] == [] and ids(found, "halls") == [cat.halls["sejong"]]
    found = await search(client, "세종", **{"from": str(TODAY + timedelta(days=131))})
    assert found["performances"] == []
    found = await search(client, "세종", **{"from": str(TODAY + timedelta(days=120))})
    assert ids(found, "performances") == [cat.performances["hamlet"]]


async def test_pages(client, cat):
    everything = ids(await search(client, "square"), "performances")
    assert len(everything) == 3
    pages = [await search(client, "square", page=n, size=2) for n in (1, 2, 3)]
    assert [ids(p, "performances") for p in pages] == [everything[:2], everything[2:], []]
    assert all(p["totals"]["performances"] == 3 and p["size"] == 2 for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3]


async def test_queries_are_folded_and_normalized(client, cat):
    plain = await search(client, "phantom opera")
    for variant in ("  PHANTOM,  opera!! ", "Ｐｈａｎｔｏｍ opera", "phantom-opera", "a phantom opera"):
        assert await search(client, variant) == plain


@pytest.mark.parametrize("params, field", [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "a"}, "q"),                   # nothing searchable: one Latin letter
    ({"q": "!!!"}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"q": "phantom", "size": "101"}, "size"),
    ({"q": "phantom", "size": "0"}, "size"),
    ({"q": "phantom", "page": "0"}, "page"),
    ({"q": "phantom", "page": "x"}, "page"),
    ({"q": "phantom", "page": "101", "size": "100"}, "page"),     # past the 10,000th result
    ({"q": "phantom", "category": "opera"}, "category"),
    ({"q": "phantom", "from": "2026-02-30"}, "from"),
    ({"q": "phantom", "from": "2026-03-02", "to": "2026-03-01"}, "from"),
])
async def test_bad_queries_get_400_with_the_field(client, params, field):
    reply = await client.get("/api/search", params=params)
    assert reply.status == 400 and reply.error_code() == "invalid_request", reply.json
    assert field in reply.json["error"]["details"]["fields"]
