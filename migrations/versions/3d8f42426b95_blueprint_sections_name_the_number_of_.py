"""blueprint sections name the number of options a question must have

The bank now holds choice questions with 2 to 8 options (questions from other systems, for
practice). The exam's papers keep to DESIGN.md §5: 单选 with 4 options, 多选 with 5. That rule is
data on each blueprint section ("options"), added here to the blueprints that do not name it yet.

Revision ID: 3d8f42426b95
Revises: 9f668e29f8c3
Create Date: 2026-12-07 12:40:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d8f42426b95'
down_revision = '9f668e29f8c3'
branch_labels = None
depends_on = None

EXAM_OPTIONS = {"single": 4, "multiple": 5}  # DESIGN.md §5, as of this migration

exam = sa.table("exam", sa.column("id", sa.Integer), sa.column("sections", sa.JSON))


def _rewrite(change):
    conn = op.get_bind()
    for exam_id, sections in conn.execute(sa.select(exam.c.id, exam.c.sections)).all():
        if isinstance(sections, str):
            sections = json.loads(sections)
        new = [change(dict(s)) for s in sections or []]
        if new != sections:
            conn.execute(exam.update().where(exam.c.id == exam_id).values(sections=new))


def upgrade():
    def add(section):
        if section.get("type") in EXAM_OPTIONS and "options" not in section:
            section["options"] = EXAM_OPTIONS[section["type"]]
        return section

    _rewrite(add)


def downgrade():
    def drop(section):
        section.pop("options", None)
        return section

    _rewrite(drop)
