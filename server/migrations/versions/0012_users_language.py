"""users.language

The language the server writes to the person in (mail subjects and bodies, SSE messages): 'ko' or
'en', Korean for every account that existed before and for new ones that do not say.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:00:00
"""
from alembic import op
import sqlalchemy as sa

from server.db.sqlite_recreate import recreating


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (SQLite adds a check constraint only by recreating the table: see recreating())
    with recreating(), op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='ko', nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_language'), "language IN ('ko', 'en')")


def downgrade() -> None:
    with recreating(), op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_language'), type_='check')
        batch_op.drop_column('language')
