"""dormant-users-notice and dormant-users: warned by mail (and Slack told how many), dormant a notice
period later, re-activated by a login, anonymised when dormant for long; each run twice."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from server.db.tables import dormant_notices, users
from server.db.types import utcnow
from server.jobs.dormant_users import ANONYMOUS
from server.wiring import DATABASE
from tests.support.api import PASSWORD, eventually
from tests.support.backends import execute
from tests.support.jobs import ONE_ROW_CHUNKS, run
from tests.support.outbox import messages
from tests.support.peers.smtp import SmtpServer


@pytest.fixture
def settings_overrides(smtp_server, slack) -> dict:
    return {"jobs_scheduled": False, "smtp_url": smtp_server.url, "slack_webhook_url": slack.url,
            "outbox_poll_seconds": 0.05, **ONE_ROW_CHUNKS}


async def account(client, app, *, unused_days: int, email: bool = True) -> dict:
    user = await client.signup(name=f"unused {unused_days}d")
    values = {"created_at": utcnow() - timedelta(days=unused_days)}
    if not email:                                  # a Kakao account that shared no address
        values.update(email=None, kakao_id=f"kakao-{user['id']}")
    await execute(app, users.update().where(users.c.id == user["id"]).values(**values))
    return user


async def user_row(app, user_id: int):
    async with app[DATABASE].read_own_writes() as conn:
        return (await conn.execute(sa.select(users).where(users.c.id == user_id))).one()


async def test_accounts_are_warned_then_made_dormant_and_a_login_wakes_them(client, app, smtp_server, slack):
    soon = await account(client, app, unused_days=340)        # dormant in 25 days: warn now
    overdue = await account(client, app, unused_days=400)     # a year is over, but nobody warned it
    mute = await account(client, app, unused_days=400, email=False)
    recent = await account(client, app, unused_days=300)      # 65 days to go: not yet
    back = await account(client, app, unused_days=400)
    await execute(app, users.update().where(users.c.id == back["id"]).values(last_login_at=utcnow()))
    await execute(app, users.update().where(users.c.id == overdue["id"]).values(language="en"))

    told = await run(app, "dormant-users-notice")
    assert told.status == "succeeded" and told.counts == {"noticed": 3, "mailed": 2}
    mails = await messages(app, "account.dormant_notice")
    assert sorted(m.user_id for m in mails) == sorted([soon["id"], overdue["id"]])
    assert all(m.channel == "mail" for m in mails)
    # Both at the end of the notice period (for `soon` that is after its year is over: the later wins).
    notice_over = {(moment + timedelta(days=30)).date().isoformat() for moment in (told.started_at, told.finished_at)}
    assert {m.payload["dormant_on"] for m in mails} <= notice_over
    seen = datetime.fromisoformat({m.user_id: m.payload["last_seen_at"] for m in mails}[soon["id"]])
    assert abs(seen - (told.started_at - timedelta(days=340))) < timedelta(minutes=1)
    [summary] = await messages(app, "account.dormant_notices_sent")
    assert summary.channel == "slack" and summary.payload["accounts"] == 3

    received = await eventually(lambda: _mails_received(smtp_server, 2))
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == sorted([soon["email"], overdue["email"]])
    # Each in its reader's language only.
    korean, english = sorted(received, key=lambda m: m["To"].addresses[0].addr_spec != soon["email"])
    assert korean["Subject"] == "[Ticket Blue] 휴면 계정 전환 안내" and korean["Content-Language"] == "ko"
    assert "휴면 전환 예정일:" in korean.get_content() and "Dormant" not in korean.get_content()
    assert english["Subject"] == "[Ticket Blue] Your account will become dormant"
    assert "Dormant from:" in english.get_content() and "휴면" not in english.get_content()
    assert english["Content-Language"] == "en"
    posted = await eventually(lambda: _slack_posted(slack))
    assert posted == [f":zzz: 휴면 전환 예정 안내 3건 발송 (dormant notices sent) · {summary.payload['dormant_on']}부터 휴면 전환"]

    again = await run(app, "dormant-users-notice")
    assert again.counts == {"noticed": 0, "mailed": 0}
    assert len(await messages(app, "account.dormant_notice")) == 2
    assert len(await messages(app, "account.dormant_notices_sent")) == 1          # nothing to report: no post

    # A year unused, but warned only now: nobody goes dormant before the notice period is over.
    assert (await run(app, "dormant-users")).counts == {"dormant": 0, "anonymised": 0}
    await execute(app, dormant_notices.update().values(sent_at=utcnow() - timedelta(days=31)))
    made = await run(app, "dormant-users")
    assert made.counts == {"dormant": 2, "anonymised": 0}
    states = {u["id"]: (await user_row(app, u["id"])).status for u in (soon, overdue, mute, recent, back)}
    assert states == {soon["id"]: "active", overdue["id"]: "dormant", mute["id"]: "dormant",
                      recent["id"]: "active", back["id"]: "active"}
    assert (await user_row(app, overdue["id"])).dormant_at is not None
    assert (await run(app, "dormant-users")).counts == {"dormant": 0, "anonymised": 0}

    login = await client.post("/api/auth/login", json={"email": overdue["email"], "password": PASSWORD})
    assert login.status == 200
    me = await client.get("/api/users/me", token=login.json["access_token"])
    assert me.json["status"] == "active" and (await user_row(app, overdue["id"])).dormant_at is None
    # The login started a new stretch: once that one is a year old too, the notice of the stretch
    # before no longer counts, so no dormancy without a new notice.
    await execute(app, users.update().where(users.c.id == overdue["id"])
                  .values(last_login_at=utcnow() - timedelta(days=400)))
    await execute(app, dormant_notices.update().where(dormant_notices.c.user_id == overdue["id"])
                  .values(sent_at=utcnow() - timedelta(days=500)))
    assert (await run(app, "dormant-users")).counts["dormant"] == 0
    assert (await run(app, "dormant-users-notice")).counts == {"noticed": 1, "mailed": 1}


async def _mails_received(server: SmtpServer, count: int):
    return server.received if len(server.received) >= count else None


async def _slack_posted(peer):
    return peer.posted or None


async def test_long_dormant_accounts_are_anonymised_and_keep_their_row(client, app):
    gone = await account(client, app, unused_days=2000)
    kept = await account(client, app, unused_days=400)
    for user, dormant_days in ((gone, 1500), (kept, 30)):
        await execute(app, users.update().where(users.c.id == user["id"]).values(
            status="dormant", dormant_at=utcnow() - timedelta(days=dormant_days)))
    await execute(app, dormant_notices.insert().values(user_id=gone["id"], sent_at=utcnow() - timedelta(days=1531)))

    done = await run(app, "dormant-users")
    assert done.counts == {"dormant": 0, "anonymised": 1}
    row = await user_row(app, gone["id"])
    assert (row.status, row.email, row.deleted_email, row.password_hash, row.name) == (
        "deleted", None, None, None, ANONYMOUS)
    assert row.deleted_at is not None and (await user_row(app, kept["id"])).status == "dormant"
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(dormant_notices.c.user_id))).scalars().all() == []
    refused = await client.post("/api/auth/login", json={"email": gone["email"], "password": PASSWORD})
    assert refused.status == 401
    assert (await run(app, "dormant-users")).counts == {"dormant": 0, "anonymised": 0}
    assert (await client.signup(email=gone["email"]))["email"] == gone["email"]     # the address is free
