"""Import the shipped course library (courses/, format in courses/README.md). Idempotent."""
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select

from ..database import utcnow
from ..errors import DomainError
from ..exams import topics as bank_topics
from ..exams.models import ExamSubject
from ..extensions import db
from ..library.models import Trainer
from . import quiz as quizzes
from .courses import credit_problem
from .models import LEVELS, Course, Lesson
from .search import reindex

# The course files speak Chinese; the database stores keys.
SERIES_NAMES = {"社区发展提能": "development", "社区治理增效": "governance", "社区服务提质": "service"}
CATEGORY_NAMES = {"政策理论": "policy", "社工站建设": "station", "专业方法": "methods", "社区治理": "governance",
                  "社区服务": "service", "社区发展": "development", "考试辅导": "exam"}


class CourseFileError(DomainError):
    pass


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def read_front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text("utf-8")
    if not text.startswith("---"):
        raise CourseFileError(f"{path}: missing front matter (--- … ---)")
    try:
        _before, meta, body = text.split("---", 2)
        data = yaml.safe_load(meta) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise CourseFileError(f"{path}: bad front matter: {exc}") from exc
    if not isinstance(data, dict):
        raise CourseFileError(f"{path}: front matter must be a mapping")
    return data, body.strip()


def _course_fields(meta: dict, path: Path) -> dict:
    problems = []
    for key in ("title", "summary", "category", "credit_hours"):
        if not meta.get(key):
            problems.append(f"{path}: '{key}' is required")
    series = meta.get("series")
    if series and series not in SERIES_NAMES:
        problems.append(f"{path}: unknown series {series!r}")
    if meta.get("category") and meta["category"] not in CATEGORY_NAMES:
        problems.append(f"{path}: unknown category {meta['category']!r}")
    level = meta.get("level", "beginner")
    if level not in LEVELS:
        problems.append(f"{path}: unknown level {level!r}")
    topics: list[str] = []
    try:
        topics = _topics(meta, path)
    except CourseFileError as exc:
        problems.append(str(exc))
    if problems:
        raise CourseFileError("\n".join(problems))
    tags = meta.get("tags") or []
    return {
        "title": str(meta["title"]).strip(),
        "summary": str(meta["summary"]).strip(),
        "series": SERIES_NAMES.get(series) if series else None,
        "category": CATEGORY_NAMES[meta["category"]],
        "tags": "、".join(str(t) for t in tags),
        "level": level,
        "credit_hours": Decimal(str(meta["credit_hours"])).quantize(Decimal("0.1")),
        "featured": bool(meta.get("featured", False)),
        "topics": topics,
    }


def _topics(meta: dict, path: Path) -> list[str]:
    """`topics:` — the exam topics (question_bank/topics.yaml, any subject's) the course or lesson teaches."""
    value = meta.get("topics")
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise CourseFileError(f"{path}: 'topics' lists topics of the question bank, e.g. [个案工作, 小组工作]")
    try:
        return bank_topics.taught(value)
    except bank_topics.TopicError as exc:
        raise CourseFileError(f"{path}: topics: {exc}") from exc


UNLIMITED = ("unlimited", "不限")


def _quiz_fields(meta, path: Path) -> dict | None:
    """The `quiz:` block of course.md (see courses/README.md), checked for shape; None: no quiz."""
    if meta is None or meta is False:
        return None
    if not isinstance(meta, dict):
        raise CourseFileError(f"{path}: 'quiz' must be a mapping (subject, topics, questions, pass_percent, retries)")
    problems = []
    topics = meta.get("topics")
    if isinstance(topics, str):
        topics = [topics]
    if not meta.get("subject"):
        problems.append(f"{path}: quiz: 'subject' is required (a question_bank folder, e.g. junior-general)")
    if not topics or not all(isinstance(t, str) and t.strip() for t in topics):
        problems.append(f"{path}: quiz: 'topics' lists one or more topics of the question bank")
    numbers = {}
    for key, default in (("questions", 10), ("pass_percent", 60)):
        value = meta.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: quiz: '{key}' must be a whole number")
        numbers[key] = value
    retries = meta.get("retries")
    if retries in UNLIMITED:
        retries = None
    elif retries is not None and (not isinstance(retries, int) or isinstance(retries, bool)):
        problems.append(f"{path}: quiz: 'retries' is a whole number, or unlimited")
    if problems:
        raise CourseFileError("\n".join(problems))
    return {"subject": str(meta["subject"]).strip(), "topics": [t.strip() for t in topics or []], **numbers,
            "retries": retries}


def _lesson_minutes(meta: dict, path: Path) -> tuple[int, int | None]:
    """`minutes` (expected study time) and the optional `min_minutes` (least active study that completes it)."""
    values: dict[str, int | None] = {}
    for key, default in (("minutes", 30), ("min_minutes", None)):
        value = meta.get(key)
        if value is None:  # absent, or "minutes:" left empty
            value = default
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 600):
            raise CourseFileError(f"{path}: '{key}' must be a whole number of minutes from 1 to 600")
        values[key] = value
    minutes, least = values["minutes"] or 30, values["min_minutes"]
    if least is not None and least > minutes:
        raise CourseFileError(f"{path}: 'min_minutes' ({least}) cannot exceed 'minutes' ({minutes})")
    return minutes, least


