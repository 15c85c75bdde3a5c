"""Fan-out: per round with local viewers, one engine subscription and one in-memory copy of the
map. Each delta is encoded (and framed for the wire) once, as it arrives; a send joins a group's
waiting deltas into one write per viewer, the same bytes for everyone (encoded once more per user
whose own seats they touch, who see `mine`). An idle round sends at once. A busy one sends in steps,
each followed by a pause a quarter as long as the step (the loop's time for everything else: the
holds that make the next deltas need several turns of it each), and no group more than once per
tick: ten thousand viewers cost a write per viewer per cycle, not per delta.

The viewers of a round are dealt into GROUPS groups, and a step serves groups in turn until it has
spent SLICE_SECONDS: a small round is served whole in one step, a big one a few groups per step,
each group getting every delta since its own last send. A viewer then waits at most one cycle for
a change, instead of a cycle plus the time to write to everyone before it. A viewer that falls
behind gets a fresh snapshot instead of an ever-growing backlog.

When a round is deleted, its viewers get a last frame saying so and are let go (`Viewer.end`).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

from seatmap.engine import SeatEngine
from seatmap.frames import Batch, Encoded, delta_frame, encoded_delta, round_deleted_frame, snapshot_frame
from seatmap.model import Delta, NoSuchRound, RoundDeleted, Snapshot
from seatmap.protocol import ROUND_DELETED
from server.metrics import Metrics
from server.request_ids import shared_task

log = logging.getLogger(__name__)
TICK_SECONDS = 0.02          # a busy round's viewers are sent to at most this often...
TICK_PER_SEND = 1.25         # ...and a step starts no sooner than 1.25 times the last one took after it
SLICE_SECONDS = 0.01         # a step serves groups until it has taken this long
GROUPS = 8
SeatIds = Callable[[int], Awaitable[list[int]]]


class Viewer(Protocol):
    user_id: int | None

    def push(self, frame: bytes) -> None:
        """Queue a frame; never blocks. A full queue makes the viewer ask for a snapshot."""

    def push_batch(self, batch: Batch) -> None:
        """Queue the frames of a batch, in order, the same way (`batch.wire` is them on the wire)."""

    def end(self, frame: bytes, code: int, reason: bytes) -> None:
        """Send this last frame after what is queued, then close with `code` and `reason`."""


@dataclass(eq=False)
class ViewerGroup:
    viewers: set = field(default_factory=set)
    outgoing: list[Encoded] = field(default_factory=list)   # applied, not yet sent to this group


@dataclass(eq=False)
class RoundFeed:
    round_id: int
    seat_ids: list[int]
    snapshot: Snapshot | None = None                 # None while starting
    early: list[Delta] = field(default_factory=list)  # deltas that arrived while starting
    groups: list[ViewerGroup] = field(default_factory=lambda: [ViewerGroup() for _ in range(GROUPS)])
    group_of: dict = field(default_factory=dict)     # viewer -> its group
    cursor: int = 0                                  # the group the next step starts with
    resyncing: bool = False
    next_send: float = 0.0                           # loop time before which a step waits
    send_scheduled: bool = False

    @property
    def viewers(self):
        return self.group_of.keys()

    def next_group(self) -> ViewerGroup:
        """Where the next viewer goes: the smallest group, so that groups stay even as viewers leave."""
        return min(self.groups, key=lambda group: len(group.viewers))

    def add(self, viewer: Viewer, group: ViewerGroup) -> None:
        group.viewers.add(viewer)
        self.group_of[viewer] = group

    def remove(self, viewer: Viewer) -> None:
        group = self.group_of.pop(viewer, None)
        if group is not None:
            group.viewers.discard(viewer)

    def frame_for(self, viewer: Viewer) -> bytes:
        return snapshot_frame(self.snapshot, self.seat_ids, viewer.user_id)


class Hub:
    def __init__(self, engine: SeatEngine, seat_ids: SeatIds, metrics: Metrics | None = None):
        self._engine = engine
        self._metrics = metrics or Metrics()
        self._seat_ids = seat_ids
        self._feeds: dict[int, RoundFeed] = {}
        self._starting: dict[int, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()

    # ---- viewers ---------------------------------------------------------------------------
    async def join(self, round_id: int, viewer: Viewer) -> None:
        """Add a viewer; its first frame is the snapshot its deltas continue from. NoSuchRound when
        the round is gone (or goes while the feed starts)."""
        feed = await self._feed(round_id)
        if self._feeds.get(round_id) is not feed:
            raise NoSuchRound(round_id)
        group = feed.next_group()
        self._send_group(feed, group)      # what the snapshot already holds must not follow it
        feed.add(viewer, group)
        viewer.push(feed.frame_for(viewer))
        self._metrics.frames_sent(1)

    async def leave(self, round_id: int, viewer: Viewer) -> None:
        feed = self._feeds.get(round_id)
        if feed is None:
            return
        feed.remove(viewer)
        if not feed.group_of and self._feeds.get(round_id) is feed:
            del self._feeds[round_id]
            await self._engine.unsubscribe(round_id, self._listener)

    def snapshot_frame(self, round_id: int, viewer: Viewer) -> bytes | None:
        """A fresh snapshot from the local copy, for a viewer that fell behind or asked."""
        feed = self._feeds.get(round_id)
        if feed is None or feed.snapshot is None:
            return None
        # The copy already holds the deltas waiting for the group's next turn: they go out now (to
        # this viewer too, which ignores them while it waits for its snapshot), not after the snapshot.
        group = feed.group_of.get(viewer)
        if group is not None:
            self._send_group(feed, group)
        self._metrics.frames_sent(1)               # (its caller sends it)
        return feed.frame_for(viewer)

    async def resume(self, round_id: int, viewer: Viewer, seq: int) -> None:
        """A client's `resume`: replay the deltas after `seq` up to what this viewer has already been
        sent live, or a snapshot when they are no longer kept. Clients skip deltas whose seq they have
        applied."""
        deltas = await self._engine.deltas_after(round_id, seq)
        current = self.current_seq(round_id)
        replay = [d for d in deltas or () if current is not None and d.seq <= current]
        caught_up = current is not None and (seq >= current or (replay and replay[-1].seq == current))
        if deltas is None or not caught_up:
            frame = self.snapshot_frame(round_id, viewer)
            if frame is not None:
                viewer.push(frame)
            return
        for delta in replay:
            viewer.push(delta_frame(delta, viewer.user_id))
        self._metrics.frames_sent(len(replay))

    def current_seq(self, round_id: int) -> int | None:
        feed = self._feeds.get(round_id)
        return feed.snapshot.seq if feed is not None and feed.snapshot is not None else None

    def viewer_count(self, round_id: int | None = None) -> int:
        feeds = self._feeds.values() if round_id is None else [self._feeds.get(round_id)]
        return sum(len(f.group_of) for f in feeds if f is not None)

    # ---- the round's copy --------------------------------------------------------------------
    async def _feed(self, round_id: int) -> RoundFeed:
        feed = self._feeds.get(round_id)
        if feed is not None and feed.snapshot is not None:
            return feed
        if round_id in self._starting:
            return await asyncio.shield(self._starting[round_id])
        future = asyncio.get_running_loop().create_future()
        self._starting[round_id] = future
        feed = None
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
            future.set_exception(exc)
            future.exception()           # retrieved: joiners waiting on it re-raise it
            if feed is not None and self._feeds.pop(round_id, None) is feed:   # (else _end dropped it all)
                await self._engine.unsubscribe(round_id, self._listener)
            raise
        finally:
            del self._starting[round_id]

    def _listener(self, delta: Delta | RoundDeleted | None) -> None:
        """Called by the engine for every delta of a subscribed round (None: some may be lost)."""
        if delta is None:
            for feed in list(self._feeds.values()):
                self._resync_later(feed)
            return
        feed = self._feeds.get(delta.round_id)
        if feed is None:
            return
        if isinstance(delta, RoundDeleted):
            self._end(feed)
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
        if delta.seq != feed.snapshot.seq + 1 or not delta.changes:   # a gap, or the round was rebuilt
            feed.early.append(delta)                 # a gap: our copy can't be trusted
            self._resync_later(feed)
            return
        feed.snapshot.apply(delta)
        self._metrics.deltas_published()
        encoded = encoded_delta(delta)
        for group in feed.groups:
            if group.viewers:                # (a viewer joining an empty group starts from the copy)
                group.outgoing.append(encoded)
        if not feed.send_scheduled:
            feed.send_scheduled = True
            loop = asyncio.get_running_loop()
            loop.call_at(max(loop.time(), feed.next_send), self._step, feed)

    def _step(self, feed: RoundFeed) -> None:
        """Serve groups in turn, from where the last step stopped, until SLICE_SECONDS are spent; then
        wait before the next step (see the module's doc) if any group has deltas waiting."""
        loop = asyncio.get_running_loop()
        feed.send_scheduled = False
        if self._feeds.get(feed.round_id) is not feed:
            return
        started = loop.time()
        batches: dict = {}
        sends = 0
        for served in range(1, GROUPS + 1):
            group = feed.groups[feed.cursor]
            feed.cursor = (feed.cursor + 1) % GROUPS
            sends += self._send_group(feed, group, batches)
            if loop.time() - started >= SLICE_SECONDS:
                break
        took = loop.time() - started
        self._metrics.hub_sent(sends, took)
        # (each group is served at most once a tick: a step that served a few of them waits that share)
        feed.next_send = started + max(TICK_SECONDS * served / GROUPS, TICK_PER_SEND * took)
        if any(group.outgoing for group in feed.groups):
            feed.send_scheduled = True
            loop.call_at(feed.next_send, self._step, feed)

    def _send_group(self, feed: RoundFeed, group: ViewerGroup, batches: dict | None = None) -> int:
        """The group's waiting deltas to its viewers, one write each: the shared frames to most, own
        ones to the users they involve. Returns how many viewers were sent to. `batches` carries the
        joined frames between groups sent to together (a small round's groups all wait for the same
        deltas), so each is joined once."""
        waiting, group.outgoing = group.outgoing, []
        if not waiting:
            return 0
        batches = {} if batches is None else batches
        span = (waiting[0].delta.seq, waiting[-1].delta.seq)   # consecutive deltas: their first and last name them
        shared = batches.get(span)
        if shared is None:
            shared = batches[span] = Batch.of(waiting)
        involved = shared.involved
        for viewer in group.viewers:
            user = viewer.user_id
            viewer.push_batch(shared.own(user) if user in involved else shared)     # (None never is)
        self._metrics.frames_sent(len(waiting) * len(group.viewers))
        return len(group.viewers)

    def _end(self, feed: RoundFeed) -> None:
        """The round was deleted: its viewers are told and let go, its subscription dropped."""
        if self._feeds.get(feed.round_id) is not feed:
            return
        del self._feeds[feed.round_id]
        frame = round_deleted_frame(feed.round_id)
        for viewer in list(feed.viewers):
            viewer.end(frame, *ROUND_DELETED)
        self._metrics.frames_sent(len(feed.viewers))
        self._background(self._engine.unsubscribe(feed.round_id, self._listener))

    def _background(self, coroutine) -> None:
        task = shared_task(coroutine)            # (a round's resync serves all its viewers)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _resync_later(self, feed: RoundFeed) -> None:
        if feed.resyncing:
            return
        feed.resyncing = True
        self._metrics.hub_resynced()
        self._background(self._resync(feed))

    async def _resync(self, feed: RoundFeed) -> None:
        try:
            snapshot = await self._engine.snapshot(feed.round_id)
        except NoSuchRound:                 # deleted, and its notice lost with the connection
            self._end(feed)
            return
        except Exception:
            log.exception("resync of round %s failed; the next gap retries", feed.round_id)
            feed.resyncing = False
            return
        batches: dict = {}
        for group in feed.groups:    # the old copy's last deltas go before the snapshot
            self._send_group(feed, group, batches)
        feed.snapshot, feed.resyncing = snapshot, False
        early, feed.early = feed.early, []
        for viewer in list(feed.viewers):
            viewer.push(feed.frame_for(viewer))
        self._metrics.frames_sent(len(feed.viewers))
        for delta in early:
            self._apply(feed, delta)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for round_id in list(self._feeds):
            await self._engine.unsubscribe(round_id, self._listener)
        self._feeds.clear()
