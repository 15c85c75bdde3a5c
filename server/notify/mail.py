"""Mail: plain-text messages for booking events in the recipient's language (users.language, read
when the mail is sent), sent with aiosmtplib, or written to the log when no SMTP server is configured.
The confirmation also carries the tickets, each with its QR code (an HTML alternative with inline
images, server/notify/ticket_mail.py); their codes are read from the tickets table when it is sent.

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
from server.notify.messages import LABELS, WORDS, Bilingual, Booking, DormantNotice, as_struct, booking
from server.notify.ticket_mail import TicketsHtml, tickets_html
from server.outbox.dispatch import DeliveryFailed, Message
from server.schemas.common import Language
from server.settings import SettingsError, env_name
from server.tickets import TicketSheet, booking_number, ticket_sheets

log = logging.getLogger(__name__)


# ---- what each event says ------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    subject: Bilingual
    intro: Bilingual              # "{name}" is the recipient's name
    money: bool = True            # whether the amount paid is worth repeating
    tickets: bool = False         # whether the booking's tickets come with it


TEMPLATES: dict[str, Template] = {
    "reservation.confirmed": Template(
        Bilingual("예매가 확정되었습니다", "Your booking is confirmed"),
        Bilingual("{name}님, 결제가 완료되어 예매가 확정되었습니다.",
                  "Hello {name}, your payment went through and your booking is confirmed."), tickets=True),
    "reservation.canceled": Template(
        Bilingual("예매가 취소되었습니다", "Your booking was canceled"),
        Bilingual("{name}님, 아래 예매가 취소되었습니다.", "Hello {name}, the booking below was canceled.")),
    "reservation.expired": Template(
        Bilingual("결제 기한이 지나 예매가 취소되었습니다", "Your reservation expired"),
        Bilingual("{name}님, 결제 기한 안에 결제가 되지 않아 예매가 취소되었고 좌석은 다시 판매됩니다.",
                  "Hello {name}, the reservation was not paid in time, so it was canceled and its seats "
                  "are on sale again."), money=False),
    "reminder.upcoming": Template(
        Bilingual("곧 공연이 시작됩니다", "Your performance is coming up"),
        Bilingual("{name}님, 예매하신 공연이 곧 시작됩니다. 늦지 않게 와 주세요.",
                  "Hello {name}, the performance you booked is coming up soon. See you there."), money=False),
    "reminder.review": Template(
        Bilingual("공연은 즐거우셨나요?", "How was the show?"),
        Bilingual("{name}님, 관람하신 공연의 후기를 Ticket Blue에 남겨 주세요.",
                  "Hello {name}, tell others what you thought: leave a review on Ticket Blue."), money=False),
}

DORMANT_SUBJECT = Bilingual("휴면 계정 전환 안내", "Your account will become dormant")
DORMANT_LINES = (          # "{name}", "{day}" (written out), "{seen}" and "{dormant_on}" (ISO dates)
    Bilingual("{name}님, 오랫동안 Ticket Blue에 로그인하지 않으셨습니다.",
              "Hello {name}, you have not signed in to Ticket Blue for a long time."),
    Bilingual("{day}부터 계정이 휴면 상태로 전환되며, 휴면이 오래 이어지면 개인정보가 삭제됩니다 (예매 기록은 남습니다).",
              "From {day} your account will be dormant; if it stays dormant for long, its personal data will be "
              "erased (bookings are kept)."),
    Bilingual("그 전에 로그인하시면 지금처럼 계속 이용하실 수 있고, 휴면 후에도 로그인하시면 다시 활성화됩니다.",
              "Sign in before then to keep using it as it is; signing in later re-activates it."),
    Bilingual("", ""),
    Bilingual("마지막 로그인: {seen}", "Last sign-in: {seen}"),
    Bilingual("휴면 전환 예정일: {dormant_on}", "Dormant from: {dormant_on}"),
)


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    language: Language


def render(event: str, payload: Booking, *, to: Recipient, mail_from: str, zone: ZoneInfo, message_id: str,
           tickets: TicketSheet | None = None) -> EmailMessage:
    """The mail about `event`; for one whose template has tickets, and with `tickets` that has some,
    an HTML alternative shows them."""
    template = TEMPLATES.get(event)
    if template is None:
        raise DeliveryFailed(f"no mail template for {event}", permanent=True)
    b, language, words = payload, to.language, WORDS[to.language]

    def line(label: str, value: str) -> str:
        return f"{LABELS[label].in_(language)}: {value}"

    money = []
    if template.money:
        discount = f" ({LABELS['discount'].in_(language)} {words.money(b.discount)})" if b.discount else ""
        money = [line("paid", words.money(b.amount) + discount),
                 *([line("refunded", words.money(b.refund_amount))] if b.refund_amount is not None else [])]
    intro = template.intro.in_(language).format(name=to.name)
    lines = [intro, "",
             line("performance", b.performance_title), *([line("venue", b.hall_name)] if b.hall_name else []),
             line("date", words.when(b.starts_at, zone)), *([line("seats", words.seats(b.seats))] if b.seats else []),
             *money, line("booking_number", booking_number(b.reservation_id))]
    html = None
    if template.tickets and tickets is not None and tickets.tickets:
        html = tickets_html(b, tickets, intro=intro, language=language, zone=zone, message_id=message_id)
    return _mail(f"{template.subject.in_(language)} - {b.performance_title}", lines, to=to, mail_from=mail_from,
                 message_id=message_id, html=html)


def render_dormant_notice(notice: DormantNotice, *, to: Recipient, mail_from: str, zone: ZoneInfo,
                          message_id: str) -> EmailMessage:
    """account.dormant_notice: the legally required notice before an account is made dormant."""
    fields = dict(name=to.name, day=WORDS[to.language].day(notice.dormant_on),
                  seen=notice.last_seen_at.astimezone(zone).date().isoformat(),
                  dormant_on=notice.dormant_on.isoformat())
    lines = [said.in_(to.language).format(**fields) for said in DORMANT_LINES]
    return _mail(DORMANT_SUBJECT.in_(to.language), lines, to=to, mail_from=mail_from, message_id=message_id)


def _mail(subject: str, lines: list[str], *, to: Recipient, mail_from: str, message_id: str,
          html: TicketsHtml | None = None) -> EmailMessage:
    """Plain text; with `html`, multipart/alternative of the text and the HTML, which is
    multipart/related with its images."""
    message = EmailMessage()
    message["Subject"] = f"[Ticket Blue] {subject}"
    message["From"] = mail_from
    message["To"] = formataddr((to.name, to.address))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content("\n".join([*lines, "", "Ticket Blue", ""]))
    if html is not None:
        message.add_alternative(html.markup, subtype="html")
        page = message.get_payload()[1]
        for cid, png in html.images:
            page.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline",
                             filename=f"{cid.partition('-outbox')[0]}.png")
    # (last: set_content and add_alternative move or drop the Content-* headers there are)
    message["Content-Language"] = to.language
    return message


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
        text = message.get_body(preferencelist=("plain",))      # (the tickets' HTML and images are not logged)
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], text.get_content() if text else "")


def open_mailer(smtp_url: str, *, timeout: float) -> SmtpMailer | LogMailer:
    return SmtpMailer(smtp_url, timeout=timeout) if smtp_url else LogMailer()


# Who a mail goes to, as they are when it is sent (a changed address or language applies at once).
_RECIPIENT = sa.select(users.c.id, users.c.email, users.c.name, users.c.language)


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
        self._tickets: dict[int, TicketSheet] = {}

    async def prepare(self, messages: list[Message]) -> None:
        """The batch's recipients and confirmations' tickets in one query each: fifty deliveries
        starting at once would otherwise take fifty pooled connections, in a burst that slows the
        bookings sharing the pool."""
        async with fresh_reader(self._db) as conn:
            rows = await conn.execute(_RECIPIENT.where(users.c.id.in_({m.user_id for m in messages})))
            self._recipients = {row.id: row for row in rows}
            self._tickets = await ticket_sheets(conn, {reservation for m in messages
                                                       if (reservation := _tickets_of(m)) is not None})

    async def deliver(self, message: Message) -> None:
        user = self._recipients.get(message.user_id)
        if user is None:               # not in a prepared batch (or its account is gone): ask now
            async with fresh_reader(self._db) as conn:
                user = (await conn.execute(_RECIPIENT.where(users.c.id == message.user_id))).first()
        if user is None or not user.email:
            raise DeliveryFailed("the user has no e-mail address (deleted account)", permanent=True)
        to = Recipient(user.email, user.name, user.language)
        message_id = f"<outbox-{message.id}@{self._domain}>"
        if message.event == "account.dormant_notice":
            mail = render_dormant_notice(as_struct(message.payload, DormantNotice), to=to, mail_from=self._mail_from,
                                         zone=self._zone, message_id=message_id)
        else:
            mail = render(message.event, booking(message.payload), to=to, mail_from=self._mail_from, zone=self._zone,
                          message_id=message_id, tickets=await self._tickets_for(message))
        await self._mailer.send(mail)

    async def _tickets_for(self, message: Message) -> TicketSheet | None:
        reservation_id = _tickets_of(message)
        if reservation_id is None:
            return None
        if reservation_id not in self._tickets:        # not in a prepared batch: ask now
            async with fresh_reader(self._db) as conn:
                return (await ticket_sheets(conn, {reservation_id}))[reservation_id]
        return self._tickets[reservation_id]


def _tickets_of(message: Message) -> int | None:
    """The reservation whose tickets come with this mail, if they do."""
    template = TEMPLATES.get(message.event)
    reservation_id = message.payload.get("reservation_id") if isinstance(message.payload, dict) else None
    return reservation_id if template is not None and template.tickets and isinstance(reservation_id, int) else None
