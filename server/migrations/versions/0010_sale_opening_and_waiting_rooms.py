"""rounds.sale_opens_at and waiting_rooms

A round may go on sale at a set time, and have a waiting room in front of its seat map
(server/waiting_room.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00
"""
from alembic import op
import sqlalchemy as sa

from server.db.types import UtcDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sale_opens_at', UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('gate_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'waiting_rooms',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('prequeue_minutes', sa.Integer(), nullable=False),
        sa.Column('max_active', sa.Integer(), nullable=False),
        sa.Column('admit_per_minute', sa.Integer(), nullable=False),
        sa.Column('session_seconds', sa.Integer(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.CheckConstraint('prequeue_minutes >= 0 AND max_active >= 1 AND admit_per_minute >= 1 '
                           'AND session_seconds >= 1', name=op.f('ck_waiting_rooms_figures')),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_waiting_rooms_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('round_id', name=op.f('pk_waiting_rooms')),
    )


def downgrade() -> None:
    op.drop_table('waiting_rooms')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('gate_version')
        batch_op.drop_column('sale_opens_at')
