"""readiness calibration kept in the database

prep_calibration: each subject blueprint's readiness calibration as last fitted, per set of the settings it
was fitted with. Empty after the upgrade: the first page that needs one makes and stores it, the periodic
work (lms/tasks/periodic.py) or `flask --app wsgi prep-rebuild` makes them all.

Revision ID: 714a3f2011e9
Revises: 5c1e7a0d9b42
Create Date: 2026-12-08 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '714a3f2011e9'
down_revision = '5c1e7a0d9b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('prep_calibration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('settings_key', sa.String(length=255), nullable=False),
    sa.Column('a', sa.Float(), nullable=False),
    sa.Column('b', sa.Float(), nullable=False),
    sa.Column('fitted', sa.Boolean(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('error', sa.Float(), nullable=True),
    sa.Column('bins', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_prep_calibration_exam_id_exam'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prep_calibration')),
    sa.UniqueConstraint('exam_id', 'settings_key', name='uq_prep_calibration_exam_settings')
    )


def downgrade():
    op.drop_table('prep_calibration')
