"""Mail: messages in the recipient's language, delivered through real SMTP servers (the suite's
aiosmtpd Maildir server, and ones started here that stall or are not there), never slowing a booking."""
from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import unused_port

from server.app import create_app
from server.db.database import Database
from server.db.tables import users
from server.db.types import utcnow
from server.notify.mail import TEMPLATES, MailChannel, Recipient, SmtpMailer, open_mailer, render
from server.notify.messages import booking as as_booking
from server.outbox.dispatch import DeliveryFailed, Dispatcher, Policy
from server.outbox.routes import MAIL, SSE
from server.settings import SettingsError
from server.tickets import PrintedTicket, TicketSheet
from server.wiring import DATABASE
from tests.support.api import eventually
from tests.support.backends import backend_url, settings_for
from tests.support.factories import pay, reserve
from tests.support.outbox import SEOUL, Clock, booking, enqueue_one, make_user, messages, outbox_rows, settled
from tests.support.qr import decoded

FROM = "Ticket Blue <no-reply@ticketblue.test>"


def rendered(event: str = "reservation.confirmed", language: str = "ko", **changes) -> email.message.EmailMessage:
    return render(event, booking(7, **changes), to=Recipient("blue@example.com", "김블루", language), mail_from=FROM,
                  zone=SEOUL, message_id="<outbox-1@ticketblue.test>")


# ---- what it says ----------------------------------------------------------------------------------
def test_a_confirmation_reads_well_in_korean():
    mail = rendered(discount=10000)
    assert mail["Subject"] == "[Ticket Blue] 예매가 확정되었습니다 - 레미제라블 Les Misérables"
    assert mail["To"] == "김블루 <blue@example.com>" and mail["From"] == FROM
    assert mail["Message-ID"] == "<outbox-1@ticketblue.test>" and mail["Content-Language"] == "ko"
    assert mail.get_content().splitlines()[:9] == [
        "김블루님, 결제가 완료되어 예매가 확정되었습니다.", "", "공연: 레미제라블 Les Misérables", "공연장: 블루홀",
        "일시: 2026년 12월 24일 (목) 19:30", "좌석: A구역 1열 3번 (R석), A구역 1열 4번 (R석)",
        "결제 금액: 240,000원 (할인 10,000원)", "예매 번호: TB-000007", ""]


def test_a_confirmation_reads_well_in_english():
    mail = rendered(language="en", discount=10000)
    assert mail["Subject"] == "[Ticket Blue] Your booking is confirmed - 레미제라블 Les Misérables"
    assert mail["Content-Language"] == "en"
    assert mail.get_content().splitlines()[:9] == [
        "Hello 김블루, your payment went through and your booking is confirmed.", "",
        "Performance: 레미제라블 Les Misérables", "Venue: 블루홀", "Date: Thu 24 Dec 2026, 19:30 (KST)",
        "Seats: section A, row 1, seat 3 (R), section A, row 1, seat 4 (R)",
        "Amount paid: KRW 240,000 (discount KRW 10,000)", "Booking number: TB-000007", ""]


def test_a_cancellation_states_the_refund():
    assert "환불 금액: 240,000원" in rendered("reservation.canceled", refund_amount=240000).get_content()
    assert "Refunded: KRW 240,000" in rendered("reservation.canceled", "en", refund_amount=240000).get_content()


@pytest.mark.parametrize("language,other", [("ko", "en"), ("en", "ko")])
@pytest.mark.parametrize("event", sorted(TEMPLATES))
def test_every_mailed_event_is_written_in_the_readers_language_only(event, language, other):
    mail, template = rendered(event, language), TEMPLATES[event]
    body = mail.get_content()
    assert template.subject.in_(language) in mail["Subject"] and template.subject.in_(other) not in mail["Subject"]
    assert template.intro.in_(language).format(name="김블루") in body
    assert template.intro.in_(other).format(name="김블루") not in body
    assert ("결제 금액" in body or "Amount paid" in body) == template.money
    assert mail["Content-Language"] == language


