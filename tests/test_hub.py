"""The fan-out hub: seq-exact streams per viewer, identical across processes, resync on gaps."""
import asyncio
import json

import pytest

import seatmap.hub
from seatmap.hub import GROUPS, Hub
from seatmap.model import NoSuchRound
from tests.support.engines import HOUR, ROUND

SEATS = list(range(1, 21))


async def seat_ids(round_id: int) -> list[int]:
    return SEATS


@pytest.fixture
async def hub(engine):
    """The hub of one process, on the `engine` fixture's engine."""
    hub = Hub(engine, seat_ids)
    yield hub
    await hub.close()


class Viewer:
    def __init__(self, user_id=None):
        self.user_id = user_id
        self.frames: asyncio.Queue = asyncio.Queue()

    def push(self, frame: bytes) -> None:
        self.frames.put_nowait(json.loads(frame))

    def push_batch(self, batch) -> None:
        for frame in batch.frames:
            self.push(frame)

    def end(self, frame: bytes, code: int, reason: bytes) -> None:
        self.push(frame)
        self.frames.put_nowait("closed")

    async def next(self) -> dict:
        return await asyncio.wait_for(self.frames.get(), 5)

    async def frames_until(self, seq: int) -> list[dict]:
        """The frames that arrive until one carries `seq`, that one included."""
        frames = [await self.next()]
        while frames[-1]["seq"] < seq:
            frames.append(await self.next())
        return frames


async def test_viewers_get_a_snapshot_then_every_delta_in_order(engine, hub):
    mine, other = Viewer(user_id=1), Viewer()
    await hub.join(ROUND, mine)
    await hub.join(ROUND, other)
    snap = await other.next()
    assert snap["type"] == "snapshot" and snap["seats"]["available"] == SEATS and (await mine.next()) == snap
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8)
    assert [(await other.next())["changes"] for _ in range(2)] == [[[1, "held"]], [[2, "held"]]]
    own = [await mine.next() for _ in range(2)]
    assert [f["changes"] for f in own] == [[[1, "mine"]], [[2, "held"]]]
    assert [f["seq"] for f in own] == [snap["seq"] + 1, snap["seq"] + 2]


async def test_a_snapshot_on_request_is_never_followed_by_deltas_it_already_holds(engine, hub):
    """Deltas wait for the next tick in the hub's copy; a snapshot taken meanwhile must not be
    followed by them (the viewer would step back in time)."""
    viewer = Viewer()
    await hub.join(ROUND, viewer)
    start = (await viewer.next())["seq"]
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    viewer.push(hub.snapshot_frame(ROUND, viewer))
    await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8)
    frames = await viewer.frames_until(start + 2)
    snapshot = next(i for i, f in enumerate(frames) if f["type"] == "snapshot")
    after = [f["seq"] for f in frames[snapshot:]]
    assert after == list(range(after[0], start + 3))


async def test_two_processes_deliver_identical_streams(make_engine):
    engine_a, engine_b = await make_engine(), await make_engine()
    hub_a, hub_b = Hub(engine_a, seat_ids), Hub(engine_b, seat_ids)
    viewer_a, viewer_b = Viewer(), Viewer()
    await hub_a.join(ROUND, viewer_a)
    await hub_b.join(ROUND, viewer_b)
    await viewer_a.next(), await viewer_b.next()

    async def user(n):
        engine = (engine_a, engine_b)[n % 2]
        try:
            await engine.hold(ROUND, n, [n % 20 + 1], ttl_ms=HOUR, limit=8)
            await engine.release(ROUND, n, [n % 20 + 1])
        except Exception:
            pass
    await asyncio.gather(*(user(n) for n in range(60)))
    final_seq = (await engine_a.snapshot(ROUND)).seq
    a, b = await viewer_a.frames_until(final_seq), await viewer_b.frames_until(final_seq)
    assert a == b
    assert [f["seq"] for f in a] == list(range(a[0]["seq"], final_seq + 1))
    await hub_a.close()
    await hub_b.close()


async def test_a_lost_connection_resyncs_viewers_with_a_snapshot(engine, hub):
    viewer = Viewer()
    await hub.join(ROUND, viewer)
    await viewer.next()
    await engine.hold(ROUND, 1, [5], ttl_ms=HOUR, limit=8)
    await viewer.next()
    hub._listener(None)                       # what the engine says when deltas may have been lost
    fresh = await viewer.next()
    assert fresh["type"] == "snapshot" and fresh["seats"]["held"] == [5]
    await engine.hold(ROUND, 1, [6], ttl_ms=HOUR, limit=8)
    after = await viewer.next()
    assert after["type"] == "delta" and after["seq"] == fresh["seq"] + 1


