"""The Elasticsearch indices: one per kind, always used through an alias (`<prefix>-<kind>`) that
points at one concrete index (`<prefix>-<kind>-000007`). A full rebuild fills a new index with the
bulk API while searches and live updates keep using the old one, then moves the alias in one
atomic `_aliases` call and drops the old index (server/search/reindex.py replays what changed
meanwhile).

Only core Elasticsearch features are used (whitespace analyzer, keyword/date/integer fields,
bulk, aliases): the distribution we run on has no analysis-common module.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Iterable

import msgspec
from elasticsearch import AsyncElasticsearch, NotFoundError

from server.db.database import Database, fresh_reader
from server.search.backend import HALLS, PERFORMANCES, PERFORMERS, RESERVATIONS
from server.search.documents import Fields, document, id_chunks, load
from server.search.schemas import MAX_WINDOW

log = logging.getLogger(__name__)

# Grams only need to be found (no positions, no length norms); trigram runs need positions for
# phrase queries. Every word is one value of the field: the position gap between values keeps a
# phrase inside one word (server/search/text.py).
_GRAMS = {"type": "text", "analyzer": "whitespace", "norms": False, "index_options": "docs"}
_TRI = {"type": "text", "analyzer": "whitespace", "norms": False, "index_options": "positions",
        "position_increment_gap": 100}
_KEYWORD, _INT, _DATE = {"type": "keyword"}, {"type": "integer"}, {"type": "date"}
_CATALOGUE = {"id": _INT, "name_grams": _GRAMS, "name_tri": _TRI, "related_grams": _GRAMS, "related_tri": _TRI,
              "name_first": _KEYWORD}
# Only these fields are indexed ("dynamic": false); the rest of a document is kept in _source to be shown.
PROPERTIES = {
    PERFORMANCES: {**_CATALOGUE, "category": _KEYWORD, "hall_id": _INT, "performer_ids": _INT,
                   "starts_on": _DATE, "ends_on": _DATE},
    HALLS: _CATALOGUE,
    PERFORMERS: _CATALOGUE,
    RESERVATIONS: {"id": _INT, "status": _KEYWORD, "user_id": _INT, "user_email": _KEYWORD,
                   "performance_id": _INT, "round_id": _INT, "created_at": _DATE},
}
# auto_expand_replicas: no replica on a one-node cluster (it would stay yellow), one when there are more.
_SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": "0-1", "max_result_window": MAX_WINDOW}
BULK_IN_FLIGHT = 2          # bulk requests a rebuild keeps going while it reads the next chunk
_encode = msgspec.json.Encoder().encode

Progress = Callable[[str, int], Awaitable[None]]


class BulkFailed(Exception):
    pass


def bulk_lines(index: str, kind: str, fields_by_id: dict[int, Fields], gone: Iterable[int] = ()) -> bytes:
    """NDJSON for the bulk API: each document indexed (replaced whole), each gone id deleted."""
    lines = []
    for doc_id, fields in fields_by_id.items():
        lines += [_encode({"index": {"_index": index, "_id": str(doc_id)}}), _encode(document(kind, fields))]
    lines += [_encode({"delete": {"_index": index, "_id": str(doc_id)}}) for doc_id in gone]
    return b"\n".join(lines) + b"\n" if lines else b""


class Indices:
    def __init__(self, client: AsyncElasticsearch, prefix: str):
        self.client = client
        self.prefix = prefix

    def alias(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    async def current(self, kind: str) -> list[str]:
        """The concrete indices behind a kind's alias (one, unless someone moved it by hand)."""
        try:
            return sorted(await self.client.indices.get_alias(name=self.alias(kind)))
        except NotFoundError:
            return []

    async def ensure(self, kinds: Iterable[str]) -> list[str]:
        """Create the first index of every kind that has none yet; returns the kinds created.
        The index and its alias are made in one request, so two instances starting at once
        cannot both succeed (the loser gets resource_already_exists, which is fine)."""
        async def ensure_one(kind: str) -> bool:
            if await self.current(kind):
                return False
            return await self._create(f"{self.alias(kind)}-{1:06d}", kind, aliases={self.alias(kind): {}})
        kinds = list(kinds)
        return [kind for kind, made in zip(kinds, await asyncio.gather(*map(ensure_one, kinds))) if made]

    async def _create(self, name: str, kind: str, *, aliases: dict | None = None, loading: bool = False) -> bool:
        settings = {**_SETTINGS, "refresh_interval": "-1"} if loading else _SETTINGS
        try:
            await self.client.indices.create(index=name, settings=settings, aliases=aliases,
                                             mappings={"dynamic": False, "properties": PROPERTIES[kind]})
            return True
        except Exception as exc:
            if getattr(exc, "error", None) == "resource_already_exists_exception":
                return False
            raise

    async def bulk(self, lines: bytes, *, refresh: bool = False, require_alias: bool = False) -> None:
        """`require_alias` for writes through an alias: should the alias be missing, fail instead of
        letting Elasticsearch create a plain index under its name (which would block the alias for good)."""
        if not lines:
            return
        response = await self.client.bulk(operations=lines, refresh=refresh, require_alias=require_alias,
                                          filter_path="errors,items.*.error")
        if response.get("errors"):
            # A delete of a document that is not there is no error (status 404 without `error`).
            errors = [next(iter(item.values()))["error"] for item in response.get("items", [])]
            raise BulkFailed(f"{len(errors)} bulk item(s) failed, first: {errors[0] if errors else '?'}")

    async def rebuild(self, kind: str, db: Database, *, chunk: int, progress: Progress | None = None) -> int:
        """Fill a new index of `kind` from the database, then point the alias at it and drop the old
        one. Returns the number of documents. On failure the new index is dropped, the old one stays."""
        old = await self.current(kind)
        generation = max((int(name.rsplit("-", 1)[1]) for name in old), default=0) + 1
        new = f"{self.alias(kind)}-{generation:06d}"
        if not await self._create(new, kind, loading=True):
            raise RuntimeError(f"{new} already exists: is another reindex running?")
        count = 0
        in_flight: set[asyncio.Task] = set()
        try:
            async for ids in id_chunks(db, kind, chunk):
                async with fresh_reader(db) as conn:
                    fields = await load(conn, kind, ids)
                in_flight.add(asyncio.create_task(self.bulk(bulk_lines(new, kind, fields))))
                if len(in_flight) >= BULK_IN_FLIGHT:
                    done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
                count += len(fields)
                if progress:
                    await progress(kind, count)
            for task in asyncio.as_completed(in_flight):
                await task
            await self.client.indices.put_settings(index=new, settings={"refresh_interval": None})
            await self.client.indices.refresh(index=new)
            actions = [{"remove": {"index": name, "alias": self.alias(kind)}} for name in old]
            await self.client.indices.update_aliases(actions=[*actions, {"add": {"index": new, "alias": self.alias(kind)}}])
        except BaseException:
            for task in in_flight:
                task.cancel()
            await self.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        if old:
            await self.client.indices.delete(index=",".join(old), ignore_unavailable=True)
        log.info("search: %s rebuilt into %s (%s documents)", kind, new, count)
        return count

    async def drop_all(self) -> None:
        """Delete every index of this prefix (tests and benchmarks; wildcard deletes are refused)."""
        names = await self.client.indices.get(index=f"{self.prefix}-*", features="aliases")
        if names:
            await self.client.indices.delete(index=",".join(names), ignore_unavailable=True)
