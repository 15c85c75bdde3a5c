"""Running batch jobs: run records, one run at a time across instances (a lock with a lease), the
schedule, the admin API and the command line — on SQLite and on MariaDB."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import msgspec
import pytest
import sqlalchemy as sa

from server.app import create_app
from server.db.database import Database
from server.db.tables import dormant_notices, job_locks, job_runs, users
from server.db.types import utcnow
from server.jobs.base import Counts, Job
from server.jobs.lock import JobLock
from server.jobs.runner import JobRunning
from server.jobs.schedule import parse_intervals
from server.jobs.service import NAMES, Jobs, check_intervals
from server.settings import SettingsError
from server.wiring import DATABASE, JOBS, SERVICES, SETTINGS, STORAGE, job_context
from tests.support.api import ApiClient, eventually
from tests.support.backends import execute, settings_for
from tests.support.instances import ROOT


@pytest.fixture
def settings_overrides() -> dict:
    return {"jobs_scheduled": False}


async def runs_of(db: Database, job: str) -> list[sa.Row]:
    async with db.read_own_writes() as conn:
        return (await conn.execute(sa.select(job_runs).where(job_runs.c.job == job).order_by(job_runs.c.id))).all()


# ---- jobs of the tests' own, to drive the runner -------------------------------------------------------
class Gate(Job, name="gate", every_seconds=3600, counted=("passed",)):
    """Waits for the test: runs until the test opens the gate."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.entered, self.opened = asyncio.Event(), asyncio.Event()

    async def run(self, counts: Counts) -> None:
        counts.add(passed=1)
        self.entered.set()
        await self.opened.wait()


class Broken(Job, name="broken", every_seconds=3600, counted=("done",)):
    """Fails half way."""

    async def run(self, counts: Counts) -> None:
        counts.add(done=5)
        raise RuntimeError("the disk is full")


def instance(app, *job_types: type[Job], db: Database | None = None, **settings) -> Jobs:
    """The jobs of one more server instance on the same database (its own Jobs, locks and records)."""
    ctx = job_context(msgspec.structs.replace(app[SETTINGS], **settings), db or app[DATABASE], app[STORAGE],
                      app[SERVICES])
    return Jobs(ctx, jobs={t.name: t(ctx) for t in job_types})


# ---- the admin API ------------------------------------------------------------------------------------
async def test_admins_list_the_jobs_and_run_one_in_the_background(client, app):
    admin, user = await client.token(admin=True), await client.token()
    listed = await client.get("/api/admin/jobs", token=admin)
    assert listed.status == 200
    assert [j["name"] for j in listed.json] == list(NAMES)
    assert all(j["last_run"] is None and not j["running"] and not j["scheduled"] for j in listed.json)
    assert {j["name"]: j["every_seconds"] for j in listed.json}["expired-reservations"] == 60

    started = await client.post("/api/admin/jobs/expired-reservations/run", token=admin)
    assert started.status == 202 and started.json["job"] == "expired-reservations"
    run_id = started.json["run_id"]

    async def finished():
        reply = await client.get(f"/api/admin/jobs/runs/{run_id}", token=admin)
        return reply.json if reply.json["status"] != "running" else None
    done = await eventually(finished)
    assert done["status"] == "succeeded" and done["triggered_by"] == "api" and done["error"] is None
    assert done["counts"] == {"expired": 0, "expired_after_payment_check": 0}
    assert done["finished_at"] >= done["started_at"]
    last = {j["name"]: j["last_run"] for j in (await client.get("/api/admin/jobs", token=admin)).json}
    assert last["expired-reservations"] == done and last["dormant-users"] is None
    page = await client.get("/api/admin/jobs/runs?job=expired-reservations", token=admin)
    assert page.json["total"] == 1 and page.json["items"] == [done]
    assert (await client.get("/api/admin/jobs/runs?job=dormant-users", token=admin)).json["total"] == 0

    assert (await client.get("/api/admin/jobs", token=user)).status == 403
    assert (await client.post("/api/admin/jobs/dormant-users/run", token=user)).status == 403
    assert (await client.get("/api/admin/jobs")).status == 401
    assert (await client.post("/api/admin/jobs/no-such-job/run", token=admin)).status == 404
    assert (await client.get("/api/admin/jobs/runs/999999", token=admin)).error_code() == "not_found"
    assert (await client.get("/api/admin/jobs/runs?job=nope", token=admin)).status == 400
    paths = (await client.get("/openapi.json")).json["paths"]
    assert all(f"/api/admin/jobs/{name}/run" in paths for name in NAMES)


async def test_a_run_under_way_is_a_409_that_names_it(client, app):
    admin = await client.token(admin=True)
    holder = JobLock(app[DATABASE], "old-performances", seconds=60)
    assert await holder.acquire()
    await holder.attach(4242)
    refused = await client.post("/api/admin/jobs/old-performances/run", token=admin)
    assert refused.status == 409 and refused.error_code() == "job_running"
    assert refused.json["error"]["details"] == {"job": "old-performances", "run_id": 4242}
    assert {j["name"]: j["running"] for j in (await client.get("/api/admin/jobs", token=admin)).json} == {
        name: name == "old-performances" for name in NAMES}
    await holder.release()
    assert (await client.post("/api/admin/jobs/old-performances/run", token=admin)).status == 202


