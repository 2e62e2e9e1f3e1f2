"""question bank: exam subjects (seeded with the six subjects of question_bank/README.md) and questions

Revision ID: 5451321f5931
Revises: 59fc2dbcada1
Create Date: 2026-11-23 02:15:19.482523

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5451321f5931'
down_revision = '59fc2dbcada1'
branch_labels = None
depends_on = None


def upgrade():
    subject = op.create_table('exam_subject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('law_required', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("level IN ('junior','intermediate','senior')", name=op.f('ck_exam_subject_level')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_subject')),
    sa.UniqueConstraint('code', name=op.f('uq_exam_subject_code')),
    sa.UniqueConstraint('name', name=op.f('uq_exam_subject_name'))
    )
    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=80), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('difficulty', sa.SmallInteger(), nullable=False),
    sa.Column('stem', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('points', sa.Numeric(precision=5, scale=1), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('law', sa.String(length=200), nullable=True),
    sa.Column('law_in_force', sa.Date(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft','active','retired')", name=op.f('ck_question_status')),
    sa.CheckConstraint("type IN ('single','multiple','judge','case','essay')", name=op.f('ck_question_type')),
    sa.CheckConstraint('difficulty BETWEEN 1 AND 3', name=op.f('ck_question_difficulty')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_question_created_by_id_user')),
    sa.ForeignKeyConstraint(['parent_id'], ['question.id'], name=op.f('fk_question_parent_id_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['exam_subject.id'], name=op.f('fk_question_subject_id_exam_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question')),
    sa.UniqueConstraint('external_id', name=op.f('uq_question_external_id'))
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_question_subject_status_type', ['subject_id', 'status', 'type'], unique=False)
        batch_op.create_index('ix_question_subject_topic', ['subject_id', 'topic'], unique=False)

    # The subjects are data: the table of question_bank/README.md (the bank importer adds new rows from it).
    op.bulk_insert(subject, [
        {"code": "junior-general", "name": "社会工作综合能力(初级)", "level": "junior", "law_required": False, "position": 1},
        {"code": "junior-practice", "name": "社会工作实务(初级)", "level": "junior", "law_required": False, "position": 2},
        {"code": "mid-general", "name": "社会工作综合能力(中级)", "level": "intermediate", "law_required": False, "position": 3},
        {"code": "mid-law", "name": "社会工作法规与政策(中级)", "level": "intermediate", "law_required": True, "position": 4},
        {"code": "mid-practice", "name": "社会工作实务(中级)", "level": "intermediate", "law_required": False, "position": 5},
        {"code": "senior-practice", "name": "社会工作实务(高级)", "level": "senior", "law_required": False, "position": 6},
    ])


def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_subject_topic')
        batch_op.drop_index('ix_question_subject_status_type')
        batch_op.drop_index(batch_op.f('ix_question_parent_id'))

    op.drop_table('question')
    op.drop_table('exam_subject')
