"""rounds.blocks_changed_at

When a round's admin blocks last changed, for the seat-map repair (server/seating.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 22:40:00
"""
from alembic import op
import sqlalchemy as sa
import server.db.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocks_changed_at', server.db.types.UtcDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_rounds_blocks_changed_at'), ['blocks_changed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rounds_blocks_changed_at'))
        batch_op.drop_column('blocks_changed_at')
