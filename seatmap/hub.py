"""Fan-out: per round with local viewers, one engine subscription and one in-memory copy of the
map. A delta is encoded once for everyone (and once more per user whose own seats it touches,
who see `mine`) and pushed to each viewer's bounded queue; a viewer that falls behind gets a
fresh snapshot instead of an ever-growing backlog.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

from seatmap.engine import SeatEngine
from seatmap.frames import delta_frame, snapshot_frame
from seatmap.model import Delta, Snapshot

log = logging.getLogger(__name__)
SeatIds = Callable[[int], Awaitable[list[int]]]


class Viewer(Protocol):
    user_id: int | None

    def push(self, frame: bytes) -> None:
        """Queue a frame; never blocks. A full queue makes the viewer ask for a snapshot."""


@dataclass(eq=False)
class RoundFeed:
    round_id: int
    seat_ids: list[int]
    snapshot: Snapshot | None = None                 # None while starting
    early: list[Delta] = field(default_factory=list)  # deltas that arrived while starting
    viewers: set = field(default_factory=set)
    resyncing: bool = False

    def frame_for(self, viewer: Viewer) -> bytes:
        return snapshot_frame(self.snapshot, self.seat_ids, viewer.user_id)


class Hub:
    def __init__(self, engine: SeatEngine, seat_ids: SeatIds):
        self._engine = engine
        self._seat_ids = seat_ids
        self._feeds: dict[int, RoundFeed] = {}
        self._starting: dict[int, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self.deltas_seen = 0

    # ---- viewers ---------------------------------------------------------------------------
    async def join(self, round_id: int, viewer: Viewer) -> None:
        """Add a viewer; its first frame is the snapshot its deltas continue from."""
        feed = await self._feed(round_id)
        feed.viewers.add(viewer)
        viewer.push(feed.frame_for(viewer))

    async def leave(self, round_id: int, viewer: Viewer) -> None:
        feed = self._feeds.get(round_id)
        if feed is None:
            return
        feed.viewers.discard(viewer)
        if not feed.viewers and self._feeds.get(round_id) is feed:
            del self._feeds[round_id]
            await self._engine.unsubscribe(round_id, self._listener)

    def snapshot_frame(self, round_id: int, viewer: Viewer) -> bytes | None:
        """A fresh snapshot from the local copy, for a viewer that fell behind or asked."""
        feed = self._feeds.get(round_id)
        return feed.frame_for(viewer) if feed is not None and feed.snapshot is not None else None

    def current_seq(self, round_id: int) -> int | None:
        feed = self._feeds.get(round_id)
        return feed.snapshot.seq if feed is not None and feed.snapshot is not None else None

    def viewer_count(self, round_id: int | None = None) -> int:
        feeds = self._feeds.values() if round_id is None else [self._feeds.get(round_id)]
        return sum(len(f.viewers) for f in feeds if f is not None)

    # ---- the round's copy --------------------------------------------------------------------
    async def _feed(self, round_id: int) -> RoundFeed:
        feed = self._feeds.get(round_id)
        if feed is not None and feed.snapshot is not None:
            return feed
        if round_id in self._starting:
            return await asyncio.shield(self._starting[round_id])
        future = asyncio.get_running_loop().create_future()
        self._starting[round_id] = future
        try:
            feed = RoundFeed(round_id, await self._seat_ids(round_id))
            self._feeds[round_id] = feed
            # Subscribe first, then read the snapshot: nothing between the two is lost, and
            # what arrived early is applied on top if it is newer than the snapshot.
            await self._engine.subscribe(round_id, self._listener)
            feed.snapshot = await self._engine.snapshot(round_id)
            early, feed.early = feed.early, []
            for delta in early:
                self._apply(feed, delta)
            future.set_result(feed)
            return feed
        except BaseException as exc:
            self._feeds.pop(round_id, None)
            future.set_exception(exc)
            future.exception()           # retrieved: joiners waiting on it re-raise it
            raise
        finally:
            del self._starting[round_id]

    def _listener(self, delta: Delta | None) -> None:
        """Called by the engine for every delta of a subscribed round (None: some may be lost)."""
        if delta is None:
            for feed in list(self._feeds.values()):
                self._resync_later(feed)
            return
        feed = self._feeds.get(delta.round_id)
        if feed is None:
            return
        if feed.snapshot is None:
            feed.early.append(delta)
            return
        self._apply(feed, delta)

    def _apply(self, feed: RoundFeed, delta: Delta) -> None:
        if feed.resyncing:
            feed.early.append(delta)                 # applied on top of the coming snapshot
            return
        if delta.seq <= feed.snapshot.seq:
            return                                   # already in the snapshot
        if delta.seq != feed.snapshot.seq + 1:
            feed.early.append(delta)                 # a gap: our copy can't be trusted
            self._resync_later(feed)
            return
        feed.snapshot.apply(delta)
        self.deltas_seen += 1
        shared = delta_frame(delta)                  # encoded once for everyone not involved
        own: dict[int, bytes] = {}
        for viewer in feed.viewers:
            user = viewer.user_id
            if user is not None and delta.involves(user):
                frame = own.get(user)
                if frame is None:
                    frame = own[user] = delta_frame(delta, user)
                viewer.push(frame)
            else:
                viewer.push(shared)

    def _resync_later(self, feed: RoundFeed) -> None:
        if feed.resyncing:
            return
        feed.resyncing = True
        task = asyncio.get_running_loop().create_task(self._resync(feed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resync(self, feed: RoundFeed) -> None:
        try:
            snapshot = await self._engine.snapshot(feed.round_id)
        except Exception:
            log.exception("resync of round %s failed; the next gap retries", feed.round_id)
            feed.resyncing = False
            return
        feed.snapshot, feed.resyncing = snapshot, False
        early, feed.early = feed.early, []
        for viewer in list(feed.viewers):
            viewer.push(feed.frame_for(viewer))
        for delta in early:
            self._apply(feed, delta)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for round_id in list(self._feeds):
            await self._engine.unsubscribe(round_id, self._listener)
        self._feeds.clear()
