"""The outbox: the messages a change causes are written in the same transaction as the change, and a
dispatcher delivers them afterwards, outside any booking, with retries, backoff and a dead letter.

    async with db.begin() as conn:
        ...                                    # the reservation change
        await enqueue(conn, event="reservation.confirmed", user_id=user_id, payload=booking)

    routes.py     which event goes to which channel (SSE, mail, Slack, search sync)
    write.py      enqueue / enqueue_select: the one way in, inside the caller's transaction
    dispatch.py   the Dispatcher: claims, deliveries, retries, dead letters, purge

Each channel gets its own row and its own dispatcher loop, so a slow or broken SMTP server delays
neither a booking nor the SSE events.
"""
from server.outbox.write import enqueue, enqueue_select

__all__ = ["enqueue", "enqueue_select"]
