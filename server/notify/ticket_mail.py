"""The confirmation mail's tickets: an HTML page in the reader's language with one ticket per seat
(title, date and time, venue and address, seat, grade, price, booking number) and its QR code, an
inline PNG image named by `cid:` (mail readers draw neither SVG nor images from our server by
default). Everything that comes from people (titles, names, addresses, sections) is escaped.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from server.notify.messages import LABELS, WORDS, Bilingual, Booking, SeatLabel
from server.schemas.common import Language
from server.tickets import TicketSheet, booking_number, qr_image

TICKET_OF = Bilingual("티켓 {n}/{total}", "Ticket {n} of {total}")
GRADE = Bilingual("{grade}석", "{grade}")
QR_ALT = Bilingual("입장 QR 코드", "Entry QR code")
AT_THE_DOOR = Bilingual("입장할 때 이 QR 코드를 보여 주세요.", "Show this QR code at the door.")

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="margin:0;padding:16px;background:#eef2fa;color:#16213d;font-family:'Apple SD Gothic Neo','Malgun Gothic','Noto Sans KR',Arial,sans-serif;line-height:1.5">
<p style="margin:0 0 16px;font-size:16px">{intro}</p>
{tickets}
<p style="margin:16px 0 0;color:#56617f;font-size:13px">Ticket Blue</p>
</body></html>
"""
_TICKET = """<div style="max-width:480px;margin:0 0 16px;padding:16px 20px;background:#ffffff;border:1px solid #c9d3ea;border-top:6px solid #1f4fd1;border-radius:12px">
<p style="margin:0;color:#1f4fd1;font-size:13px;font-weight:bold">Ticket Blue · {ticket_of}</p>
<h2 style="margin:4px 0 12px;font-size:20px;line-height:1.3">{title}</h2>
<table role="presentation" style="border-collapse:collapse;font-size:15px">
{rows}
</table>
<img src="cid:{cid}" alt="{qr_alt}" style="display:block;margin:16px 0 4px;border:0">
<p style="margin:0;color:#56617f;font-size:13px">{at_the_door}</p>
</div>"""
_ROW = ('<tr><th scope="row" style="padding:3px 16px 3px 0;text-align:left;vertical-align:top;color:#56617f;'
        'font-weight:normal;white-space:nowrap">{label}</th><td style="padding:3px 0">{value}</td></tr>')


@dataclass(frozen=True)
class TicketsHtml:
    markup: str
    images: list[tuple[str, bytes]]         # (Content-ID without brackets, PNG) for each ticket


def tickets_html(b: Booking, sheet: TicketSheet, *, intro: str, language: Language, zone: ZoneInfo,
                 message_id: str) -> TicketsHtml:
    """The page, and its images; their Content-IDs follow from the mail's Message-ID, so a mail sent
    twice is the same mail."""
    words = WORDS[language]
    images, cards = [], []
    for n, ticket in enumerate(sheet.tickets, start=1):
        cid = f"ticket-{n}-{message_id.strip('<>')}"
        images.append((cid, qr_image(ticket.code, "png")))
        venue = escape(b.hall_name) + (f"<br>{escape(sheet.hall_address)}" if sheet.hall_address else "")
        rows = [(LABELS["date"], escape(words.when(b.starts_at, zone))),
                (LABELS["venue"], venue),
                (LABELS["seat"], escape(words.seats([SeatLabel(ticket.section, ticket.row, ticket.number)]))),
                (LABELS["grade"], escape(GRADE.in_(language).format(grade=ticket.grade))),
                (LABELS["price"], escape(words.money(ticket.price))),
                (LABELS["booking_number"], f"<strong>{escape(booking_number(b.reservation_id))}</strong>")]
        cards.append(_TICKET.format(
            ticket_of=escape(TICKET_OF.in_(language).format(n=n, total=len(sheet.tickets))),
            title=escape(b.performance_title), cid=escape(cid), qr_alt=escape(QR_ALT.in_(language)),
            at_the_door=escape(AT_THE_DOOR.in_(language)),
            rows="\n".join(_ROW.format(label=escape(label.in_(language)), value=value) for label, value in rows)))
    markup = _PAGE.format(lang=language, title=escape(b.performance_title), intro=escape(intro),
                          tickets="\n".join(cards))
    return TicketsHtml(markup, images)
