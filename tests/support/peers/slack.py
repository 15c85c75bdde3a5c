"""An HTTP server that speaks Slack's incoming-webhook protocol, for delivery tests.

`POST /services/<team>/<bot>/<secret>` with a JSON body `{"text": "..."}` is answered `200 ok`
(text/html, as Slack does). Unknown webhook paths get `404 no_service`, a body that is not a JSON
object `400 invalid_payload`, one without text `400 no_text`. Tests script other answers Slack
gives: `fail(500, "rollup_error")`, `fail(429, "rate_limited", retry_after=30)`,
`fail(410, "channel_is_archived")`; or hold every answer back until `release()` (a slow Slack).
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Answer:
    status: int
    body: str
    retry_after: int | None = None


@dataclass
class SlackPeer:
    path: str = "/services/T0TICKET/B0BLUE/s3cr3tw3bh00k"
    url: str = ""                                              # the webhook URL, once the server is up
    posted: list[str] = field(default_factory=list)          # texts accepted, in order
    requests: int = 0                                          # every POST to the webhook path
    _script: list[Answer] = field(default_factory=list)
    _gate: asyncio.Event | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/services/{tail:.*}", self.webhook)
        return app

    def fail(self, status: int, body: str, *, retry_after: int | None = None, times: int = 1) -> None:
        """The next `times` posts get this answer instead of being accepted."""
        self._script += [Answer(status, body, retry_after)] * times

    def hold(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    async def webhook(self, request: web.Request) -> web.Response:
        if request.path != self.path:
            return _answer(Answer(404, "no_service"))
        self.requests += 1
        if self._gate is not None:
            await self._gate.wait()
        if self._script:
            return _answer(self._script.pop(0))
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _answer(Answer(400, "invalid_payload"))
        if request.content_type != "application/json" or not isinstance(body, dict):
            return _answer(Answer(400, "invalid_payload"))
        if not isinstance(body.get("text"), str) or not body["text"].strip():
            return _answer(Answer(400, "no_text"))
        self.posted.append(body["text"])
        return _answer(Answer(200, "ok"))


def _answer(answer: Answer) -> web.Response:
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else None
    return web.Response(status=answer.status, text=answer.body, content_type="text/html", headers=headers)