async def test_the_last_viewer_leaving_drops_the_subscription(engine, hub):
    viewer = Viewer()
    await hub.join(ROUND, viewer)
    assert hub.viewer_count(ROUND) == 1
    await hub.leave(ROUND, viewer)
    assert hub.viewer_count() == 0 and hub.current_seq(ROUND) is None
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    assert viewer.frames.qsize() == 1         # only the snapshot from joining


async def test_groups_served_in_turn_each_get_every_delta_in_order(engine, hub, monkeypatch):
    """A step that serves one group at a time (as at ten thousand viewers): viewers joining and
    asking for snapshots while deltas wait for their group's turn still see one unbroken sequence."""
    monkeypatch.setattr(seatmap.hub, "SLICE_SECONDS", 0)
    viewers = []
    for n in range(1, 31):
        viewer = Viewer(user_id=n % 4 or None)
        await hub.join(ROUND, viewer)
        viewers.append(viewer)
        await engine.hold(ROUND, n, [n % 20 + 1], ttl_ms=HOUR, limit=8)
        if n % 3 == 0:
            viewers[n // 2].push(hub.snapshot_frame(ROUND, viewers[n // 2]))
        await engine.release(ROUND, n, [n % 20 + 1])
    final = (await engine.snapshot(ROUND)).seq
    feed = hub._feeds[ROUND]
    assert len({id(feed.group_of[v]) for v in viewers}) == GROUPS      # every group in use

    for viewer in viewers:
        frames = await viewer.frames_until(final)
        # From its last snapshot on, a viewer's deltas continue it one by one: none skipped or repeated.
        last = max(i for i, f in enumerate(frames) if f["type"] == "snapshot")
        seqs = [f["seq"] for f in frames[last:]]
        assert seqs == list(range(seqs[0], final + 1))


async def test_groups_sent_to_together_share_one_encoded_batch(engine, hub):
    """A small round's groups all wait for the same deltas: one step encodes (and frames) them once."""
    batches: list = []

    class Recording(Viewer):
        def push_batch(self, batch) -> None:
            batches.append(batch)
            super().push_batch(batch)

    viewers = [Recording() for _ in range(2 * GROUPS)]
    for viewer in viewers:
        await hub.join(ROUND, viewer)
        await viewer.next()
    await engine.hold(ROUND, 1, [3], ttl_ms=HOUR, limit=8)
    for viewer in viewers:
        assert (await viewer.next())["changes"] == [[3, "held"]]
    assert len(batches) == len(viewers) and len({id(batch) for batch in batches}) == 1


async def test_a_deleted_round_ends_its_viewers_in_every_process(make_engine, truth):
    engine_a, engine_b = await make_engine(), await make_engine()
    hub_a, hub_b = Hub(engine_a, seat_ids), Hub(engine_b, seat_ids)
    viewers = [Viewer(), Viewer(user_id=1), Viewer()]
    for hub, viewer in zip((hub_a, hub_a, hub_b), viewers):
        await hub.join(ROUND, viewer)
        await viewer.next()
    truth.missing.add(ROUND)
    await engine_b.drop(ROUND)
    for viewer in viewers:
        assert await viewer.next() == {"type": "round_deleted", "round_id": ROUND}
        assert await viewer.next() == "closed"
    assert hub_a.viewer_count() == hub_b.viewer_count() == 0
    with pytest.raises(NoSuchRound):
        await hub_a.join(ROUND, Viewer())
    await hub_a.close()
    await hub_b.close()


async def test_a_deletion_whose_notice_was_lost_ends_the_viewers_at_the_resync(engine, hub, truth):
    viewer = Viewer()
    await hub.join(ROUND, viewer)
    await viewer.next()
    await engine.unsubscribe(ROUND, hub._listener)     # the hub hears nothing more, as when the link drops
    truth.missing.add(ROUND)
    await engine.drop(ROUND)
    hub._listener(None)                                # what the engine says once the link is back
    assert await viewer.next() == {"type": "round_deleted", "round_id": ROUND}
    assert await viewer.next() == "closed" and hub.viewer_count() == 0
