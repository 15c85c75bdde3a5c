"""A real SMTP server (aiosmtpd) that keeps what it receives, for delivery tests; it can stall."""
from __future__ import annotations

import asyncio
import email
import email.policy
import threading

from aiohttp.test_utils import unused_port
from aiosmtpd.controller import Controller


class SmtpServer:
    """A real SMTP server (aiosmtpd) in its own thread that keeps what it receives. `hold()` makes it
    stall every message after DATA until `release()`: a slow or hung mail server."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.stalled = threading.Event()          # a message is being held
        self._gate = threading.Event()
        self._gate.set()
        self._controller = Controller(self, hostname="127.0.0.1", port=unused_port())
        self.url = f"smtp://127.0.0.1:{self._controller.port}"

    async def handle_DATA(self, server, session, envelope):
        if not self._gate.is_set():
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self._gate.wait)
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()
        self._controller.stop()
