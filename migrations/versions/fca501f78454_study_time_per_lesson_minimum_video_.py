"""study time: per-lesson minimum, video coverage, per-user study clock

Revision ID: fca501f78454
Revises: b8910ad7b103
Create Date: 2026-12-07 12:18:42.033682

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fca501f78454'
down_revision = 'b8910ad7b103'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('study_clock',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('credited_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_study_clock_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_study_clock'))
    )
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_minutes', sa.Integer(), nullable=True))

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        # Existing rows get the defaults; the server defaults are dropped again below.
        batch_op.add_column(sa.Column('video_ranges', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('video_seconds', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('video_duration', sa.Integer(), nullable=True))

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.alter_column('video_ranges', server_default=None)
        batch_op.alter_column('video_seconds', server_default=None)



def downgrade():
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_column('video_duration')
        batch_op.drop_column('video_seconds')
        batch_op.drop_column('video_ranges')

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('min_minutes')

    op.drop_table('study_clock')
