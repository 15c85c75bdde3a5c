"""outbox.request_id

The X-Request-Id of the request that enqueued a message (server/request_ids.py): the dispatcher's
log lines for its deliveries carry it, so one id follows a booking from the request to its mail.
NULL for messages of scheduled jobs and for those written before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('request_id')
