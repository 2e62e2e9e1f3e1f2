"""statistics: indexes for the aggregates, workforce snapshots, API tokens

Revision ID: 6a47cc36335b
Revises: 50729cf94991
Create Date: 2026-11-23 02:43:12.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a47cc36335b'
down_revision = '50729cf94991'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workforce_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("dimension IN ('age','gender','education','political_status','cert_level','years_in_work')", name=op.f('ck_workforce_snapshot_dimension')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_workforce_snapshot_org_unit_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workforce_snapshot')),
    sa.UniqueConstraint('org_unit_id', 'year', 'dimension', 'bucket', name='uq_workforce_snapshot_unit_year_bucket')
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    # Covering indexes of the statistics (lms/stats/models.py): user-leading, so that every
    # aggregate runs from the workers of a unit into the rows of the period.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index('ix_stats_user_unit', ['org_unit_id', 'active', 'id'], unique=False)
    with op.batch_alter_table('credit', schema=None) as batch_op:
        batch_op.create_index('ix_stats_credit_user', ['user_id', 'earned_on', 'source', 'source_id', 'hours'], unique=False)
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_stats_attendance_user', ['user_id', 'session_id', 'status'], unique=False)
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.create_index('ix_stats_session_period', ['id', 'starts_at', 'training_id'], unique=False)
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.create_index('ix_stats_enrollment_user', ['user_id', 'enrolled_at', 'completed_at', 'course_id'], unique=False)
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_stats_attempt_user', ['user_id', 'status', 'graded_at', 'exam_id', 'score', 'passed'], unique=False)


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_attempt_user')
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_enrollment_user')
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_session_period')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_attendance_user')
    with op.batch_alter_table('credit', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_credit_user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_user_unit')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
    op.drop_table('api_token')
    op.drop_table('workforce_snapshot')
