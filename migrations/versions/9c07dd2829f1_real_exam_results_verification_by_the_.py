"""real exam results: verification by the office

Revision ID: 9c07dd2829f1
Revises: 3d8f42426b95
Create Date: 2026-12-07 12:16:57.668623

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c07dd2829f1'
down_revision = '3d8f42426b95'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('real_exam_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reject_reason', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_real_exam_result_status', ['status'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_real_exam_result_reviewed_by_id_user'), 'user', ['reviewed_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_real_exam_result_status'),
                                         "status IN ('pending','verified','rejected')")
    # Rows entered so far: an office's entry for a worker in its scope was its word (the page
    # checked scope), so it stands verified; a worker's own entry stays a pending claim.
    op.execute("UPDATE real_exam_result SET status = 'verified', reviewed_by_id = entered_by_id, "
               "reviewed_at = entered_at WHERE entered_by_id IS NOT NULL AND entered_by_id <> user_id")


def downgrade():
    with op.batch_alter_table('real_exam_result', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_real_exam_result_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_real_exam_result_reviewed_by_id_user'), type_='foreignkey')
        batch_op.drop_index('ix_real_exam_result_status')
        batch_op.drop_column('reject_reason')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('status')