# ---- one at a time --------------------------------------------------------------------------------------
async def test_racing_for_a_lock_exactly_one_wins(client, app, settings):
    """Ten acquirers on two connections pools (two servers) at once: one lock."""
    other = Database(settings.resolved_database_url)
    try:
        locks = [JobLock(db, "race", seconds=60) for db in (app[DATABASE], other) for _ in range(5)]
        won = await asyncio.gather(*(lock.acquire() for lock in locks))
        assert sum(won) == 1
        async with other.read_own_writes() as conn:
            holders = (await conn.execute(sa.select(job_locks.c.holder).where(job_locks.c.job == "race"))).scalars().all()
        assert holders == [locks[won.index(True)].holder]
    finally:
        await other.close()


async def test_a_job_runs_on_one_instance_at_a_time(client, app, settings):
    other_db = Database(settings.resolved_database_url)
    try:
        first, second = instance(app, Gate), instance(app, Gate, db=other_db)
        running = asyncio.create_task(first.run_here("gate"))
        await first.jobs["gate"].entered.wait()
        [run] = await runs_of(app[DATABASE], "gate")
        assert run.status == "running"
        with pytest.raises(JobRunning) as refused:
            await second.run_here("gate")
        assert refused.value.details == {"job": "gate", "run_id": run.id}
        with pytest.raises(JobRunning):
            await second.start_run("gate")
        assert not second.jobs["gate"].entered.is_set()              # it never started there

        first.jobs["gate"].opened.set()
        assert (await running).status == "succeeded"
        second.jobs["gate"].opened.set()
        assert (await second.run_here("gate")).status == "succeeded"     # free again
        runs = await runs_of(app[DATABASE], "gate")
        assert [r.status for r in runs] == ["succeeded", "succeeded"] and runs[0].holder != runs[1].holder
        assert runs[0].finished_at <= runs[1].started_at
    finally:
        await other_db.close()


async def test_the_lease_is_renewed_while_the_job_runs(client, app):
    jobs, rival = instance(app, Gate, job_lock_seconds=3), instance(app, Gate, job_lock_seconds=3)
    running = asyncio.create_task(jobs.run_here("gate"))
    await jobs.jobs["gate"].entered.wait()

    async def expiry():
        async with app[DATABASE].read_own_writes() as conn:
            return (await conn.execute(sa.select(job_locks.c.expires_at))).scalar_one()
    first = await expiry()
    # Past the first lease: only a renewal keeps the lock.
    await eventually(lambda: _later_than(expiry, first + timedelta(seconds=1)), timeout=10)
    with pytest.raises(JobRunning):
        await rival.run_here("gate")
    jobs.jobs["gate"].opened.set()
    done = await running
    assert done.status == "succeeded" and done.counts == {"passed": 1}


async def _later_than(read, moment) -> bool:
    return await read() > moment


async def test_the_lock_of_a_dead_instance_is_taken_over_and_its_run_closed(client, app):
    """An instance took the lock and recorded a run, then died: nobody renews its lease. Once the
    lease is over another instance runs the job, and the dead one's run is closed as failed."""
    dead = JobLock(app[DATABASE], "gate", seconds=3)
    assert await dead.acquire()
    dead_run = await app[JOBS].runs.start("gate", "schedule", dead.holder)
    rival = instance(app, Gate)
    rival.jobs["gate"].opened.set()
    with pytest.raises(JobRunning):
        await rival.run_here("gate")

    async def taken_over():
        try:
            return await rival.run_here("gate")
        except JobRunning:
            return None
    run = await eventually(taken_over, timeout=10, every=0.2)
    assert run.status == "succeeded"
    closed = await app[JOBS].runs.get(dead_run)
    assert closed.status == "failed" and "abandoned" in closed.error and closed.finished_at is not None
    assert not await dead.renew()                                    # the dead one cannot come back


async def test_a_run_whose_lock_was_taken_over_stops(client, app):
    """The instance is alive but was cut off longer than its lease (a long pause): another took the job
    over. At its next renewal it finds out and stops its run, without touching the new holder's lock."""
    jobs = instance(app, Gate, job_lock_seconds=3)
    running = asyncio.create_task(jobs.run_here("gate"))
    await jobs.jobs["gate"].entered.wait()
    await execute(app, job_locks.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    usurper = JobLock(app[DATABASE], "gate", seconds=60)
    assert await usurper.acquire()
    stopped = await asyncio.wait_for(running, timeout=10)
    assert stopped.status == "failed" and "taken over" in stopped.error and stopped.counts == {"passed": 1}
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(job_locks.c.holder))).scalars().all() == [usurper.holder]


