"""attendance carries its session's start and class level

The statistics filter attendance by the session's start and count it by the class's level;
copying both onto each record lets them read one covering index instead of looking up a
session and a class for each of a million records (lms/training/models.py keeps the copies).

No batch mode for `attendance` on SQLite: a batch rebuild drops the old table, and with
foreign keys on that cascade-deletes every attendance_change row. Adding a nullable column,
dropping a column and the indexes are plain ALTER/CREATE statements on both databases.

Revision ID: 9f668e29f8c3
Revises: 157a092b1a72
Create Date: 2026-11-23 05:09:06.793142

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9f668e29f8c3'
down_revision = '157a092b1a72'
branch_labels = None
depends_on = None

# One statement on both databases (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33).
BACKFILL = """
UPDATE attendance SET session_starts_at = s.starts_at, training_level = t.level
FROM training_session AS s JOIN training AS t ON t.id = s.training_id
WHERE s.id = attendance.session_id
"""


def upgrade():
    op.drop_index('ix_stats_attendance_user', table_name='attendance')  # first: one index fewer to update
    op.add_column('attendance', sa.Column('session_starts_at', sa.DateTime(), nullable=True))
    op.add_column('attendance', sa.Column('training_level', sa.String(length=16), nullable=True))
    op.execute(BACKFILL)
    op.create_index('ix_stats_attendance_user', 'attendance',
                    ['user_id', 'session_starts_at', 'training_level', 'status', 'session_id'], unique=False)
    # it served the session lookup of the attendance statistics, which no longer happens
    op.drop_index('ix_stats_session_period', table_name='training_session')


def downgrade():
    op.create_index('ix_stats_session_period', 'training_session', ['id', 'starts_at', 'training_id'], unique=False)
    op.drop_index('ix_stats_attendance_user', table_name='attendance')
    op.create_index('ix_stats_attendance_user', 'attendance', ['user_id', 'session_id', 'status'], unique=False)
    op.drop_column('attendance', 'training_level')
    op.drop_column('attendance', 'session_starts_at')
