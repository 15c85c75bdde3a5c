"""The outbox's delivery channels: SSE (the per-user event bus), mail and Slack."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import aiohttp

from server.db.database import Database
from server.notify.events import LocalBus, SseChannel
from server.notify.mail import MailChannel, open_mailer
from server.notify.slack import SlackChannel, SlackWebhook
from server.outbox.dispatch import Channel
from server.outbox.routes import MAIL, SLACK, SSE
from server.settings import Settings


def open_channels(settings: Settings, db: Database, http: aiohttp.ClientSession, bus: LocalBus) -> dict[str, Channel]:
    zone, timeout = ZoneInfo(settings.timezone), settings.delivery_timeout_seconds
    webhook = SlackWebhook(http, settings.slack_webhook_url, timeout=timeout) if settings.slack_webhook_url else None
    return {
        SSE: SseChannel(bus),
        MAIL: MailChannel(db, open_mailer(settings.smtp_url, timeout=timeout), mail_from=settings.mail_from,
                          zone=zone),
        SLACK: SlackChannel(webhook, zone=zone),
    }
