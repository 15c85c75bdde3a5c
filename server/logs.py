"""Logging set-up: one format for every logger, the request id in every line written for a request,
and no access token in any line.

Text (the default) or JSON (`TICKETBLUE_LOG_FORMAT=json`: one object per line, for a log shipper):
{"time", "level", "logger", "message", "request_id", "exception"?}.

WebSocket and SSE clients send their token as `?token=` (browsers cannot set headers there), and
aiohttp's access log writes every request line: the filter on the handlers cuts such values out of
every record, whichever logger wrote it, tracebacks included."""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

from server import request_ids

FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
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


class RequestId(logging.Filter):
    """Stamps each record with the id of the request (or outbox delivery) it was written for."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_ids.current()
        record.request_tag = f" [{record.request_id}]" if record.request_id else ""
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "request_id": getattr(record, "request_id", None)}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def prepare(handler: logging.Handler, level: str, log_format: str) -> None:
    """What every handler of ours does to a record: demote chatter, redact tokens (before formatting:
    the message and the traceback are rewritten), stamp the request id, then write text or JSON."""
    handler.addFilter(DemoteChatter(logging.getLevelName(level)))
    handler.addFilter(RedactTokens())
    handler.addFilter(RequestId())
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(FORMAT))


def configure(level: str, log_format: str = "text") -> None:
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        prepare(handler, level, log_format)
