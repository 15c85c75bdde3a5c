"""The Elasticsearch backend: catalogue search in one `_msearch` round trip, admin booking search,
and `apply`, which re-indexes changed rows (called by the outbox's search channel and the reindex).

Ranking uses constant scores, so that both backends order results the same way: 2 when every term
is in the title/name, +1 when the title/name starts with the first term; ties by date or id.
"""
from __future__ import annotations

import logging

import msgspec
from elasticsearch import AsyncElasticsearch

from server.db.database import Database, fresh_reader
from server.errors import ServiceUnavailable
from server.schemas.common import Page
from server.search.backend import (CATALOGUE_KINDS, HALLS, PERFORMANCES, PERFORMERS, RESERVATIONS,
                                   CatalogueSearch, Changes, ReservationSearch)
from server.search.cache import Store
from server.search.documents import NAME, RELATED, load
from server.search.indices import Indices, bulk_lines
from server.search.schemas import (CatalogueResults, CatalogueTotals, HallHit, PerformanceHit, PerformerHit,
                                   ReservationHit)
from server.search.sync import CATALOGUE, SyncLock

log = logging.getLogger(__name__)

_HITS = {PERFORMANCES: PerformanceHit, HALLS: HallHit, PERFORMERS: PerformerHit}
_SHOWN = {kind: list(hit.__struct_fields__) for kind, hit in _HITS.items()}
_TIES = {PERFORMANCES: [{"starts_on": "desc"}, {"id": "desc"}], HALLS: [{"id": "asc"}],
         PERFORMERS: [{"id": "asc"}]}
_DEPENDENTS = {HALLS: "hall_id", PERFORMERS: "performer_ids"}     # performance fields naming them
_FILTER_PATH = "responses.error,responses.hits.total.value,responses.hits.hits._source"


def _catalogue_body(kind: str, search: CatalogueSearch) -> dict:
    matches = []
    for term in search.terms:
        where = [NAME.term_query(term)] + ([RELATED.term_query(term)] if kind != PERFORMERS else [])
        matches.append({"bool": {"should": where}})
    if kind == PERFORMANCES:
        if search.category:
            matches.append({"term": {"category": search.category}})
        if search.from_:
            matches.append({"range": {"ends_on": {"gte": search.from_.isoformat()}}})
        if search.to:
            matches.append({"range": {"starts_on": {"lte": search.to.isoformat()}}})
    in_name = {"bool": {"filter": [NAME.term_query(term) for term in search.terms]}}
    ranking = [{"constant_score": {"filter": in_name, "boost": 2}},
               {"constant_score": {"filter": {"prefix": {"name_first": search.terms[0]}}, "boost": 1}}]
    return {"query": {"bool": {"filter": matches, "should": ranking}}, "sort": ["_score", *_TIES[kind]],
            "from": search.offset, "size": search.size, "track_total_hits": True, "_source": _SHOWN[kind]}


def _reservations_body(search: ReservationSearch) -> dict:
    terms = {"performance_id": search.performance_id, "round_id": search.round_id,
             "user_email": search.user_email, "status": search.status}
    filters = [{"term": {field: value}} for field, value in terms.items() if value is not None]
    created = {key: value.isoformat() for key, value in
               (("gte", search.created_from), ("lt", search.created_before)) if value is not None}
    if created:
        filters.append({"range": {"created_at": created}})
    return {"query": {"bool": {"filter": filters}}, "sort": [{"created_at": "desc"}, {"id": "desc"}],
            "from": search.offset, "size": search.size, "track_total_hits": True}


def _unavailable(exc: Exception) -> ServiceUnavailable:
    log.warning("search: Elasticsearch failed: %s", exc)
    return ServiceUnavailable("Search is unavailable right now; try again shortly.")