def test_a_confirmation_with_tickets_shows_each_in_html_with_its_qr_code_and_escapes_what_people_wrote():
    sheet = TicketSheet("서울 종로구 <대학로> 1", [PrintedTicket("12.AAAA.BBBB", "A", 1, 3, "R", 120000),
                                                 PrintedTicket("13.CCCC.DDDD", "A", 1, 4, "R", 120000)])
    mail = render("reservation.confirmed", booking(7, performance_title='<b>Les "Mis" & Co</b>'),
                  to=Recipient("blue@example.com", "<i>Jane</i>", "en"), mail_from=FROM, zone=SEOUL,
                  message_id="<outbox-5@ticketblue.test>", tickets=sheet)
    assert mail.get_content_type() == "multipart/alternative" and mail["Content-Language"] == "en"
    text, page = mail.get_payload()
    assert text.get_content_type() == "text/plain" and "Booking number: TB-000007" in text.get_content()
    assert page.get_content_type() == "multipart/related"
    html, *images = page.get_payload()
    markup = html.get_content()
    assert [i.get_content_type() for i in images] == ["image/png", "image/png"]
    assert [decoded(i.get_content()) for i in images] == ["12.AAAA.BBBB", "13.CCCC.DDDD"]
    for image in images:                    # each image is the one its ticket names
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in markup
    for shown in ("Ticket 1 of 2", "Ticket 2 of 2", "Thu 24 Dec 2026, 19:30 (KST)", "블루홀<br>서울 종로구 &lt;대학로&gt; 1",
                  "section A, row 1, seat 3", "section A, row 1, seat 4", ">R<", "KRW 120,000", "TB-000007",
                  "&lt;b&gt;Les &quot;Mis&quot; &amp; Co&lt;/b&gt;", "Hello &lt;i&gt;Jane&lt;/i&gt;", 'lang="en"'):
        assert shown in markup, shown
    assert "<b>Les" not in markup and "<i>Jane" not in markup and "12.AAAA" not in markup    # (the code: only in the QR)


def test_only_a_confirmation_with_tickets_has_the_html():
    no_tickets = render("reservation.confirmed", booking(7), to=Recipient("b@example.com", "김블루", "ko"),
                        mail_from=FROM, zone=SEOUL, message_id="<outbox-5@t>", tickets=TicketSheet())
    canceled = render("reservation.canceled", booking(7), to=Recipient("b@example.com", "김블루", "ko"),
                      mail_from=FROM, zone=SEOUL, message_id="<outbox-6@t>",
                      tickets=TicketSheet("Seoul", [PrintedTicket("1.A.B", "A", 1, 1, "R", 1)]))
    assert no_tickets.get_content_type() == canceled.get_content_type() == "text/plain"


def test_a_message_that_can_never_be_written_is_permanent():
    with pytest.raises(DeliveryFailed) as missing:
        as_booking({"reservation_id": 1})
    with pytest.raises(DeliveryFailed) as unknown:
        rendered("coupon.issued")
    assert missing.value.permanent and unknown.value.permanent


def test_smtp_urls_choose_tls_and_carry_the_login():
    assert SmtpMailer("smtps://box%40mail.test:p%2Fss@mail.test", timeout=5).options == dict(
        hostname="mail.test", port=465, username="box@mail.test", password="p/ss", use_tls=True, start_tls=False,
        timeout=5)
    plain = SmtpMailer("smtp://mail.test", timeout=5).options
    assert (plain["port"], plain["use_tls"], plain["start_tls"], plain["username"]) == (25, False, None, None)
    with pytest.raises(SettingsError, match="TICKETBLUE_SMTP_URL"):
        SmtpMailer("http://mail.test", timeout=5)


# ---- delivering ------------------------------------------------------------------------------------
@dataclass
class Mail:
    db: Database
    user: int
    address: str


@pytest.fixture
def mail_app(tmp_path, database_url, aiohttp_client):
    """Start the application (with its dispatcher) on these settings; a user with a fresh address."""
    async def start(**overrides) -> Mail:
        app = create_app(settings_for(tmp_path, database_url, **overrides))
        await aiohttp_client(app)
        address = f"mail-{uuid.uuid4().hex}@example.com"
        return Mail(app[DATABASE], await make_user(app[DATABASE], email_address=address), address)
    return start


@pytest.fixture
def stalling_smtp(smtp_server):
    smtp_server.hold()
    return smtp_server


