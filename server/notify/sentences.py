"""The `message` of an SSE event: one sentence for a person, in their language, made from the event's
payload with the words mail uses (server/notify/messages.py).

    "레미제라블 예매가 확정되었습니다 (A구역 1열 3번)" / "Your booking for 레미제라블 is confirmed (section A, row 1, seat 3)"

Each event has a sentence naming what its payload tells, and a plain one for a payload that lacks it
(an older event, another shape): a stream never fails for want of a detail.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from server.notify.messages import WORDS, Bilingual, SeatLabel
from server.schemas.common import Language
from server.tickets import booking_number

# event: (the sentence with the payload's details, the plain one). Fields: {title}, {seats} (the seats
# named), {seats_note} (" (the seats)", or nothing without seats), {when}, {amount}, {refund}, {booking},
# {name} (a coupon's).
SENTENCES: dict[str, tuple[Bilingual, Bilingual]] = {
    "reservation.created": (
        Bilingual("{title} 예매가 접수되었습니다{seats_note}. 결제 기한 안에 결제해 주세요",
                  "Your reservation for {title} is made{seats_note}: pay before it expires"),
        Bilingual("예매가 접수되었습니다. 결제 기한 안에 결제해 주세요", "Your reservation is made: pay before it expires")),
    "reservation.confirmed": (
        Bilingual("{title} 예매가 확정되었습니다{seats_note}", "Your booking for {title} is confirmed{seats_note}"),
        Bilingual("예매가 확정되었습니다", "Your booking is confirmed")),
    "reservation.canceled": (
        Bilingual("{title} 예매가 취소되었습니다{seats_note}", "Your booking for {title} was canceled{seats_note}"),
        Bilingual("예매가 취소되었습니다", "Your booking was canceled")),
    "reservation.expired": (
        Bilingual("결제 기한이 지나 {title} 예매가 취소되었습니다", "Your reservation for {title} expired: it was not paid in time"),
        Bilingual("결제 기한이 지나 예매가 취소되었습니다", "Your reservation expired: it was not paid in time")),
    "payment.confirmed": (
        Bilingual("{amount} 결제가 완료되었습니다 (예매 번호 {booking})", "Your payment of {amount} went through (booking {booking})"),
        Bilingual("결제가 완료되었습니다", "Your payment went through")),
    "payment.canceled": (
        Bilingual("결제가 취소되어 {refund}이 환불되었습니다 (예매 번호 {booking})",
                  "Your payment was canceled and {refund} refunded (booking {booking})"),
        Bilingual("결제가 취소되었습니다", "Your payment was canceled")),
    "hold.expired": (
        Bilingual("좌석 선점 시간이 끝났습니다", "Your seat hold ran out"),
        Bilingual("좌석 선점 시간이 끝났습니다", "Your seat hold ran out")),
    "seat.available": (
        Bilingual("{title} 관심 좌석이 다시 예매 가능합니다 ({seats})", "Available again for {title}: {seats}"),
        Bilingual("관심 좌석이 다시 예매 가능합니다", "A seat you watch is available again")),
    "coupon.issued": (
        Bilingual("{name} 쿠폰이 발급되었습니다", "You received the coupon {name}"),
        Bilingual("쿠폰이 발급되었습니다", "You received a coupon")),
    "reminder.upcoming": (
        Bilingual("{title} 공연이 곧 시작됩니다 ({when})", "{title} is coming up soon ({when})"),
        Bilingual("예매하신 공연이 곧 시작됩니다", "Your performance is coming up soon")),
    "reminder.review": (
        Bilingual("{title} 공연은 즐거우셨나요? 후기를 남겨 주세요", "How was {title}? Leave a review"),
        Bilingual("공연은 즐거우셨나요? 후기를 남겨 주세요", "How was the show? Leave a review")),
}


class _Details(msgspec.Struct):
    """What any event's payload may carry that a sentence names (other fields are ignored)."""
    performance_title: str = ""
    seats: list[SeatLabel] = []
    starts_at: datetime | None = None
    amount: int | None = None
    refund_amount: int | None = None
    reservation_id: int | None = None
    name: str = ""


def sentence(event: str, payload: object, language: Language, zone: ZoneInfo) -> str:
    """The sentence for a person about this event; the event's name for one no sentence is written for."""
    said = SENTENCES.get(event)
    if said is None:
        return event
    detailed, plain = said
    try:
        details = msgspec.convert(payload, _Details)
        return detailed.in_(language).format_map(_fields(details, language, zone))
    except (msgspec.ValidationError, KeyError):        # a payload without what the sentence names
        return plain.in_(language)


def _fields(d: _Details, language: Language, zone: ZoneInfo) -> dict[str, str]:
    """The payload's parts in words; a part it lacks is missing, which makes the sentence the plain one."""
    words = WORDS[language]
    # The places only: a grade would put brackets in brackets ("(A구역 1열 3번 (R석))").
    places = words.seats([SeatLabel(s.section, s.row, s.number) for s in d.seats])
    fields = {"seats_note": f" ({places})" if places else ""}
    if d.performance_title:
        fields["title"] = d.performance_title
    if places:
        fields["seats"] = places
    if d.starts_at is not None:
        fields["when"] = words.when(d.starts_at, zone)
    if d.amount is not None:
        fields["amount"] = words.money(d.amount)
    if d.refund_amount is not None:
        fields["refund"] = words.money(d.refund_amount)
    if d.reservation_id is not None:
        fields["booking"] = booking_number(d.reservation_id)
    if d.name:
        fields["name"] = d.name
    return fields
