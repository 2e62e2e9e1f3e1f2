"""Chinese full-text search over courses.

jieba segments the text into words (its dictionary loads once per process, on first use);
the space-separated tokens are stored in course.search_tokens and indexed by SQLite FTS5
or by PostgreSQL's to_tsvector('simple', …) with a GIN index (see the migration).
"""
import logging
import re
import threading

from sqlalchemy import func, select, text

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
    course.search_tokens = course_tokens(course)


def matching_course_ids(query: str):
    """A SELECT of the ids of courses whose text holds every word of `query` (None: no words)."""
    from .models import Course

    words = sorted(set(tokenize(query)))
    if not words:
        return None
    if db.engine.dialect.name == "sqlite":
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        return select(text("rowid")).select_from(text("course_fts")).where(text("course_fts MATCH :q")).params(q=match)
    tsquery = func.plainto_tsquery("simple", " ".join(words))
    return select(Course.id).where(func.to_tsvector("simple", Course.search_tokens).op("@@")(tsquery))
