"""tickets, the staff role, and seat watches

A paid reservation has one ticket per seat with a signed code that the door checks in once
(server/tickets.py); staff accounts may check tickets in. Users may watch seats or a grade of a
round (server/seat_watch.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""
from alembic import op
import sqlalchemy as sa

from server.db.sqlite_recreate import recreating
from server.db.types import UtcDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tickets',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('reservation_id', sa.Integer(), nullable=False),
        sa.Column('seat_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('checked_in_at', UtcDateTime(), nullable=True),
        sa.Column('checked_in_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_tickets_reservation_id_reservations')),
        sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_tickets_seat_id_seats')),
        sa.ForeignKeyConstraint(['checked_in_by'], ['users.id'], name=op.f('fk_tickets_checked_in_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
        sa.UniqueConstraint('code', name=op.f('uq_tickets_code')),
        sa.UniqueConstraint('reservation_id', 'seat_id', name=op.f('uq_tickets_reservation_id_seat_id')),
    )
    op.create_index(op.f('ix_tickets_reservation_id'), 'tickets', ['reservation_id'], unique=False)
    with recreating(), op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), "role IN ('user', 'admin', 'staff')")
    op.create_table(
        'seat_watches',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('seat_id', sa.Integer(), nullable=True),
        sa.Column('grade', sa.String(length=20), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.CheckConstraint('(seat_id IS NULL) <> (grade IS NULL)', name=op.f('ck_seat_watches_seat_or_grade')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_seat_watches_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_seat_watches_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_seat_watches_seat_id_seats')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_watches')),
    )
    op.create_index(op.f('ix_seat_watches_user_id'), 'seat_watches', ['user_id'], unique=False)
    op.create_index(op.f('ix_seat_watches_round_id'), 'seat_watches', ['round_id'], unique=False)


def downgrade() -> None:
    op.drop_table('seat_watches')
    with recreating(), op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), "role IN ('user', 'admin')")
    op.drop_index(op.f('ix_tickets_reservation_id'), table_name='tickets')
    op.drop_table('tickets')
