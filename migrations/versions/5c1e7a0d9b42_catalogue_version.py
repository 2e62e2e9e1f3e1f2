"""catalogue_version: the published catalogue's version, for what a process keeps of it

One row (id 1), set to a new random number whenever a course or lesson changes
(lms/prep/lessons.py bump_catalogue_version).

Revision ID: 5c1e7a0d9b42
Revises: 3b7d3c2bab40
Create Date: 2026-12-08 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a0d9b42'
down_revision = '3b7d3c2bab40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_version'))
    )
    op.execute('INSERT INTO catalogue_version (id, value) VALUES (1, 0)')


def downgrade():
    op.drop_table('catalogue_version')
