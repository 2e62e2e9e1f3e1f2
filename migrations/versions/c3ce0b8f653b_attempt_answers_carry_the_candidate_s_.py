"""attempt answers carry the candidate's flag for review ("标记"), saved with the answer under its seq

Revision ID: c3ce0b8f653b
Revises: b1ef236180d6
Create Date: 2026-12-07 15:17:07.886007

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3ce0b8f653b'
down_revision = 'b1ef236180d6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('attempt_answer', schema=None) as batch_op:
        batch_op.drop_column('flagged')
