"""What the tests (and the benchmarks) share; the shared fixtures are in tests/conftest.py.

api         the API client, accounts, waiting for what happens in the background
backends    the backends' URLs, settings for tests, databases made ready or emptied, an S3 bucket
instances   real server processes (`python -m server serve`)
factories   halls, performers, performances, rounds, reservations, payments, coupons, through the API
engines     seat engines without the web application
ws, raw_ws  seat-map WebSocket clients: frame by frame, as the page does, and bare ones over TCP
events      the SSE event stream as a client reads it
outbox      outbox messages enqueued and read back, the dispatcher's clock
search      search: the index sync, queries, a sample catalogue
jobs        batch jobs run to their end
posters     real images and poster uploads
browser     the browser tests: a live server, Chromium, pages (and their fixtures)
peers/      stand-ins for outside services: Toss (the sandbox's buyer side), Kakao, Slack, SMTP
"""