async def test_a_failing_job_is_recorded_with_its_error_and_counts(client, app):
    jobs = instance(app, Broken)
    run = await jobs.run_here("broken")
    assert run.status == "failed" and run.error == "RuntimeError: the disk is full"
    assert run.counts == {"done": 5} and run.finished_at is not None
    assert (await jobs.run_here("broken")).id == run.id + 1            # the lock was released


async def test_stopping_the_server_interrupts_a_run_and_records_it(client, app):
    jobs = instance(app, Gate)
    run_id = (await jobs.start_run("gate")).run_id
    await jobs.jobs["gate"].entered.wait()
    await jobs.stop()
    run = await jobs.get_run(run_id)
    assert run.status == "failed" and run.error.startswith("interrupted") and run.counts == {"passed": 1}
    async with app[DATABASE].read_own_writes() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(job_locks))).scalar_one() == 0


# ---- the schedule ------------------------------------------------------------------------------------
def test_intervals_come_from_the_setting():
    defaults = {"a": 60.0, "b": 86400.0}
    assert parse_intervals("", defaults) == defaults
    assert parse_intervals(" a=5 , b=0", defaults) == {"a": 5.0, "b": 0.0}
    for bad in ("c=5", "a=-1", "a=soon", "a"):
        with pytest.raises(SettingsError, match="TICKETBLUE_JOB_INTERVALS"):
            parse_intervals(bad, defaults)


def test_a_bad_schedule_stops_start_up(tmp_path):
    with pytest.raises(SettingsError, match="TICKETBLUE_JOB_INTERVALS"):
        check_intervals(settings_for(tmp_path, "sqlite://", job_intervals="dormant-users=daily"))
    out = subprocess.run([sys.executable, "-m", "server", "serve"], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "TICKETBLUE_DATA_DIR": str(tmp_path),
                              "TICKETBLUE_JOB_INTERVALS": "every-day=1"})
    assert out.returncode == 2 and "TICKETBLUE_JOB_INTERVALS" in out.stderr


async def test_two_instances_on_a_schedule_run_a_job_one_at_a_time(aiohttp_client, tmp_path, database_url):
    off = ",".join(f"{name}=0" for name in NAMES if name != "expired-reservations")
    settings = settings_for(tmp_path, database_url, jobs_scheduled=True, job_intervals=f"expired-reservations=1,{off}")
    apps = [create_app(settings), create_app(settings)]
    clients = [ApiClient(await aiohttp_client(a)) for a in apps]
    db = apps[0][DATABASE]

    async def four_runs():
        runs = [r for r in await runs_of(db, "expired-reservations") if r.status != "running"]
        return runs if len(runs) >= 4 else None
    runs = await eventually(four_runs, timeout=30, every=0.1)
    assert all(r.status == "succeeded" and r.triggered_by == "schedule" for r in runs)
    for before, after in zip(runs, runs[1:]):
        assert after.started_at >= before.finished_at                        # never two at once
        assert after.started_at - before.started_at >= timedelta(seconds=0.95)   # at most once a second
    listed = (await clients[1].get("/api/admin/jobs", token=await clients[1].token(admin=True))).json
    scheduled = {j["name"]: (j["scheduled"], j["next_run_at"] is not None) for j in listed}
    assert scheduled == {name: (name == "expired-reservations",) * 2 for name in NAMES}
    assert {r.job for r in await runs_of(db, "dormant-users")} == set()        # off the schedule: never run


# ---- the command line ----------------------------------------------------------------------------------
def command_line(settings, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "TICKETBLUE_DATABASE_URL": settings.database_url,
           "TICKETBLUE_DATA_DIR": settings.data_dir, "TICKETBLUE_JWT_SECRET": settings.jwt_secret,
           "TICKETBLUE_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


async def test_the_command_line_runs_a_job_and_records_it(client, app, settings):
    user = await client.signup()
    long_ago = utcnow() - timedelta(days=400)
    await execute(app, users.update().where(users.c.id == user["id"]).values(created_at=long_ago))
    await execute(app, dormant_notices.insert().values(user_id=user["id"], sent_at=utcnow() - timedelta(days=31)))

    done = await asyncio.to_thread(command_line, settings, "job", "dormant-users")
    assert done.returncode == 0, done.stderr
    [run] = await runs_of(app[DATABASE], "dormant-users")
    assert done.stdout.strip() == f"dormant-users: run {run.id} succeeded: anonymised=0 dormant=1"
    assert run.triggered_by == "cli" and run.counts == {"dormant": 1, "anonymised": 0}

    holder = JobLock(app[DATABASE], "dormant-users", seconds=60)
    assert await holder.acquire()
    refused = await asyncio.to_thread(command_line, settings, "job", "dormant-users")
    assert refused.returncode == 3 and "running already" in refused.stderr
    assert len(await runs_of(app[DATABASE], "dormant-users")) == 1
    assert command_line(settings, "job", "no-such-job").returncode == 2
