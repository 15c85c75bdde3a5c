"""Text as search sees it: folded (case, width, accents), cut into words, and the words into n-grams.

The Elasticsearch distribution we run on has no analysis-common module (no n-gram tokenizer, no
lowercase or ascii-folding filter), so the n-grams are made here, in Python, once when a document is
indexed and once per query; Elasticsearch only splits them on whitespace. The SQL backend uses the
same folding and the same query terms, so both backends agree on what matches:

    a query term matches a text when it is a substring of one of the text's words.

Words are runs of letters and digits of one kind: syllabic scripts (Hangul syllables, kana, CJK),
where one character is already meaningful, and everything else (Latin, digits, ...), where a single
letter is not. "BTS콘서트" is two words, "bts" and "콘서트". A query term is usable when it has at
least one syllabic character or two other characters; "a" alone is not searched for.

How a term is matched (see `term_query`): terms of one or two characters are single tokens of the
`*_grams` field (1-grams of syllabic words, 2-grams of every word); longer terms are phrases of
trigrams in the `*_tri` field, which keeps each word's trigrams at consecutive positions. A phrase
cannot cross from one word into the next because every word is its own value of the field, and
Elasticsearch puts a position gap between values. So the match is exact, not approximate.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SYLLABIC = "\uac00-\ud7a3\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_SYLLABIC}]+|[^\\W_{_SYLLABIC}]+")
_IS_SYLLABIC = re.compile(f"[{_SYLLABIC}]")
MAX_TERMS = 8          # words of a query past this are ignored (a pasted paragraph is not a query)


def fold(text: str) -> str:
    """Lower case, full width to normal width (NFKC), accents off Latin letters. Hangul is left
    composed: decomposing it to strip accents would turn syllables into jamo."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    out = []
    for char in text:
        if _IS_SYLLABIC.match(char):
            out.append(char)
        else:
            out.extend(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", "".join(out))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def is_syllabic(word: str) -> bool:
    return bool(_IS_SYLLABIC.match(word))


def usable(term: str) -> bool:
    return len(term) >= (1 if is_syllabic(term) else 2)


def query_terms(text: str) -> list[str]:
    """The distinct usable words of a query, in order, at most MAX_TERMS."""
    seen: list[str] = []
    for word in words(text):
        if usable(word) and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def trigrams(word: str) -> list[str]:
    return [word[i:i + 3] for i in range(len(word) - 2)]


def short_grams(word: str) -> list[str]:
    """The tokens a one- or two-character term is looked up by: 2-grams, and 1-grams of syllabic words."""
    grams = [word[i:i + 2] for i in range(len(word) - 1)]
    if is_syllabic(word):
        grams += list(word)
    return grams


@dataclass(frozen=True)
class Field:
    """One searchable field of a document: its `<name>_grams` and `<name>_tri` subfields."""
    name: str

    def index(self, texts: list[str]) -> dict[str, list[str]]:
        """What a document stores for these texts: one value per word (see the module docstring)."""
        all_words = [w for text in texts for w in words(text)]
        return {f"{self.name}_grams": [" ".join(dict.fromkeys(short_grams(w))) for w in all_words],
                f"{self.name}_tri": [" ".join(trigrams(w)) for w in all_words if len(w) >= 3]}

    def term_query(self, term: str) -> dict:
        """An Elasticsearch query: `term` is a substring of a word of this field."""
        if len(term) <= 2:
            return {"term": {f"{self.name}_grams": term}}
        return {"match_phrase": {f"{self.name}_tri": " ".join(trigrams(term))}}


def first_word(text: str) -> str:
    """The word the text starts with ('' when it starts with punctuation or a space): the prefix
    ranking looks at it, and SQL's `LIKE 'term%'` sees the same thing."""
    folded = fold(text)
    found = _WORD.match(folded)
    return found.group(0) if found else ""