def load_folder(root: Path) -> list[dict]:
    """Parse every course folder; raise CourseFileError listing every problem found."""
    courses, problems = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "course.md").exists()):
        try:
            meta, body = read_front_matter(folder / "course.md")
            fields = _course_fields(meta, folder / "course.md")
            lessons = []
            for i, path in enumerate(sorted(folder.glob("[0-9]*.md")), start=1):
                lmeta, lbody = read_front_matter(path)
                if not lmeta.get("title"):
                    raise CourseFileError(f"{path}: 'title' is required")
                minutes, min_minutes = _lesson_minutes(lmeta, path)
                lessons.append({"slug": path.stem, "position": i, "title": str(lmeta["title"]).strip(), "body": lbody,
                                "minutes": minutes, "min_minutes": min_minutes,
                                "required": bool(lmeta.get("required", True)), "topics": _topics(lmeta, path)})
            if not lessons:
                raise CourseFileError(f"{folder}: a course needs at least one lesson file")
            courses.append({"slug": folder.name, "fields": {**fields, "description": body},
                            "authors": [str(a) for a in meta.get("authors") or []], "lessons": lessons,
                            "quiz": _quiz_fields(meta.get("quiz"), folder / "course.md"), "path": folder / "course.md"})
        except CourseFileError as exc:
            problems.append(str(exc))
    if problems:
        raise CourseFileError("\n".join(problems))
    return courses


def import_courses(root: Path) -> ImportResult:
    """Create or update courses from a folder; published on import. Flushes, never commits.
    A course's quiz draws from the question bank: import the bank first."""
    result = ImportResult()
    data = load_folder(Path(root))
    problems: list[str] = []
    for item in data:  # every quiz and every course's 学时 are checked before anything is written
        try:
            item["quiz"] = _quiz_settings(item["quiz"], item["path"])
        except CourseFileError as exc:
            problems.append(str(exc))
        problem = credit_problem(
            item["fields"]["credit_hours"], [(x["minutes"], x["required"]) for x in item["lessons"]]
        )
        if problem:
            problems.append(f"{item['path']}: {problem}")
    if problems:
        raise CourseFileError("\n".join(problems))
    existing = {c.slug: c for c in db.session.scalars(select(Course).where(Course.slug.in_([d["slug"] for d in data])))}
    trainers: dict[str, Trainer] = {}
    for t in db.session.scalars(select(Trainer)):

        trainers.setdefault(t.name, t)
    for item in data:
        course = existing.get(item["slug"])
        changed = False
        if course is None:
            course = Course(slug=item["slug"], status="published", published_at=utcnow(), **item["fields"])
            db.session.add(course)
            result.created += 1
            changed = True
        else:
            for key, value in item["fields"].items():
                if getattr(course, key) != value:
                    setattr(course, key, value)
                    changed = True
        authors = [trainers[name] for name in item["authors"] if name in trainers]
        if [a.id for a in course.authors] != [a.id for a in authors]:
            course.authors = authors
            changed = True
        lessons = {lesson.slug: lesson for lesson in course.lessons}
        for ldata in item["lessons"]:
            lesson = lessons.get(ldata["slug"])
            if lesson is None:
                course.lessons.append(Lesson(**ldata))
                changed = True
                continue
            for key, value in ldata.items():
                if getattr(lesson, key) != value:
                    setattr(lesson, key, value)
                    changed = True
        changed = _apply_quiz(course, item["quiz"]) or changed
        if changed:
            reindex(course)
            if item["slug"] in existing:
                result.updated += 1
        elif item["slug"] in existing:
            result.unchanged += 1
    db.session.flush()
    return result


def _quiz_settings(data: dict | None, path: Path) -> quizzes.QuizSettings | None:
    """The quiz a course file describes, checked against the question bank (import the bank first)."""
    if data is None:
        return None
    subject = db.session.scalar(select(ExamSubject).where(
        (ExamSubject.code == data["subject"]) | (ExamSubject.name == data["subject"])))
    if subject is None:
        raise CourseFileError(f"{path}: quiz: unknown subject {data['subject']!r}")
    topics = [bank_topics.resolve(subject, t) or t for t in data["topics"]]  # an alias names its topic
    settings = quizzes.QuizSettings(subject=subject, topics=topics, questions=data["questions"],
                                    pass_percent=data["pass_percent"], retries=data["retries"])
    try:
        quizzes.check_settings(settings)
    except quizzes.QuizError as exc:
        raise CourseFileError(f"{path}: quiz: {exc} (is the question bank imported?)") from exc
    return settings


def _apply_quiz(course: Course, wanted: quizzes.QuizSettings | None) -> bool:
    """Give the course the quiz its file describes (or none). True if that changed anything."""
    current = quizzes.active_quiz(course)
    if wanted is None:
        if current is None:
            return False
        quizzes.set_quiz(course, None)
        return True
    if current is not None and quizzes.settings_of(current) == wanted:
        return False
    quizzes.set_quiz(course, wanted)
    return True
