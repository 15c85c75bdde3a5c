"""Batch jobs in tests: a real job run to its end, and the settings the job tests share."""
from __future__ import annotations

from server.wiring import JOBS

# The job tests' few rows one chunk each: several chunks, side by side on MariaDB, as on a big table.
ONE_ROW_CHUNKS = {"job_chunk_size": 1}


async def run(app, name: str):
    """One run of a real job, to its end, as `python -m server job` runs it."""
    return await app[JOBS].run_here(name)
