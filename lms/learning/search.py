"""Chinese full-text search over courses, ranked by relevance.

jieba segments the text into words (its dictionary loads once per process, on first use); the
space-separated tokens of the title are stored in course.title_tokens, those of all its text
(title included) in course.search_tokens. Both are indexed (see the migrations): on SQLite by the
FTS5 table course_fts, which triggers keep in step with every write to course in the writer's own
transaction, ranked with BM25 weighting a title match TITLE_WEIGHT times a match in the text; on
PostgreSQL by a GIN index over the tsvector of both ('simple' configuration: Debian has no Chinese
parser), the title's words weighted A and the text's D, ranked with ts_rank. Either way a course
whose title holds the words comes before one that only mentions them; the catalog then breaks ties
with featured courses first.
"""
import logging
import re
import threading

from sqlalchemy import Subquery, func, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..markdown import plain_text

_lock = threading.Lock()
_jieba = None
_WORD = re.compile(r"\w", re.UNICODE)


def _segmenter():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def tokenize(text_: str) -> list[str]:
    """Search words of a text: jieba's search-mode segmentation, lower-cased, no punctuation."""
    words = _segmenter().cut_for_search(text_ or "")
    return [w.lower() for w in (w.strip() for w in words) if w and _WORD.search(w)]


def course_tokens(course) -> str:
    parts = [
        course.title or "",
        course.summary or "",
        (course.tags or "").replace("、", " "),
        plain_text(course.description),
    ]
    parts += [f"{lesson.title} {plain_text(lesson.body)}" for lesson in course.lessons]
    return " ".join(tokenize(" ".join(parts)))


def reindex(course) -> None:
    course.title_tokens = " ".join(tokenize(course.title or ""))
    course.search_tokens = course_tokens(course)


TITLE_WEIGHT = 10.0  # BM25 (SQLite): a title match counts this many times a match in the text


def _pg_vector() -> ColumnElement:
    """The indexed tsvector: the title's words weighted A, the text's D. The same SQL as the index
    ix_course_search in the migration, or PostgreSQL does not use the index."""
    from .models import Course

    def vector(column, weight: str) -> ColumnElement:
        return func.setweight(func.to_tsvector(literal_column("'simple'"), column), literal_column(f"'{weight}'"))

    return vector(Course.title_tokens, "A").op("||")(vector(Course.search_tokens, "D"))


def ranked_matches(query: str) -> Subquery | None:
    """The courses whose text holds every word of `query`, as a subquery of (id, rank), the higher
    rank the more relevant; None when the query has no words."""
    from .models import Course

    words = sorted(set(tokenize(query)))
    if not words:
        return None
    if db.engine.dialect.name == "sqlite":
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        return (select(literal_column("rowid").label("id"),
                       (-func.bm25(literal_column("course_fts"), TITLE_WEIGHT, 1.0)).label("rank"))
                .select_from(text("course_fts")).where(text("course_fts MATCH :q")).params(q=match)
                .subquery("matches"))
    vector, tsquery = _pg_vector(), func.plainto_tsquery(literal_column("'simple'"), " ".join(words))
    return (select(Course.id.label("id"), func.ts_rank(vector, tsquery).label("rank"))
            .where(vector.op("@@")(tsquery)).subquery("matches"))
