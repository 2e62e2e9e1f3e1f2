"""course search ranks title matches first: title tokens, FTS5 over title and text, weighted tsvector index

Revision ID: 2d3067828763
Revises: c3ce0b8f653b
Create Date: 2026-12-07 15:24:34.511690

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d3067828763'
down_revision = 'c3ce0b8f653b'
branch_labels = None
depends_on = None

# The same expression as lms/learning/search.py's _pg_vector(), or the index is not used.
PG_VECTOR = "(setweight(to_tsvector('simple', title_tokens), 'A') || setweight(to_tsvector('simple', search_tokens), 'D'))"


def _sqlite_fts(columns: list[str]) -> None:
    """(Re)create course_fts over `columns` of course, the triggers that keep it in step with every
    write to course (in the writer's transaction), and fill it from the rows there are."""
    for trigger in ("course_fts_ai", "course_fts_ad", "course_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS course_fts")
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(f"CREATE VIRTUAL TABLE course_fts USING fts5({cols}, content='course', content_rowid='id')")
    op.execute(f"""CREATE TRIGGER course_fts_ai AFTER INSERT ON course BEGIN
        INSERT INTO course_fts(rowid, {cols}) VALUES (new.id, {new}); END""")
    op.execute(f"""CREATE TRIGGER course_fts_ad AFTER DELETE ON course BEGIN
        INSERT INTO course_fts(course_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END""")
    op.execute(f"""CREATE TRIGGER course_fts_au AFTER UPDATE OF {cols} ON course BEGIN
        INSERT INTO course_fts(course_fts, rowid, {cols}) VALUES ('delete', old.id, {old});
        INSERT INTO course_fts(rowid, {cols}) VALUES (new.id, {new}); END""")
    op.execute("INSERT INTO course_fts(course_fts) VALUES ('rebuild')")


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_tokens', sa.Text(), server_default='', nullable=False))

    # The title's tokens of the courses there are (jieba, as lms/learning/search.py segments them).
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, title FROM course")).all()
    if rows:
        from lms.learning.search import tokenize

        conn.execute(sa.text("UPDATE course SET title_tokens = :t WHERE id = :id"),
                     [{"id": cid, "t": " ".join(tokenize(title or ""))} for cid, title in rows])

    if conn.dialect.name == "sqlite":
        _sqlite_fts(["title_tokens", "search_tokens"])
    else:
        op.execute("DROP INDEX IF EXISTS ix_course_search")
        op.execute(f"CREATE INDEX ix_course_search ON course USING gin ({PG_VECTOR})")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("course_fts_ai", "course_fts_ad", "course_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS course_fts")
        # SQLite 3.35+ drops a column in place: a batch copy would drop the course table, which
        # other tables reference (and would lose the triggers).
        op.execute("ALTER TABLE course DROP COLUMN title_tokens")
        _sqlite_fts(["search_tokens"])
    else:
        op.execute("DROP INDEX IF EXISTS ix_course_search")
        op.drop_column('course', 'title_tokens')
        op.execute("CREATE INDEX ix_course_search ON course USING gin (to_tsvector('simple', search_tokens))")