class ElasticBackend:
    name = "elasticsearch"

    def __init__(self, client: AsyncElasticsearch, db: Database, *, prefix: str, versions: Store):
        self.client = client
        self.indices = Indices(client, prefix)
        self.versions = versions
        self._db = db
        self._lock = SyncLock(db, f"ticketblue-search-sync:{prefix}")

    # ---- searching ------------------------------------------------------------------------------
    async def version(self) -> str:
        return await self.versions.token(CATALOGUE)

    async def catalogue(self, search: CatalogueSearch) -> tuple[str, CatalogueResults]:
        # The version is read before the query, and the sync moves it only after a change is
        # searchable: the answer is at least as new as the version it will be cached under.
        version = await self.version()
        searches = []
        for kind in CATALOGUE_KINDS:
            searches += [{"index": self.indices.alias(kind)}, _catalogue_body(kind, search)]
        try:
            answer = await self.client.msearch(searches=searches, filter_path=_FILTER_PATH)
        except Exception as exc:
            raise _unavailable(exc) from exc
        lists, totals = {}, {}
        for kind, response in zip(CATALOGUE_KINDS, answer["responses"]):
            if "error" in response:
                raise _unavailable(RuntimeError(str(response["error"])[:500]))
            hits = response["hits"].get("hits", [])
            lists[kind] = [msgspec.convert(hit["_source"], _HITS[kind]) for hit in hits]
            totals[kind] = response["hits"]["total"]["value"]
        return version, CatalogueResults(**lists, page=search.page, size=search.size,
                                         totals=CatalogueTotals(**totals))

    async def reservations(self, search: ReservationSearch) -> Page[ReservationHit]:
        try:
            answer = await self.client.search(index=self.indices.alias(RESERVATIONS), **_reservations_body(search),
                                              filter_path="hits.total.value,hits.hits._source")
        except Exception as exc:
            raise _unavailable(exc) from exc
        items = [msgspec.convert(hit["_source"], ReservationHit) for hit in answer["hits"].get("hits", [])]
        return Page(items=items, page=search.page, size=search.size, total=answer["hits"]["total"]["value"])

    # ---- keeping the index in step -------------------------------------------------------------
    async def apply(self, changes: Changes) -> None:
        """Re-read these rows and index them (or delete the ones that are gone), with the performances
        whose documents show a changed hall or performer; then make it searchable and, for the
        catalogue, give cached answers a new version."""
        async with self._lock.held():
            changes = await self._with_dependents(changes)
            lines = b""
            async with fresh_reader(self._db) as conn:
                for kind, ids in changes.items():
                    fields = await load(conn, kind, sorted(ids))
                    lines += bulk_lines(self.indices.alias(kind), kind, fields, ids - fields.keys())
            await self.indices.bulk(lines, refresh=True, require_alias=True)
            if not changes.keys().isdisjoint(CATALOGUE_KINDS):
                await self.versions.bump(CATALOGUE)

    async def _with_dependents(self, changes: Changes) -> Changes:
        """Add the performances whose documents embed a changed hall or performer. Asked of the index
        (not the database): only it still knows where a deleted performer appeared."""
        out = {kind: set(ids) for kind, ids in changes.items()}
        for kind, field in _DEPENDENTS.items():
            if changes.get(kind):
                out.setdefault(PERFORMANCES, set()).update(await self._ids_where(field, changes[kind]))
        return out

    async def _ids_where(self, field: str, values: set[int]) -> set[int]:
        found, after = set(), None
        while True:
            page = await self.client.search(
                index=self.indices.alias(PERFORMANCES), query={"terms": {field: sorted(values)}}, size=1000,
                sort=[{"id": "asc"}], search_after=after, source=False, filter_path="hits.hits.sort")
            hits = page.get("hits", {}).get("hits", [])
            found.update(hit["sort"][0] for hit in hits)
            if len(hits) < 1000:
                return found
            after = hits[-1]["sort"]

    # ---- lifecycle -------------------------------------------------------------------------------
    async def ping(self) -> None:
        health = await self.client.cluster.health()
        if health["status"] == "red":
            raise RuntimeError("cluster status is red")

    async def close(self) -> None:
        await self.client.close()

