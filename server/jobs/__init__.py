"""Batch jobs: six jobs over the whole database, each runnable on a schedule inside the server, from
the admin API and from the command line (`python -m server job <name>`).

    base.py       what a job is (name, default interval, `run(counts)`) and what it may use
    chunks.py     chunk by chunk, a transaction each, bulk statements over the chunk's rows
    lock.py       one running copy of a job across all instances: a lease in the database
    runs.py       the record of each run (start, end, counts, error)
    runner.py     lock, record, run, renew, record
    schedule.py   every instance's loops that run the jobs when due
    service.py    what the admin API and the command line call
    one module per job: dormant_users, dormant_notice, old_performances, expired_reservations,
    upcoming_reminders, review_reminders
"""
