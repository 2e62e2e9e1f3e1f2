"""Each subject's topics (知识点/章节): the one vocabulary, kept in question_bank/topics.yaml.

The bank's files, the site's editor and imports and the course quizzes take a topic only from its
subject's list (another spelling listed as an alias becomes the listed name), so a subject never has
two names for one chapter. A subject the file does not list (one added to a site's own bank) keeps
free topics. Pickers show a subject's topics in the list's order.

No function here touches `request` or commits.
"""
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml
from flask_babel import gettext as _

from ..errors import DomainError
from .models import ExamSubject

VOCABULARY = Path(__file__).resolve().parent.parent.parent / "question_bank" / "topics.yaml"


class TopicError(DomainError):
    """A topic that is not one of its subject's, with a message that lists the subject's topics."""


def _key(name: str) -> str:
    """Names compare without regard to spaces and full- or half-width forms (（ and ( are one)."""
    return "".join(unicodedata.normalize("NFKC", name).split())


@cache
def _load(path: Path = VOCABULARY) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    doc = yaml.safe_load(path.read_text("utf-8")) or {}
    subjects = {code: tuple(str(t).strip() for t in names or []) for code, names in (doc.get("subjects") or {}).items()}
    aliases = {_key(str(k)): str(v).strip() for k, v in (doc.get("aliases") or {}).items()}
    return subjects, aliases


def vocabulary() -> dict[str, tuple[str, ...]]:
    """Subject code → its topics, in order."""
    return _load()[0]


def names(subject: ExamSubject) -> tuple[str, ...] | None:
    """The subject's topics in order, or None for a subject with free topics."""
    return vocabulary().get(subject.code)


def resolve(subject: ExamSubject, topic: str) -> str | None:
    """The subject's own name for `topic` (itself, a listed name spelled another way, or an alias's
    name), or None when the subject has no such topic. A subject with free topics takes any."""
    topic = (topic or "").strip()
    listed = names(subject)
    if listed is None:
        return topic or None
    by_key = {_key(t): t for t in listed}
    key = _key(topic)
    if key in by_key:
        return by_key[key]
    alias = _load()[1].get(key)
    return alias if alias in listed else None


def unknown_message(subject: ExamSubject, topic: str) -> str:
    return _('"%(topic)s" is not a topic of %(subject)s. Its topics are: %(topics)s.', topic=topic,
             subject=subject.name, topics="、".join(f"“{t}”" for t in names(subject) or ()))


def canonical(subject: ExamSubject, topic: str) -> str:
    """resolve(), raising TopicError with the subject's topics when there is no such topic."""
    found = resolve(subject, topic)
    if found is None:
        if not (topic or "").strip():
            raise TopicError(_("The topic is missing."))
        raise TopicError(unknown_message(subject, topic.strip()))
    return found


def sort_key(subject: ExamSubject, topic: str) -> tuple[int, str]:
    """Sorts a subject's topics in its list's order, unlisted ones last by name."""
    listed = names(subject) or ()
    return (listed.index(topic) if topic in listed else len(listed), topic)


def ordered(subject: ExamSubject, found: Iterable[str]) -> list[str]:
    """`found` topics (e.g. those with questions) in the subject's order; unlisted ones last."""
    return sorted(set(found), key=lambda t: sort_key(subject, t))


def near_duplicates(topics: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of names where one contains the other (个案工作 and 个案工作方法)."""
    keys = sorted({_key(t): t for t in topics}.items())
    return [(a, b) for ka, a in keys for kb, b in keys if ka != kb and ka in kb]


# --- topics a course or lesson teaches -----------------------------------------------------------------
# A course is not tied to one subject: it may teach a topic of any subject (个案工作 is a chapter of the
# 初级 and the 中级 综合能力 alike). Exam preparation recommends it to a worker weak on one of them.

def all_names() -> list[str]:
    """Every topic of every subject, once each, in the file's order."""
    return list(dict.fromkeys(t for listed in vocabulary().values() for t in listed))


def any_subject(topic: str) -> str | None:
    """The listed name of `topic` in any subject (itself spelled another way, or an alias's name), or None."""
    key = _key(topic or "")
    by_key = {_key(t): t for t in all_names()}
    if key in by_key:
        return by_key[key]
    alias = _load()[1].get(key)
    return alias if alias in by_key.values() else None


def choices_by_subject(subjects: Iterable[ExamSubject]) -> dict[str, list[tuple[str, str]]]:
    """The topics a course or lesson may name, grouped under each subject's name for a picker (a topic of
    two subjects is offered under both)."""
    listed = vocabulary()
    return {s.name: [(t, t) for t in listed[s.code]] for s in subjects if s.code in listed}


def taught(values: Iterable[str]) -> list[str]:
    """The topics a course or lesson teaches under their listed names, in the given order without repeats;
    TopicError naming the first unknown one and listing the valid ones."""
    found: list[str] = []
    for value in values:
        name = any_subject(str(value))
        if name is None:
            raise TopicError(_('"%(topic)s" is not a topic of the question bank. The topics are: %(topics)s.',
                               topic=str(value).strip(), topics="、".join(all_names())))
        if name not in found:
            found.append(name)
    return found
