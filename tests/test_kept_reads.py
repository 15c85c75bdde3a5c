"""Kept reads: callers asking at once share one read; a kept value lasts its TTL; a forgotten key is
read again and the read under way at the time is not kept; failures are not kept; a caller that gives
up does not stop the read the others wait for."""
from __future__ import annotations

import asyncio

import pytest

from server.kept_reads import KeptReads


class Source:
    """A read that waits until released, counting how often it was made."""

    def __init__(self):
        self.reads = 0
        self.value = "first"
        self.release = asyncio.Event()
        self.fail: Exception | None = None
        self.began: asyncio.Queue[str] = asyncio.Queue()      # one item per read begun

    async def read(self, key: str) -> str:
        self.reads += 1
        self.began.put_nowait(key)
        value = f"{key}:{self.value}"
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return value


async def test_two_hundred_callers_at_once_share_one_read():
    source = Source()
    kept = KeptReads(source.read, ttl_seconds=60)
    callers = [asyncio.create_task(kept.get("round")) for _ in range(200)]
    await source.began.get()
    source.release.set()
    assert await asyncio.gather(*callers) == ["round:first"] * 200
    assert source.reads == 1
    assert await kept.get("round") == "round:first" and source.reads == 1      # kept


async def test_a_value_is_read_again_once_its_ttl_has_passed():
    now = [100.0]
    source = Source()
    source.release.set()
    kept = KeptReads(source.read, ttl_seconds=5, clock=lambda: now[0])
    assert await kept.get("a") == "a:first"
    now[0] += 4.9
    source.value = "second"
    assert await kept.get("a") == "a:first" and source.reads == 1
    now[0] += 0.2
    assert await kept.get("a") == "a:second" and source.reads == 2


async def test_forgetting_during_a_read_keeps_its_older_answer_out():
    source = Source()
    kept = KeptReads(source.read, ttl_seconds=60)
    before = asyncio.create_task(kept.get("a"))
    await source.began.get()
    kept.forget("a")                         # the thing changed here while the read was under way
    source.value = "changed"
    after = asyncio.create_task(kept.get("a"))
    await source.began.get()
    source.release.set()
    assert await before == "a:first"         # (that caller asked before the change)
    assert await after == "a:changed"
    assert await kept.get("a") == "a:changed" and source.reads == 2


async def test_a_failed_read_reaches_its_callers_and_is_not_kept():
    source = Source()
    source.fail = ConnectionError("database gone")
    kept = KeptReads(source.read, ttl_seconds=60)
    callers = [asyncio.create_task(kept.get("a")) for _ in range(3)]
    await source.began.get()
    source.release.set()
    for outcome in await asyncio.gather(*callers, return_exceptions=True):
        assert isinstance(outcome, ConnectionError)
    source.fail = None
    assert await kept.get("a") == "a:first" and source.reads == 2


async def test_a_caller_that_gives_up_does_not_cancel_the_others_read():
    source = Source()
    kept = KeptReads(source.read, ttl_seconds=60)
    impatient = asyncio.create_task(kept.get("a"))
    patient = asyncio.create_task(kept.get("a"))
    await source.began.get()
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    source.release.set()
    assert await patient == "a:first" and source.reads == 1


async def test_the_oldest_entry_goes_when_the_most_are_kept():
    source = Source()
    source.release.set()
    kept = KeptReads(source.read, ttl_seconds=60, max_entries=2)
    for key in ("a", "b", "c"):
        await kept.get(key)
    await kept.get("b")
    await kept.get("c")
    assert source.reads == 3
    await kept.get("a")                      # "a" was let go for "c"
    assert source.reads == 4
