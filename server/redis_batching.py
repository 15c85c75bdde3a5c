"""Script calls made in the same turn of the event loop go to Redis together, as one pipeline.

A hold or a release over the seat map's socket is one Lua script. Sent one by one, each pays for
a connection taken from the pool and given back, redis-py's retry wrapper, its own write to the
socket and its own wake-up when the answer comes: well over half of what a hold costs this process.
Under load many holds arrive in one turn of the loop (one read of many sockets), so they are queued
instead and sent at the end of the turn as one pipeline (not a transaction: each script is atomic on
its own, and Redis runs them in the order sent): one connection, one write, one read of all the answers.
Alone, a call waits for nothing more than a `call_soon`.

On a cluster the calls of one turn are batched by their keys' hash slot (a round's keys share one),
each batch a cluster pipeline: it goes to the slot's owner, and after a failover redis-py finds the
new owner and sends again only what was not answered. A master that hangs holds up only its slots'
batches, not the rest of the turn's.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Hashable, Sequence

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from server.redis_client import Client, is_cluster
from server.request_ids import shared_task

_Call = tuple[AsyncScript, Sequence[Any], Sequence[Any], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, client: Client, *, answer_within: float):
        """A batch Redis has not answered within `answer_within` seconds fails with TimeoutError."""
        self._client = client
        self._answer_within = answer_within
        self._sharded = is_cluster(client)
        self._queued: dict[Hashable, list[_Call]] = defaultdict(list)   # batch (hash slot) -> its calls
        self._sending: set[asyncio.Task] = set()      # (the loop keeps only weak references to tasks)

    def call(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> asyncio.Future:
        """The script's answer, or the error Redis or the connection gave; sent at the end of this turn."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        if not self._queued:
            loop.call_soon(self._send_queued)
        batch = self._client.keyslot(keys[0]) if self._sharded else None
        self._queued[batch].append((script, keys, args, answer))
        return answer

    async def finish(self) -> None:
        """Until the batches under way are answered (before the client is closed)."""
        await asyncio.gather(*self._sending, return_exceptions=True)

    def _send_queued(self) -> None:
        batches, self._queued = self._queued, defaultdict(list)
        for calls in batches.values():
            self._spawn(self._send(calls))

    def _spawn(self, coroutine) -> None:
        task = shared_task(coroutine)            # (one batch carries many requests' calls)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, calls: list[_Call]) -> None:
        try:
            async with asyncio.timeout(self._answer_within):
                answers = await self._evaluate(calls)
                lost = [i for i, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
                if lost:
                    # Redis lost its scripts (restarted, or SCRIPT FLUSH): each is loaded once (on every
                    # master of a cluster), and the calls that missed it are sent again, still as one batch.
                    for script in {calls[i][0] for i in lost}:
                        await self._client.script_load(script.script)
                    for i, answer in zip(lost, await self._evaluate([calls[i] for i in lost])):
                        answers[i] = answer
        except BaseException as exc:             # the connection failed or Redis did not answer: for every call
            for *_, answer in calls:
                _settle(answer, exception=exc)
            if not isinstance(exc, Exception):   # cancelled (the engine closes): so are the calls
                raise
            return
        for (*_, answer), result in zip(calls, answers):
            if isinstance(result, Exception):
                _settle(answer, exception=result)
            else:
                _settle(answer, result=result)

    async def _evaluate(self, calls: list[_Call]) -> list:
        """Each call's answer, or the error Redis gave it, in the order of the calls."""
        async with self._client.pipeline(transaction=False) as pipe:
            for script, keys, args, _ in calls:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            return await pipe.execute(raise_on_error=False)


def _settle(answer: asyncio.Future, *, result: Any = None, exception: BaseException | None = None) -> None:
    if answer.done():                            # its caller stopped waiting (a timeout)
        return
    if isinstance(exception, asyncio.CancelledError):
        answer.cancel()
    elif exception is not None:
        answer.set_exception(exception)
    else:
        answer.set_result(result)
