"""question type: checked by the registry of question types (lms/exams/qtypes), not by a CHECK

A question type is one registered module; the database no longer lists the type names, so that adding
a type is one module and its partial (no schema change).

Revision ID: 7d3c2a91e5b4
Revises: fca501f78454
Create Date: 2026-12-07 13:40:00

"""
from alembic import op

revision = '7d3c2a91e5b4'
down_revision = 'fca501f78454'
branch_labels = None
depends_on = None

CHECK = "CONSTRAINT ck_question_type CHECK (type IN ('single','multiple','judge','case','essay')), "


def _sqlite_schema_edit(old: str, new: str) -> None:
    """Remove or restore a CHECK in SQLite's stored schema, the procedure SQLite documents for changes that
    leave the stored rows as they are (lang_altertable.html, "otheralter"). Rebuilding the table instead
    would, with foreign keys on, cascade the DROP of `question` into its parts and the mistakes book."""
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
    conn.exec_driver_sql("PRAGMA writable_schema=ON")
    conn.exec_driver_sql("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'question'",
                         (old, new))
    conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema=OFF")
    stored = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'question'").scalar()
    if new not in stored or (old not in new and old in stored):  # the stored text was not what the migrations made
        raise RuntimeError("question table: the CHECK on type was not found where expected; edit it by hand")


def upgrade():
    if op.get_context().dialect.name == 'sqlite':
        _sqlite_schema_edit(CHECK, "")
    else:
        op.drop_constraint(op.f('ck_question_type'), 'question', type_='check')


def downgrade():
    if op.get_context().dialect.name == 'sqlite':
        _sqlite_schema_edit("CONSTRAINT ck_question_difficulty", CHECK + "CONSTRAINT ck_question_difficulty")
    else:
        op.create_check_constraint(op.f('ck_question_type'), 'question',
                                   "type IN ('single','multiple','judge','case','essay')")