def maildir_messages(address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in Path(backend_url("MAILDIR"), "new").iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


async def test_a_confirmation_arrives_in_the_mailbox(mail_app):
    mail = await mail_app(smtp_url=backend_url("SMTP_URL"))
    ids = await enqueue_one(mail.db, "reservation.confirmed", mail.user, booking(12))
    await settled(mail.db, [ids[MAIL]])
    [message] = await eventually(lambda: asyncio.to_thread(maildir_messages, mail.address))
    assert message["Subject"] == "[Ticket Blue] 예매가 확정되었습니다 - 레미제라블 Les Misérables"
    [to] = message["To"].addresses
    assert (to.addr_spec, to.display_name) == (mail.address, "김블루")
    assert message["Message-ID"] == f"<outbox-{ids[MAIL]}@ticketblue.local>"
    body = message.get_content()
    assert "좌석: A구역 1열 3번 (R석), A구역 1열 4번 (R석)" in body and "결제 금액: 240,000원" in body
    assert "Amount paid" not in body and "예매 번호: TB-000012" in body


async def test_the_mail_is_in_the_language_the_reader_has_when_it_is_sent(database_url, caplog):
    db = Database(database_url)
    try:
        user = await make_user(db)
        row_id = (await enqueue_one(db, "reminder.upcoming", user, booking()))[MAIL]
        async with db.begin() as conn:         # after the event, before the mail goes
            await conn.execute(users.update().where(users.c.id == user).values(language="en"))
        channel = MailChannel(db, open_mailer("", timeout=5), mail_from=FROM, zone=SEOUL)
        with caplog.at_level(logging.INFO, logger="server.notify.mail"):
            assert await Dispatcher(db, {MAIL: channel}).run_once(MAIL) == 1
        assert (await outbox_rows(db, [row_id]))[row_id].status == "delivered"
        assert "[Ticket Blue] Your performance is coming up - 레미제라블" in caplog.text
        assert "Hello 김블루, the performance you booked is coming up soon." in caplog.text
        assert "곧 공연이" not in caplog.text
    finally:
        await db.close()


@pytest.fixture
def settings_overrides() -> dict:
    """The `client` fixture's application mails the suite's SMTP server (its Maildir)."""
    return {"smtp_url": backend_url("SMTP_URL")}


async def test_the_confirmation_mail_carries_tickets_whose_qr_codes_check_in_once(client, show):
    address = f"tickets-{uuid.uuid4().hex}@example.com"
    buyer = await client.token(email=address)
    reservation = await reserve(client, show, buyer, seats=2)
    _, paid = await pay(client, buyer, reservation)
    assert paid.status == 200
    [message] = await eventually(lambda: asyncio.to_thread(maildir_messages, address))
    assert message.get_content_type() == "multipart/alternative" and message["Content-Language"] == "ko"
    assert "예매 번호: " + reservation["booking_number"] in message.get_body(("plain",)).get_content()
    markup = message.get_body(("html",)).get_content()
    seats = {s["id"]: s for s in show["seats"]}
    for seat_id in reservation["seat_ids"]:
        seat = seats[seat_id]
        assert f"{seat['section']}구역 {seat['row']}열 {seat['number']}번" in markup
    for shown in ("Test Show", "Blue Hall<br>Seoul", "R석", "120,000원", reservation["booking_number"], "티켓 2/2"):
        assert shown in markup, shown
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    codes = [decoded(part.get_content()) for part in images]
    tickets = (await client.get(f"/api/reservations/{reservation['id']}", token=buyer)).json["tickets"]
    assert sorted(codes) == sorted(t["code"] for t in tickets) and len(codes) == 2
    # The codes were read when the mail was written: the outbox never held them.
    assert not any(code in str(row.payload) for row in await messages(client.http.app, "reservation.confirmed")
                   for code in codes)
    for code in codes:
        first = await client.post("/api/tickets/check-in", token=show["admin"], json={"code": code})
        assert first.status == 200 and first.json["booking_number"] == reservation["booking_number"]
        again = await client.post("/api/tickets/check-in", token=show["admin"], json={"code": code})
        assert (again.status, again.error_code()) == (409, "already_checked_in")


async def test_no_smtp_server_means_retries_then_a_dead_letter(mail_app):
    mail = await mail_app(smtp_url=f"smtp://127.0.0.1:{unused_port()}", outbox_max_attempts=3,
                          outbox_backoff_seconds=0.05, outbox_poll_seconds=0.05)
    ids = await enqueue_one(mail.db, "reservation.confirmed", mail.user, booking())
    row = (await settled(mail.db, [ids[MAIL]], "dead"))[ids[MAIL]]
    assert row.attempts == 3 and "SMTP" in row.last_error and row.delivered_at is None
    assert (await outbox_rows(mail.db, [ids[SSE]]))[ids[SSE]].status == "delivered"     # unaffected


async def test_a_stalled_smtp_server_delays_neither_bookings_nor_the_other_channels(mail_app, stalling_smtp):
    mail = await mail_app(smtp_url=stalling_smtp.url, delivery_timeout_seconds=60)
    first = await enqueue_one(mail.db, "reservation.confirmed", mail.user, booking(1))
    await eventually(lambda: asyncio.to_thread(stalling_smtp.stalled.is_set))     # its mail is stuck in DATA
    # A booking made now commits while the mail server holds the first mail, and its SSE event goes out.
    second = await asyncio.wait_for(enqueue_one(mail.db, "reservation.canceled", mail.user, booking(1)), 10)
    await settled(mail.db, [first[SSE], second[SSE]])
    rows = await outbox_rows(mail.db, [first[MAIL], second[MAIL]])
    assert all(r.status == "pending" for r in rows.values()) and stalling_smtp.received == []
    stalling_smtp.release()
    await settled(mail.db, [first[MAIL], second[MAIL]])
    assert len(stalling_smtp.received) == 2


async def test_a_mail_server_that_does_not_answer_in_time_is_retried(database_url, stalling_smtp):
    db, clock = Database(database_url), Clock()
    try:
        user = await make_user(db)
        row_id = (await enqueue_one(db, "reservation.confirmed", user, booking()))[MAIL]
        clock.now = utcnow()
        channel = MailChannel(db, SmtpMailer(stalling_smtp.url, timeout=10), mail_from=FROM, zone=SEOUL)
        dispatcher = Dispatcher(db, {MAIL: channel}, Policy(timeout_seconds=0.5, backoff_seconds=10), clock=clock)
        assert await dispatcher.run_once(MAIL) == 1
        row = (await outbox_rows(db, [row_id]))[row_id]
        assert (row.status, row.attempts) == ("pending", 1) and "no answer within 0.5s" in row.last_error
        stalling_smtp.release()
        clock.advance(10)
        # The retry may take its time (the server first finishes the abandoned session): only the
        # first attempt's limit is under test.
        patient = Dispatcher(db, {MAIL: channel}, Policy(timeout_seconds=10, backoff_seconds=10), clock=clock)
        assert await patient.run_once(MAIL) == 1
        row = (await outbox_rows(db, [row_id]))[row_id]
        assert row.status == "delivered", row.last_error
    finally:
        await db.close()


async def test_without_smtp_mail_is_written_to_the_log(database_url, caplog):
    db = Database(database_url)
    try:
        user = await make_user(db)
        row_id = (await enqueue_one(db, "reminder.upcoming", user, booking()))[MAIL]
        channel = MailChannel(db, open_mailer("", timeout=5), mail_from=FROM, zone=SEOUL)
        with caplog.at_level(logging.INFO, logger="server.notify.mail"):
            assert await Dispatcher(db, {MAIL: channel}).run_once(MAIL) == 1
        assert (await outbox_rows(db, [row_id]))[row_id].status == "delivered"
        assert "[Ticket Blue] 곧 공연이 시작됩니다 - 레미제라블" in caplog.text
        assert "김블루님, 예매하신 공연이 곧 시작됩니다" in caplog.text and "Hello" not in caplog.text
    finally:
        await db.close()


async def test_a_deleted_account_gets_no_mail(database_url):
    db = Database(database_url)
    try:
        user = await make_user(db)
        async with db.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user).values(email=None, status="deleted"))
        row_id = (await enqueue_one(db, "reservation.canceled", user, booking()))[MAIL]
        channel = MailChannel(db, open_mailer("", timeout=5), mail_from=FROM, zone=SEOUL)
        await Dispatcher(db, {MAIL: channel}).run_once(MAIL)
        row = (await outbox_rows(db, [row_id]))[row_id]
        assert (row.status, row.attempts) == ("dead", 1) and "no e-mail address" in row.last_error
    finally:
        await db.close()
