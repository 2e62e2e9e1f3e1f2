"""course quizzes: exam kind, course, topics, pass percent, attempts; certificate achievement

A course's end-of-course quiz is an `exam` row of kind 'course' linked to its course. Every
column is added with ALTER TABLE (no batch rebuild: rebuilding `exam` on SQLite would drop the
table that attempts and exam days point at). Certificates issued before this change say
"完成学习": none of them rested on an assessment.

Revision ID: 03063cededf1
Revises: 9c07dd2829f1
Create Date: 2026-12-07 12:16:59.871261

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '03063cededf1'
down_revision = '9c07dd2829f1'
branch_labels = None
depends_on = None


def upgrade():
    sqlite = op.get_context().dialect.name == 'sqlite'
    op.add_column('certificate', sa.Column('achievement', sa.String(length=200), server_default='完成学习',
                                           nullable=False))
    op.add_column('enrollment', sa.Column('extra_quiz_attempts', sa.Integer(), server_default='0', nullable=False))
    if sqlite:  # SQLite adds a column's constraints only inline, in the ADD COLUMN itself
        op.execute("ALTER TABLE exam ADD COLUMN kind VARCHAR(16) DEFAULT 'mock' NOT NULL "
                   "CONSTRAINT ck_exam_kind CHECK (kind IN ('mock','course'))")
        op.execute("ALTER TABLE exam ADD COLUMN course_id INTEGER "
                   "CONSTRAINT fk_exam_course_id_course REFERENCES course (id)")
    else:
        op.add_column('exam', sa.Column('kind', sa.String(length=16), server_default='mock', nullable=False))
        op.create_check_constraint(op.f('ck_exam_kind'), 'exam', "kind IN ('mock','course')")
        op.add_column('exam', sa.Column('course_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_exam_course_id_course'), 'exam', 'course', ['course_id'], ['id'])
    op.add_column('exam', sa.Column('topics', sa.JSON(), nullable=True))
    op.add_column('exam', sa.Column('pass_percent', sa.Integer(), nullable=True))
    op.add_column('exam', sa.Column('max_attempts', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_exam_course_id'), 'exam', ['course_id'], unique=True)


def downgrade():
    sqlite = op.get_context().dialect.name == 'sqlite'
    op.drop_index(op.f('ix_exam_course_id'), table_name='exam')
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_exam_kind'), type_='check')
        if not sqlite:
            batch_op.drop_constraint(op.f('fk_exam_course_id_course'), type_='foreignkey')
        batch_op.drop_column('max_attempts')
        batch_op.drop_column('pass_percent')
        batch_op.drop_column('topics')
        batch_op.drop_column('course_id')
        batch_op.drop_column('kind')
    op.drop_column('enrollment', 'extra_quiz_attempts')
    op.drop_column('certificate', 'achievement')
