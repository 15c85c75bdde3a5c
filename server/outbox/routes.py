"""Which event goes to which outbox channel: the routing table of every event the server sends."""
from __future__ import annotations

SSE, MAIL, SLACK = "sse", "mail", "slack"
SEARCH_SYNC = "search"                    # the search indices, kept in step (server/search/sync.py)
CHANNELS = (SSE, MAIL, SLACK, SEARCH_SYNC)
TO_A_USER = frozenset({SSE, MAIL})        # channels that need a user_id to address

# Which event goes where. SSE gets everything (it is the user's live feed); mail only what a person
# wants in their inbox (one mail per booking change: payment.* travel with their reservation.*
# event); Slack is the box office's feed of bookings that became real or stopped being real.
ROUTES: dict[str, tuple[str, ...]] = {
    "reservation.created":   (SSE,),
    "reservation.confirmed": (SSE, MAIL, SLACK),
    "reservation.canceled":  (SSE, MAIL, SLACK),
    "reservation.expired":   (SSE, MAIL),
    "payment.confirmed":     (SSE,),
    "payment.canceled":      (SSE,),
    "hold.expired":          (SSE,),
    "seat.available":        (SSE,),
    "coupon.issued":         (SSE,),
    "reminder.upcoming":     (SSE, MAIL),
    "reminder.review":       (SSE, MAIL),
}

# Messages outside the users' live feed, from the batch jobs (server/jobs/): an account about to
# become dormant is told by mail (its owner is not around to see SSE); the box office hears once per
# run how many were told.
NOTICE_ROUTES: dict[str, tuple[str, ...]] = {
    "account.dormant_notice":       (MAIL,),
    "account.dormant_notices_sent": (SLACK,),
}

# Events no person is told about: a part of the server keeps itself in step with a change.
INTERNAL_ROUTES: dict[str, tuple[str, ...]] = {
    "search.index": (SEARCH_SYNC,),        # rows to re-index (server/search/sync.py)
}


def routes_of(event: str) -> tuple[str, ...]:
    """The channels `event` goes to."""
    routes = ROUTES.get(event) or NOTICE_ROUTES.get(event) or INTERNAL_ROUTES.get(event)
    if routes is None:
        raise ValueError(f"unknown outbox event {event!r}")
    return routes
