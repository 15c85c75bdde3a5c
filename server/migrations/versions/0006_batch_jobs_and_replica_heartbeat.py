"""batch jobs and replica heartbeat

Runs and locks of the batch jobs (server/jobs/), the marks that make them idempotent (dormancy notices
sent, day-before reminders sent), the record of archived performances, and the heartbeat row the
replica checks read (server/db/database.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:22:04.383396
"""
from alembic import op
import sqlalchemy as sa
import server.db.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_locks',
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', server.db.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_locks'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('triggered_by', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('started_at', server.db.types.UtcDateTime(), nullable=False),
    sa.Column('finished_at', server.db.types.UtcDateTime(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_job_runs_status')),
    sa.CheckConstraint("triggered_by IN ('schedule', 'api', 'cli')", name=op.f('ck_job_runs_triggered_by')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_id', ['job', 'id'], unique=False)

    op.create_table('replica_heartbeat',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('beat_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replica_heartbeat'))
    )
    op.create_table('dormant_notices',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', server.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dormant_notices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_dormant_notices'))
    )
    op.create_table('performance_archive',
    sa.Column('performance_id', sa.Integer(), nullable=False),
    sa.Column('archived_at', server.db.types.UtcDateTime(), nullable=False),
    sa.Column('poster_key', sa.String(length=300), nullable=True),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['performance_id'], ['performances.id'], name=op.f('fk_performance_archive_performance_id_performances')),
    sa.PrimaryKeyConstraint('performance_id', name=op.f('pk_performance_archive'))
    )
    with op.batch_alter_table('performance_archive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_archive_poster_key'), ['poster_key'], unique=False)

    op.create_table('reservation_reminders',
    sa.Column('reservation_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', server.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_reservation_reminders_reservation_id_reservations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reservation_id', name=op.f('pk_reservation_reminders'))
    )


def downgrade() -> None:
    op.drop_table('reservation_reminders')
    with op.batch_alter_table('performance_archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_performance_archive_poster_key'))

    op.drop_table('performance_archive')
    op.drop_table('dormant_notices')
    op.drop_table('replica_heartbeat')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_id')

    op.drop_table('job_runs')
    op.drop_table('job_locks')
