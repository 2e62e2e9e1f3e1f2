"""The shipped question bank: YAML files under question_bank/ (format: question_bank/README.md).

`import_bank(path)` reads every file, checks every rule and reports every problem with its file
and line; it writes nothing unless there is no problem at all (the caller commits or rolls back).
Questions are matched by their `id`: a re-import updates them in place and never duplicates them;
a question removed from the files stays in the database.
"""
import re
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from . import qtypes, topics
from .bank import ID_RE, SaveCounts, check_question, save_questions
from .models import ExamSubject

SHIPPED_BANK = Path(__file__).resolve().parent.parent.parent / "question_bank"
QUESTION_KEYS = {"id", "type", "difficulty", "stem", "options", "answer", "explanation", "source", "law",
                 "law_in_force", "status", "points", "parts", "reference"}
PART_KEYS = {"stem", "type", "points", "options", "answer", "reference", "explanation"}
LEVEL_WORDS = {"初级": "junior", "中级": "intermediate", "高级": "senior"}


@dataclass
class FileProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class BankResult:
    problems: list[FileProblem] = field(default_factory=list)
    counts: SaveCounts = field(default_factory=SaveCounts)
    files: int = 0
    questions: int = 0
    subjects_created: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class BankImportError(RuntimeError):
    def __init__(self, result: BankResult):
        self.result = result
        super().__init__("\n".join(str(p) for p in result.problems))


# ---------------------------------------------------------------------------------------------
# YAML with line numbers


class LineDict(dict):
    """A YAML mapping that remembers its line and the line of each key (1-based)."""

    line = 0
    key_lines: dict
    duplicates: list


if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:  # the C loader when libyaml is there (fast), else the pure-Python one
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    pass


def _construct_mapping(loader, node):
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines, data.duplicates = {}, []
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            ) from None
        if key in data.key_lines:
            data.duplicates.append((key, key_node.start_mark.line + 1))
        data.key_lines[key] = key_node.start_mark.line + 1
        data[key] = loader.construct_object(value_node, deep=False)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _line(mapping, key=None) -> int:
    if isinstance(mapping, LineDict):
        return mapping.key_lines.get(key, mapping.line) if key is not None else mapping.line
    return 0


# ---------------------------------------------------------------------------------------------
# Subjects


def subjects_from_readme(root: Path) -> list[tuple[str, str, str]]:
    """(code, name, level) rows of the subject table in the bank's README.md, if there is one."""
    for candidate in (root / "README.md", root.parent / "README.md"):
        if candidate.is_file():
            text = candidate.read_text("utf-8")
            break
    else:
        return []
    rows = []
    for m in re.finditer(r"^\|\s*`?([A-Za-z0-9_-]+)/?`?\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$", text, re.M):
        code, name, level_text = m.groups()
        level = next((key for word, key in LEVEL_WORDS.items() if level_text.startswith(word)), None)
        if level:
            rows.append((code, name, level))
    return rows


def ensure_subjects(rows: list[tuple[str, str, str]]) -> int:
    """Add the subjects that are not in the database yet (existing ones are never changed)."""
    existing = db.session.scalars(select(ExamSubject)).all()
    codes = {s.code for s in existing}
    names = {s.name for s in existing}
    position = max((s.position for s in existing), default=0)
    created = 0
    for code, name, level in rows:
        if code in codes or name in names:
            continue
        position += 1
        db.session.add(ExamSubject(code=code, name=name, level=level, law_required="法规" in name, position=position))
        codes.add(code)
        names.add(name)
        created += 1
    if created:
        db.session.flush()
    return created


# ---------------------------------------------------------------------------------------------
# Reading


def _text(value) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def _options(value, report, line) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, dict):
        report(line, _("options must be a mapping of letters to texts, e.g. A: …"))
        return []
    return [{"key": str(k).strip().upper(), "text": _text(v)} for k, v in value.items()]


def _answer(qtype, value):
    kind = qtypes.REGISTRY.get(qtype)
    if kind is not None and kind.has_options:  # a choice type: "ACD" or [A, C, D] as a list of letters
        if isinstance(value, str):
            return [c.upper() for c in value if c.isalpha()]
        if isinstance(value, list):
            return [str(v).strip().upper() for v in value]
        return None
    return value


def _date(value, report, line):
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        report(line, _("The date the law came into force is not a date (YYYY-MM-DD)."))
        return None


def _points(value):
    return value if value is None or isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _unknown_keys(mapping: LineDict, allowed: set, report) -> None:
    for key in mapping:
        if key not in allowed:
            report(_line(mapping, key), _('Unknown field "%(key)s" (a typing mistake?).', key=key))
    for key, line in mapping.duplicates:
        report(line, _('The field "%(key)s" is given twice.', key=key))


def _question_data(q: LineDict, topic: str, report) -> dict:
    """The plain dict of bank.py from one YAML question (conversion problems go to `report`)."""
    qtype = q.get("type")
    data = {
        "type": qtype,
        "difficulty": q.get("difficulty"),
        "stem": _text(q.get("stem")),
        "options": _options(q.get("options"), report, _line(q, "options")),
        "answer": _answer(qtype, q.get("answer")),
        "explanation": _text(q.get("explanation")),
        "reference": _text(q.get("reference")),
        "points": _points(q.get("points")),
        "source": _text(q.get("source")) or "原创",
        "law": _text(q.get("law")) or None,
        "law_in_force": _date(q.get("law_in_force"), report, _line(q, "law_in_force")),
        "topic": topic,
    }
    if "status" in q:
        data["status"] = q.get("status")
    parts = q.get("parts")
    if parts is not None and not isinstance(parts, list):
        report(_line(q, "parts"), _("parts must be a list of sub-questions."))
        parts = []
    data["parts"] = []
    for part in parts or []:
        if not isinstance(part, LineDict):
            report(_line(q, "parts"), _("Each part must be a mapping with stem, type, points …"))
            continue
        _unknown_keys(part, PART_KEYS, report)
        data["parts"].append({
            "type": part.get("type"), "stem": _text(part.get("stem")), "points": _points(part.get("points")),
            "options": _options(part.get("options"), report, _line(part, "options")),
            "answer": _answer(part.get("type"), part.get("answer")),
            "reference": _text(part.get("reference")), "explanation": _text(part.get("explanation")),
        })
    if qtype != "case" and parts:
        report(_line(q, "parts"), _("Only a case has parts."))
    return data


