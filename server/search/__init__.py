"""Search: one keyword across performances, halls and performers, and the admins' booking search.

    text.py       folding, words and the n-grams computed in Python (no n-gram analysis in our ES)
    schemas.py    the endpoints' query and result types
    backend.py    the interface both backends implement, and the parsed queries they answer
    elastic.py    the Elasticsearch backend      indices.py  its indices, aliases, bulk and rebuild
    sql.py        the SQL backend (LIKE queries on the tables: the embedded default)
    documents.py  what is shown and indexed of each row, read from the database
    sync.py       `changed()` for writers (an outbox message + a new catalogue version) and the
                  outbox's `search` channel      reindex.py  the full rebuild with an alias swap
    cache.py      cached catalogue answers keyed by the catalogue's version (Redis or in-process)
    service.py    what the handlers call, and `open_search` that picks all of the above
"""
