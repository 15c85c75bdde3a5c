"""Mail: bilingual (Korean, then English) plain-text messages for booking events, sent with
aiosmtplib, or written to the log when no SMTP server is configured.

`smtp://user:pass@host:port` upgrades with STARTTLS when the server offers it; `smtps://` is TLS
from the first byte (ports 25 and 465 unless given). Each message carries a Message-ID derived from its outbox id, so a message
sent twice (an instance died after sending, before recording it) is recognisably the same mail.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiosmtplib
import sqlalchemy as sa

from server.db.database import Database, fresh_reader
from server.db.tables import users
from server.notify.messages import (Booking, DormantNotice, as_struct, booking, krw, seats_en, seats_ko, when_en,
                                    when_ko, won)
from server.outbox.dispatch import DeliveryFailed, Message
from server.settings import SettingsError, env_name

log = logging.getLogger(__name__)


# ---- what each event says ------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    subject_ko: str
    subject_en: str
    intro_ko: str                 # "{name}" is the recipient's name
    intro_en: str
    money: bool = True            # whether the amount paid is worth repeating


TEMPLATES: dict[str, Template] = {
    "reservation.confirmed": Template(
        "예매가 확정되었습니다", "Your booking is confirmed",
        "{name}님, 결제가 완료되어 예매가 확정되었습니다.",
        "Hello {name}, your payment went through and your booking is confirmed."),
    "reservation.canceled": Template(
        "예매가 취소되었습니다", "Your booking was canceled",
        "{name}님, 아래 예매가 취소되었습니다.",
        "Hello {name}, the booking below was canceled."),
    "reservation.expired": Template(
        "결제 기한이 지나 예매가 취소되었습니다", "Your reservation expired",
        "{name}님, 결제 기한 안에 결제가 되지 않아 예매가 취소되었고 좌석은 다시 판매됩니다.",
        "Hello {name}, the reservation was not paid in time, so it was canceled and its seats "
        "are on sale again.", money=False),
    "reminder.upcoming": Template(
        "곧 공연이 시작됩니다", "Your performance is coming up",
        "{name}님, 예매하신 공연이 곧 시작됩니다. 늦지 않게 와 주세요.",
        "Hello {name}, the performance you booked is coming up soon. See you there.", money=False),
    "reminder.review": Template(
        "공연은 즐거우셨나요?", "How was the show?",
        "{name}님, 관람하신 공연의 후기를 Ticket Blue에 남겨 주세요.",
        "Hello {name}, tell others what you thought: leave a review on Ticket Blue.", money=False),
}


def render(event: str, payload: Booking, *, to_address: str, to_name: str, mail_from: str,
           zone: ZoneInfo, message_id: str) -> EmailMessage:
    template = TEMPLATES.get(event)
    if template is None:
        raise DeliveryFailed(f"no mail template for {event}", permanent=True)
    b = payload
    korean = [template.intro_ko.format(name=to_name), "",
              f"공연: {b.performance_title}", *([f"공연장: {b.hall_name}"] if b.hall_name else []),
              f"일시: {when_ko(b.starts_at, zone)}", *([f"좌석: {seats_ko(b.seats)}"] if b.seats else []),
              *(_money_ko(b) if template.money else []), f"예매 번호: {b.reservation_id}"]
    english = [template.intro_en.format(name=to_name), "",
               f"Performance: {b.performance_title}", *([f"Venue: {b.hall_name}"] if b.hall_name else []),
               f"Date: {when_en(b.starts_at, zone)}", *([f"Seats: {seats_en(b.seats)}"] if b.seats else []),
               *(_money_en(b) if template.money else []), f"Booking number: {b.reservation_id}"]
    return _mail(f"{template.subject_ko} / {template.subject_en} - {b.performance_title}", korean, english,
                 to_address=to_address, to_name=to_name, mail_from=mail_from, message_id=message_id)


def render_dormant_notice(notice: DormantNotice, *, to_address: str, to_name: str, mail_from: str,
                          zone: ZoneInfo, message_id: str) -> EmailMessage:
    """account.dormant_notice: the legally required notice before an account is made dormant."""
    day, seen = notice.dormant_on, notice.last_seen_at.astimezone(zone).date()
    korean = [f"{to_name}님, 오랫동안 Ticket Blue에 로그인하지 않으셨습니다.",
              f"{day.year}년 {day.month}월 {day.day}일부터 계정이 휴면 상태로 전환되며, 휴면이 오래 이어지면 "
              "개인정보가 삭제됩니다 (예매 기록은 남습니다).",
              "그 전에 로그인하시면 지금처럼 계속 이용하실 수 있고, 휴면 후에도 로그인하시면 다시 활성화됩니다.",
              "", f"마지막 로그인: {seen.isoformat()}", f"휴면 전환 예정일: {day.isoformat()}"]
    english = [f"Hello {to_name}, you have not signed in to Ticket Blue for a long time.",
               f"From {day:%d %B %Y} your account will be dormant; if it stays dormant for long, its "
               "personal data will be erased (bookings are kept).",
               "Sign in before then to keep using it as it is; signing in later re-activates it.",
               "", f"Last sign-in: {seen.isoformat()}", f"Dormant from: {day.isoformat()}"]
    return _mail("휴면 계정 전환 안내 / Your account will become dormant", korean, english,
                 to_address=to_address, to_name=to_name, mail_from=mail_from, message_id=message_id)


def _mail(subject: str, korean: list[str], english: list[str], *, to_address: str, to_name: str, mail_from: str,
          message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[Ticket Blue] {subject}"
    message["From"] = mail_from
    message["To"] = formataddr((to_name, to_address))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Content-Language"] = "ko, en"
    message.set_content("\n".join([*korean, "", "-" * 40, "", *english, "", "Ticket Blue", ""]))
    return message


def _money_ko(b: Booking) -> list[str]:
    lines = [f"결제 금액: {won(b.amount)}" + (f" (할인 {won(b.discount)})" if b.discount else "")]
    if b.refund_amount is not None:
        lines.append(f"환불 금액: {won(b.refund_amount)}")
    return lines


def _money_en(b: Booking) -> list[str]:
    lines = [f"Amount paid: {krw(b.amount)}" + (f" (discount {krw(b.discount)})" if b.discount else "")]
    if b.refund_amount is not None:
        lines.append(f"Refunded: {krw(b.refund_amount)}")
    return lines


# ---- sending -----------------------------------------------------------------------------------------
class SmtpMailer:
    def __init__(self, smtp_url: str, *, timeout: float):
        url = urlsplit(smtp_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise SettingsError(f"{env_name('smtp_url')}: expected smtp://host:port or smtps://host:port")
        self._implicit_tls = url.scheme == "smtps"
        self.options = dict(
            hostname=url.hostname, port=url.port or (465 if self._implicit_tls else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=self._implicit_tls,
            start_tls=False if self._implicit_tls else None,      # None: STARTTLS when offered
            timeout=timeout)

    async def send(self, message: EmailMessage) -> None:
        client = aiosmtplib.SMTP(**self.options)
        try:
            await client.connect()               # EHLO, STARTTLS when offered, login
            await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            permanent = all(r.code >= 500 for r in exc.recipients)
            raise DeliveryFailed(f"recipient refused: {exc}", permanent=permanent) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our configuration, not this message: keep retrying while someone fixes the password.
            raise DeliveryFailed(f"SMTP login failed: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP server said {exc.code} {exc.message}", permanent=exc.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:     # refused, reset, timed out, TLS...
            raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}") from None
        finally:
            # Hang up without QUIT: aiosmtplib's context manager would wait for a stalled server's
            # answer to QUIT even when cancelled, which makes the dispatcher's timeout no timeout.
            client.close()


class LogMailer:
    """No SMTP server configured (the embedded run): the mail goes to the log, in full."""

    async def send(self, message: EmailMessage) -> None:
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content())


def open_mailer(smtp_url: str, *, timeout: float) -> SmtpMailer | LogMailer:
    return SmtpMailer(smtp_url, timeout=timeout) if smtp_url else LogMailer()


class MailChannel:
    """The outbox's mail channel: the recipient is the user's address at sending time, so a deleted
    account gets no mail."""

    def __init__(self, db: Database, mailer: SmtpMailer | LogMailer, *, mail_from: str, zone: ZoneInfo):
        self._db = db
        self._mailer = mailer
        self._mail_from = mail_from
        self._zone = zone
        self._domain = parseaddr(mail_from)[1].rpartition("@")[2] or "ticketblue.local"
        self._recipients: dict[int, sa.Row] = {}

    async def prepare(self, messages: list[Message]) -> None:
        """The batch's recipients in one query: fifty deliveries starting at once would otherwise
        take fifty pooled connections, in a burst that slows the bookings sharing the pool."""
        async with fresh_reader(self._db) as conn:
            rows = await conn.execute(sa.select(users.c.id, users.c.email, users.c.name)
                                      .where(users.c.id.in_({m.user_id for m in messages})))
            self._recipients = {row.id: row for row in rows}

    async def deliver(self, message: Message) -> None:
        user = self._recipients.get(message.user_id)
        if user is None:               # not in a prepared batch (or its account is gone): ask now
            async with fresh_reader(self._db) as conn:
                user = (await conn.execute(sa.select(users.c.email, users.c.name)
                                           .where(users.c.id == message.user_id))).first()
        if user is None or not user.email:
            raise DeliveryFailed("the user has no e-mail address (deleted account)", permanent=True)
        message_id = f"<outbox-{message.id}@{self._domain}>"
        if message.event == "account.dormant_notice":
            mail = render_dormant_notice(as_struct(message.payload, DormantNotice), to_address=user.email,
                                         to_name=user.name, mail_from=self._mail_from, zone=self._zone,
                                         message_id=message_id)
        else:
            mail = render(message.event, booking(message.payload), to_address=user.email, to_name=user.name,
                          mail_from=self._mail_from, zone=self._zone, message_id=message_id)
        await self._mailer.send(mail)
