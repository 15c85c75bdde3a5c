"""Admin: the batch jobs, their runs, and running one now.

`POST /api/admin/jobs/{name}/run` is declared once per job (the names are fixed), so each has its
own entry in /openapi.json and an unknown name is a plain 404.
"""
from __future__ import annotations

from aiohttp import web

from handlers.routing import ADMIN, Api
from server.jobs.schemas import JobOut, JobRunOut, JobRunQuery, JobRunStarted
from server.jobs.service import JOB_TYPES
from server.schemas.common import Page
from server.wiring import JOBS

api = Api("jobs")


@api.get("/api/admin/jobs", response=list[JobOut], auth=ADMIN)
async def list_jobs(request: web.Request) -> list[JobOut]:
    """Every job with its schedule, whether it is running, and its last run."""
    return await request.app[JOBS].overview()


@api.get("/api/admin/jobs/runs", query=JobRunQuery, response=Page[JobRunOut], auth=ADMIN, errors=(400,))
async def list_runs(request: web.Request, query: JobRunQuery) -> Page[JobRunOut]:
    """Runs of every job (or of `job`), newest first."""
    return await request.app[JOBS].list_runs(query)


@api.get("/api/admin/jobs/runs/{run_id}", response=JobRunOut, auth=ADMIN, errors=(404,))
async def get_run(request: web.Request, run_id: int) -> JobRunOut:
    """One run: its status, counts so far, and error if it failed."""
    return await request.app[JOBS].get_run(run_id)


def _declare_run(name: str, summary: str) -> None:
    async def run_job(request: web.Request) -> JobRunStarted:
        return await request.app[JOBS].start_run(name)
    run_job.__name__ = f"run_{name.replace('-', '_')}"
    api.post(f"/api/admin/jobs/{name}/run", response=JobRunStarted, status=202, auth=ADMIN, errors=(409,),
             summary=f"Run {name} now (in the background; 409 job_running while a run is under way). {summary}")(run_job)


for _job in JOB_TYPES:
    _declare_run(_job.name, _job.summary)
