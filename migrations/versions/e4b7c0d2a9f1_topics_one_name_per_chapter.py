"""topics: one name per chapter (个案工作方法 → 个案工作, …), as in question_bank/topics.yaml

Data only: renames the near-duplicate topics of the shipped bank in questions (a case's parts too),
in the course quizzes' topics and in the blueprints' topic mix. Attempts keep the paper they froze.

Revision ID: e4b7c0d2a9f1
Revises: 2d3067828763
Create Date: 2026-12-07 15:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b7c0d2a9f1'
down_revision = '2d3067828763'
branch_labels = None
depends_on = None

# subject code → {old name: new name}; frozen here (question_bank/topics.yaml keeps the aliases).
RENAMES = {
    "junior-general": {"个案工作方法": "个案工作", "小组工作方法": "小组工作", "社区工作方法": "社区工作",
                       "社会工作研究方法": "社会工作研究"},
    "mid-general": {"个案工作方法": "个案工作", "小组工作方法": "小组工作", "社区工作方法": "社区工作",
                    "社会工作研究方法": "社会工作研究"},
}
# What the shipped bank had before: downgrade gives these back.
SHIPPED_BEFORE = {
    "junior-general": {"个案工作": "个案工作方法", "小组工作": "小组工作方法", "社区工作": "社区工作方法"},
    "mid-general": {"社会工作研究": "社会工作研究方法"},
}

subject = sa.table("exam_subject", sa.column("id", sa.Integer), sa.column("code", sa.String))
question = sa.table("question", sa.column("subject_id", sa.Integer), sa.column("topic", sa.String))
exam = sa.table("exam", sa.column("id", sa.Integer), sa.column("subject_id", sa.Integer),
                sa.column("topics", sa.JSON), sa.column("topic_mix", sa.JSON))


def _rename(renames: dict[str, dict[str, str]]) -> None:
    conn = op.get_bind()
    ids = {code: sid for sid, code in conn.execute(sa.select(subject.c.id, subject.c.code))}
    for code, mapping in renames.items():
        sid = ids.get(code)
        if sid is None:
            continue
        for old, new in mapping.items():
            conn.execute(question.update().where(question.c.subject_id == sid, question.c.topic == old)
                         .values(topic=new))
        rows = conn.execute(sa.select(exam.c.id, exam.c.topics, exam.c.topic_mix).where(exam.c.subject_id == sid))
        for eid, topics, mix in rows.all():
            new_topics = list(dict.fromkeys(mapping.get(t, t) for t in topics)) if topics else topics
            new_mix = {mapping.get(t, t): share for t, share in mix.items()} if mix else mix
            if new_topics != topics or new_mix != mix:
                conn.execute(exam.update().where(exam.c.id == eid).values(topics=new_topics, topic_mix=new_mix))


def upgrade():
    _rename(RENAMES)


def downgrade():
    _rename(SHIPPED_BEFORE)
