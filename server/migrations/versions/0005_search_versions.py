"""search versions

The catalogue's version token for search caches (server/search/sync.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_versions',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_search_versions'))
    )


def downgrade() -> None:
    op.drop_table('search_versions')
