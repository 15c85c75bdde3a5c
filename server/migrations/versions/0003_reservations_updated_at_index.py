"""index reservations.updated_at (the seat-map repair looks at recently changed reservations)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:00:00
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_reservations_updated_at'), 'reservations', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reservations_updated_at'), table_name='reservations')
