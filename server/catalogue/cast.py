"""The cast of a performance: which performers appear in it."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.catalogue.common import lock_or_404, one_or_404
from server.db.database import Database
from server.db.tables import cast, performances, performers
from server.errors import Code, Conflict, NotFound
from server.schemas.catalogue import CastAdd, CastMember
from server.search.backend import PERFORMANCES
from server.search.sync import changed as search_changed


class Cast:
    def __init__(self, db: Database):
        self._db = db

    async def add(self, performance_id: int, request: CastAdd) -> CastMember:
        """404 for an unknown performance or performer (details.fields=["performer_id"] for the latter);
        409 already_exists when the performer is already in the cast (adding is not silently repeated)."""
        try:
            async with self._db.begin() as conn:
                await lock_or_404(conn, performances, performance_id, "performance")
                performer = await one_or_404(
                    conn, sa.select(performers.c.id, performers.c.name).where(performers.c.id == request.performer_id)
                    .with_for_update(), "performer", fields=["performer_id"])
                already = (await conn.execute(sa.select(cast.c.performer_id).where(
                    cast.c.performance_id == performance_id, cast.c.performer_id == performer.id))).first()
                if already:
                    raise Conflict("This performer is already in the cast.", code=Code.ALREADY_EXISTS)
                await conn.execute(cast.insert().values(performance_id=performance_id, performer_id=performer.id))
                await search_changed(conn, PERFORMANCES, [performance_id])
        except IntegrityError:
            # Two admins added the same performer at once; the primary key let one of them in.
            raise Conflict("This performer is already in the cast.", code=Code.ALREADY_EXISTS) from None
        return CastMember(id=performer.id, name=performer.name)

    async def remove(self, performance_id: int, performer_id: int) -> None:
        """404 when the performance does not exist or the performer is not in its cast."""
        async with self._db.begin() as conn:
            await lock_or_404(conn, performances, performance_id, "performance")
            result = await conn.execute(cast.delete().where(cast.c.performance_id == performance_id,
                                                            cast.c.performer_id == performer_id))
            await search_changed(conn, PERFORMANCES, [performance_id] if result.rowcount else [])
        if result.rowcount == 0:
            raise NotFound("This performer is not in the performance's cast.")
