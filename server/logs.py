"""Logging set-up: one format for every logger, and no access token in any line.

WebSocket and SSE clients send their token as `?token=` (browsers cannot set headers there), and
aiohttp's access log writes every request line: the filter on the handlers cuts such values out of
every record, whichever logger wrote it, tracebacks included."""
from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TOKEN_IN_QUERY = re.compile(r"\b((?:access_)?token=)[^&\s\"'#]+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_tokens(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1" + REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_tokens(record.exc_text)
        return True


def configure(level: str) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTokens())
