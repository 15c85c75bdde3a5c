"""Slack: one line per booking that became real or stopped being real, posted to an incoming
webhook (`POST {"text": ...}`, answered `200 ok`).

Slack's answers decide what happens next: 429 says when to come back (Retry-After), 5xx and
network trouble are retried with backoff, any other 4xx (`invalid_payload`, `no_service`,
`channel_is_archived`, `action_prohibited`...) will not get better and dead-letters the message.
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import aiohttp

from server.notify.messages import Booking, DormantNoticesSent, as_struct, booking, seats_ko, won, when_ko
from server.outbox.dispatch import DeliveryFailed, Message

log = logging.getLogger(__name__)

HEADLINES = {
    "reservation.confirmed": ":white_check_mark: 예매 확정 (booking confirmed)",
    "reservation.canceled": ":x: 예매 취소 (booking canceled)",
}


def text_for(event: str, b: Booking, zone: ZoneInfo) -> str:
    headline = HEADLINES.get(event)
    if headline is None:
        raise DeliveryFailed(f"no Slack text for {event}", permanent=True)
    parts = [f"{headline} #{b.reservation_id}", b.performance_title, when_ko(b.starts_at, zone),
             seats_ko(b.seats), won(b.amount)]
    if b.refund_amount is not None:
        parts.append(f"환불 {won(b.refund_amount)}")
    return " · ".join(parts)


def dormant_notices_text(sent: DormantNoticesSent) -> str:
    return (f":zzz: 휴면 전환 예정 안내 {sent.accounts:,}건 발송 (dormant notices sent) · "
            f"{sent.dormant_on.isoformat()}부터 휴면 전환")


class SlackWebhook:
    def __init__(self, http: aiohttp.ClientSession, url: str, *, timeout: float):
        self._http = http
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(self, text: str) -> None:
        try:
            async with self._http.post(self._url, json={"text": text}, timeout=self._timeout) as response:
                body = (await response.text())[:200]
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryFailed(f"Slack: {type(exc).__name__}: {exc}") from None
        if status == 200:
            return
        reason = f"Slack answered {status} {body!r}"
        if status == 429:
            raise DeliveryFailed(reason, retry_after=_seconds(retry_after))
        raise DeliveryFailed(reason, permanent=400 <= status < 500)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None                      # an HTTP date or garbage: fall back to our backoff


class SlackChannel:
    """The outbox's Slack channel. Without a webhook URL Slack is off: messages are logged and done."""

    def __init__(self, webhook: SlackWebhook | None, *, zone: ZoneInfo):
        self._webhook = webhook
        self._zone = zone

    async def deliver(self, message: Message) -> None:
        if message.event == "account.dormant_notices_sent":
            text = dormant_notices_text(as_struct(message.payload, DormantNoticesSent))
        else:
            text = text_for(message.event, booking(message.payload), self._zone)
        if self._webhook is None:
            log.debug("Slack is off; not posting: %s", text)
            return
        await self._webhook.post(text)
