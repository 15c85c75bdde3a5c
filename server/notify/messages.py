"""What mail, SSE and Slack messages are made from: the payload a booking event carries, and how its
parts read in Korean and English (`WORDS[language]`, and `Bilingual` for one thing said in both). The
same payload is the SSE event's `data`.

The code that enqueues builds a `Booking` (or the same fields as a dict):

    Booking(reservation_id=12, performance_title="레미제라블", hall_name="블루홀",
            starts_at=round_starts_at, seats=[SeatLabel("A", 1, 3, "R")], amount=240000, discount=0)
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from server.outbox.dispatch import DeliveryFailed
from server.schemas.common import Language

_WEEKDAYS_KO = "월화수목금토일"


class SeatLabel(msgspec.Struct, frozen=True):
    section: str
    row: int
    number: int
    grade: str = ""


class Booking(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of reservation.*, payment.* and reminder.* events."""
    reservation_id: int
    performance_title: str
    starts_at: datetime                  # the round's start
    hall_name: str = ""
    seats: list[SeatLabel] = []
    amount: int = 0                      # KRW charged, after the discount
    discount: int = 0
    refund_amount: int | None = None     # set when a paid reservation was refunded
    status: str = ""


def booking(payload: dict) -> Booking:
    """The payload as a Booking; one that lacks what the message needs cannot ever be sent."""
    try:
        return msgspec.convert(payload, Booking)
    except msgspec.ValidationError as exc:
        raise DeliveryFailed(f"payload is not a booking: {exc}", permanent=True) from None


class DormantNotice(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of account.dormant_notice (mail): the account becomes dormant from `dormant_on`
    unless its owner logs in before."""
    last_seen_at: datetime               # the last login (or the sign-up)
    dormant_on: date


class DormantNoticesSent(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of account.dormant_notices_sent (Slack): one run of dormant-users-notice."""
    accounts: int
    dormant_on: date


def as_struct(payload: dict, kind: type[msgspec.Struct]):
    """The payload as `kind`; one that does not fit cannot ever be sent."""
    try:
        return msgspec.convert(payload, kind)
    except msgspec.ValidationError as exc:
        raise DeliveryFailed(f"payload is not a {kind.__name__}: {exc}", permanent=True) from None


# ---- how the parts read ----------------------------------------------------------------------------
class Bilingual(NamedTuple):
    """One thing said in each language, side by side where it is written."""
    ko: str
    en: str

    def in_(self, language: Language) -> str:
        return self.en if language == "en" else self.ko


def won(amount: int) -> str:
    return f"{amount:,}원"


def krw(amount: int) -> str:
    return f"KRW {amount:,}"


def when_ko(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.year}년 {local.month}월 {local.day}일 ({_WEEKDAYS_KO[local.weekday()]}) {local:%H:%M}"


def when_en(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({local.tzname()})"


def seats_ko(seats: list[SeatLabel]) -> str:
    return ", ".join(f"{s.section}구역 {s.row}열 {s.number}번" + (f" ({s.grade}석)" if s.grade else "")
                     for s in seats)


def seats_en(seats: list[SeatLabel]) -> str:
    return ", ".join(f"section {s.section}, row {s.row}, seat {s.number}" + (f" ({s.grade})" if s.grade else "")
                     for s in seats)


def day_ko(day: date) -> str:
    return f"{day.year}년 {day.month}월 {day.day}일"


def day_en(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


class Words(NamedTuple):
    """How money, a show's time, a day and seats read in one language."""
    money: Callable[[int], str]
    when: Callable[[datetime, ZoneInfo], str]
    day: Callable[[date], str]
    seats: Callable[[list[SeatLabel]], str]


WORDS: dict[str, Words] = {"ko": Words(won, when_ko, day_ko, seats_ko), "en": Words(krw, when_en, day_en, seats_en)}


# The names of a booking's details, in mail lines ("공연: 레미제라블") and on its tickets.
LABELS: dict[str, Bilingual] = {
    "performance": Bilingual("공연", "Performance"),
    "venue": Bilingual("공연장", "Venue"),
    "date": Bilingual("일시", "Date"),
    "seats": Bilingual("좌석", "Seats"),
    "seat": Bilingual("좌석", "Seat"),
    "grade": Bilingual("등급", "Grade"),
    "price": Bilingual("가격", "Price"),
    "paid": Bilingual("결제 금액", "Amount paid"),
    "discount": Bilingual("할인", "discount"),
    "refunded": Bilingual("환불 금액", "Refunded"),
    "booking_number": Bilingual("예매 번호", "Booking number"),
}
