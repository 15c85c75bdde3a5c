"""Search's text rules (server/search/text.py): folding, words, query terms and the n-grams that make
partial-word matching work on an Elasticsearch without n-gram analysis."""
from __future__ import annotations

import pytest

from server.search.text import Field, first_word, fold, query_terms, short_grams, trigrams, words


@pytest.mark.parametrize("text, folded", [
    ("Phantom", "phantom"),
    ("Les Misérables", "les miserables"),
    ("ＢＴＳ　콘서트", "bts 콘서트"),          # full width to normal width
    ("Straße", "strasse"),
    ("오페라의 유령", "오페라의 유령"),          # Hangul stays composed
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_words_split_at_punctuation_and_between_scripts():
    assert words("BTS콘서트 2024: World-Tour_Seoul") == ["bts", "콘서트", "2024", "world", "tour", "seoul"]


@pytest.mark.parametrize("q, terms", [
    ("phantom opera", ["phantom", "opera"]),
    ("a phantom", ["phantom"]),                    # one Latin letter is not a term
    ("햄 a", ["햄"]),                              # one Korean syllable is
    ("Phantom PHANTOM phantom", ["phantom"]),
    ("a b c", []),
    ("one two three four five six seven eight nine", ["one", "two", "three", "four", "five", "six", "seven", "eight"]),
])
def test_query_terms(q, terms):
    assert query_terms(q) == terms


def test_grams():
    assert trigrams("phantom") == ["pha", "han", "ant", "nto", "tom"]
    assert trigrams("ab") == []
    assert short_grams("opera") == ["op", "pe", "er", "ra"]
    assert short_grams("유령") == ["유령", "유", "령"]


def test_a_field_keeps_each_word_apart_and_queries_by_length():
    indexed = Field("name").index(["Phantom 오페라", "Hall"])
    assert indexed["name_tri"] == ["pha han ant nto tom", "오페라", "hal all"]
    assert indexed["name_grams"][1] == "오페 페라 오 페 라"
    assert Field("name").term_query("페") == {"term": {"name_grams": "페"}}
    assert Field("name").term_query("antom") == {"match_phrase": {"name_tri": "ant nto tom"}}


def test_first_word_is_only_a_word_the_text_starts_with():
    assert first_word("Phantom of the Opera") == "phantom"
    assert first_word("조승우 콘서트") == "조승우"
    assert first_word("[Musical] Cats") == ""      # SQL's LIKE 'musical%' would not match either
