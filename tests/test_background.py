"""Background loops stop even when what they run swallows the cancel meant to stop them."""
import asyncio

from server.background import Background


async def test_stop_ends_a_loop_whose_job_swallows_the_cancel():
    # As async-timeout does on Python 3.11 when a cancel races its timer (redis/redis-py#2551).
    started, runs = asyncio.Event(), []

    async def stubborn() -> None:
        runs.append(1)
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass

    loops = Background()
    loops.start(0.01, "stubborn", stubborn)
    await started.wait()
    async with asyncio.timeout(5):
        await loops.stop()
    assert runs == [1]


async def test_stop_ends_a_custom_loop_napping_between_turns_without_waiting_out_its_nap():
    turns = asyncio.Event()

    async def loop(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            turns.set()
            try:
                async with asyncio.timeout(3600):
                    await stopping.wait()
            except asyncio.CancelledError:
                pass                      # swallowed again: only the flag can end this loop

    loops = Background()
    loops.spawn("napper", loop)
    await turns.wait()
    async with asyncio.timeout(5):
        await loops.stop()


async def test_a_stopped_background_can_run_its_loops_again():
    loops, runs = Background(), asyncio.Queue()

    async def job() -> None:
        await runs.put(1)

    loops.start(3600, "once", job)
    await runs.get()
    await loops.stop()
    loops.start(3600, "again", job)
    async with asyncio.timeout(5):
        await runs.get()
    await loops.stop()