def _problem_line(q: LineDict, path: tuple) -> int:
    node: object = q
    line = q.line
    for step in path:
        if isinstance(node, LineDict):
            line = node.key_lines.get(step, line) if not isinstance(step, int) else line
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            line = _line(node) or line
        else:
            break
    return line


def read_bank(path: Path, subjects: dict[str, ExamSubject]) -> tuple[list[tuple[dict, ExamSubject, str | None]],
                                                                      BankResult]:
    """Every question of the YAML files under `path` (a bank folder, a subject folder or one file)."""
    result = BankResult()
    root = path if path.is_dir() else path.parent
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")
                   and p != root / topics.VOCABULARY.name) if path.is_dir() else [path]
    label_root = root.parent  # names read like question_bank/mid-law/labor.yaml or mid-law/labor.yaml
    items: list[tuple[dict, ExamSubject, str | None]] = []

    seen: dict[str, str] = {}
    if not files:
        result.problems.append(FileProblem(str(path), 0, _("No question files (.yaml) found here.")))
        return items, result
    for file in files:
        try:
            name = str(file.relative_to(label_root))
        except ValueError:
            name = str(file)
        result.files += 1

        def report(line, message, _name=name):
            result.problems.append(FileProblem(_name, line, message))

        try:
            doc = yaml.load(file.read_text("utf-8"), Loader=_Loader)
        except UnicodeDecodeError:
            report(1, _("The file is not UTF-8 text."))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            report(mark.line + 1 if mark else 1, _("The file is not valid YAML: %(error)s",
                                                  error=getattr(exc, "problem", None) or str(exc)))
            continue
        if not isinstance(doc, LineDict):
            report(1, _("The file must be a mapping with subject, topic and questions."))
            continue
        folder = file.parent.name
        subject = subjects.get(folder)
        if subject is None:
            report(1, _('The folder "%(folder)s" is not a subject of the bank (see the table in README.md).',
                        folder=folder))
            continue
        _unknown_keys(doc, {"subject", "topic", "questions"}, report)
        if _text(doc.get("subject")) != subject.name:
            report(_line(doc, "subject"), _('subject must be "%(name)s", the subject of the folder %(folder)s.',
                                            name=subject.name, folder=folder))
        topic = _text(doc.get("topic"))
        listed = topics.resolve(subject, topic)  # the subject's name for it (an alias becomes its topic)
        if not topic:
            report(_line(doc, "topic"), _("The topic is missing."))
        elif listed is None:
            report(_line(doc, "topic"), topics.unknown_message(subject, topic))
        else:
            topic = listed
        questions = doc.get("questions")
        if not isinstance(questions, list) or not questions:
            report(_line(doc, "questions"), _("questions must be a list with at least one question."))
            continue
        for q in questions:
            if not isinstance(q, LineDict):
                report(_line(doc, "questions"), _("Each question must be a mapping with id, type, stem …"))
                continue
            result.questions += 1
            _unknown_keys(q, QUESTION_KEYS, report)
            qid = _text(q.get("id"))
            if not qid:
                report(q.line, _("The question has no id."))
            elif not ID_RE.match(qid):
                report(_line(q, "id"), _('The id "%(id)s" may only have letters, digits and . _ - (at most 64).',
                                         id=qid))
            elif qid in seen:
                report(_line(q, "id"), _('The id "%(id)s" is used twice: also at %(where)s.', id=qid, where=seen[qid]))
            else:
                seen[qid] = f"{name}:{_line(q, 'id')}"
            data = _question_data(q, topic, report)
            status = data.get("status", "active")
            for path_, message in check_question(data, law_required=subject.law_required,
                                                 complete=status == "active"):
                report(_problem_line(q, path_), message)
            items.append((data, subject, qid))
    result.problems.sort(key=lambda p: (p.file, p.line))
    return items, result


def import_bank(path: Path | str, user=None) -> BankResult:
    """Read, check and (when nothing is wrong) save the bank. The caller commits or rolls back."""
    path = Path(path)
    root = path if path.is_dir() else path.parent
    result_subjects = ensure_subjects(subjects_from_readme(root))
    subjects = {s.code: s for s in db.session.scalars(select(ExamSubject))}
    items, result = read_bank(path, subjects)
    result.subjects_created = result_subjects
    if result.ok:
        result.counts = save_questions(items, user, new_status="active", move_existing=True)
    return result


@contextmanager
def default_locale():
    """Messages in the site's default language when there is no request (CLI, seed-demo)."""
    ctx = nullcontext() if has_request_context() else force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])
    with ctx:
        yield


def import_shipped_bank() -> BankResult:
    """The bank in the repository's question_bank/ folder, for seed-demo (raises on any problem)."""
    with default_locale():
        result = import_bank(SHIPPED_BANK)
        if not result.ok:
            raise BankImportError(result)
    return result


def bank_size() -> int:
    from .models import Question

    return db.session.scalar(select(func.count()).select_from(Question).where(Question.parent_id.is_(None))) or 0
