"""white paper

white_paper: a unit's generated annual white paper for a year (lms/stats/whitepaper.py): its figures as JSON,
its PDF, and the version of the data it was made from. Empty after the upgrade.

Revision ID: 0407895bec62
Revises: df1e4913c779
Create Date: 2026-12-08 02:58:51.230736

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0407895bec62'
down_revision = 'df1e4913c779'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('white_paper',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('generated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['generated_by_id'], ['user.id'], name=op.f('fk_white_paper_generated_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_white_paper_org_unit_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_white_paper')),
    sa.UniqueConstraint('org_unit_id', 'year', name='uq_white_paper_unit_year')
    )


def downgrade():
    op.drop_table('white_paper')
