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


class DemoteChatter(logging.Filter):
    """Lines that say nothing an operator acts on are DEBUG, whatever level their library chose:
    alembic's plugin set-up and its dialect notes at every start. (Which migrations ran stays INFO.)"""
    LOGGERS = ("alembic.runtime.plugins",)
    MESSAGES = {"alembic.runtime.migration": ("Context impl ", "Will assume ")}

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        prefixes = self.MESSAGES.get(record.name)
        chatter = record.name in self.LOGGERS or (prefixes is not None and str(record.msg).startswith(prefixes))
        if chatter and record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self.level <= logging.DEBUG
        return True


def configure(level: str) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(DemoteChatter(logging.getLevelName(level)))
        handler.addFilter(RedactTokens())
