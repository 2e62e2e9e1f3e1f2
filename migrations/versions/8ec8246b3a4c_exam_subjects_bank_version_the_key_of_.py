"""exam subjects: bank_version, the key of each process's question pool

Revision ID: 8ec8246b3a4c
Revises: 16da71f0d30b
Create Date: 2026-12-07 18:05:01.931050

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8ec8246b3a4c'
down_revision = '16da71f0d30b'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (SQLite accepts NOT NULL with a default): a batch rebuild of exam_subject would
    # drop the table under its questions' foreign keys.
    op.add_column('exam_subject', sa.Column('bank_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('exam_subject', 'bank_version')  # SQLite 3.35+: ALTER TABLE … DROP COLUMN, no rebuild
