"""outbox claims and per-user event streams

Dispatchers on several instances claim outbox rows (claimed_by, with next_attempt_at as the lease);
SSE streams read a user's events after an id (ix_outbox_stream); event_streams is the per-user row
that enqueueing locks so one user's events commit in id order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_streams',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_streams_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_event_streams'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_outbox_stream', ['user_id', 'channel', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_stream')
        batch_op.drop_column('claimed_by')
    op.drop_table('event_streams')
