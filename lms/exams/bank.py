"""The question bank's domain rules: what a valid question is, saving, status changes, queries.

A question travels between the importers, the forms and the database as a plain dict with the
keys of `Question` (`type`, `difficulty`, `stem`, `options` as [{"key", "text"}], `answer`,
`explanation`, `reference`, `points`, `source`, `status`, `law`, `law_in_force`, `topic`) and
`parts` (a list of such dicts) for a case. A key that is absent means "not given": an update
leaves that column alone.

No function here touches `request` or commits.
"""
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..errors import DomainError
from ..extensions import db
from . import explain, qtypes
from . import topics as bank_topics
from .models import PART_TYPES, STATUSES, TYPES, ExamSubject, Question

# A choice question has 2 to 8 options lettered A, B, … in order. How many an exam paper asks for
# (4 for 单选, 5 for 多选, DESIGN.md §5) is the blueprint's rule, kept as data on its sections
# (assembly.py); practice takes any.
OPTION_LETTERS = explain.OPTION_ALPHABET  # A–H: a choice question has at most eight options
MIN_OPTIONS = 2
OPTION_KEYS = {
    t.name: OPTION_LETTERS for t in qtypes.all_types() if isinstance(t, qtypes.ChoiceType)
}  # the letters a choice type may use
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_POINTS = Decimal(100)
CONTENT_FIELDS = ("type", "difficulty", "stem", "options", "answer", "explanation", "reference", "points",
                  "source", "law", "law_in_force")
PART_FIELDS = ("type", "stem", "options", "answer", "explanation", "reference", "points")


class BankError(DomainError):
    """A request the bank refuses (e.g. approving an incomplete question), with a message for the user."""


# Problems are (path, message): path names the field, e.g. ("options",) or ("parts", 1, "answer").
Problem = tuple[tuple, str]


def parse_points(value) -> Decimal:
    """A score: a number above 0, at most 100, with at most one decimal (raises ValueError)."""
    if isinstance(value, bool):
        raise ValueError(_("Points must be a number above 0 and at most 100, e.g. 2 or 0.5."))
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(_("Points must be a number above 0 and at most 100, e.g. 2 or 0.5.")) from None
    if not points.is_finite() or points <= 0 or points > MAX_POINTS or points != points.quantize(Decimal("0.1")):
        raise ValueError(_("Points must be a number above 0 and at most 100, e.g. 2 or 0.5."))
    return points.quantize(Decimal("0.1"))


def _keys_text(options) -> str:
    keys = [str(o.get("key", "")) for o in options or [] if isinstance(o, dict)]
    return "、".join(keys) if keys else _("none")


def option_letters(count: int) -> str:
    """The letters of a choice question with `count` options: "AB", "ABCD", … (at most 8)."""
    return OPTION_LETTERS[:max(count, 0)]


def check_choice(data: dict, qtype: str, path: tuple) -> list[Problem]:
    problems = []
    options = data.get("options") or []
    keys = [o.get("key") for o in options if isinstance(o, dict)]
    expected = option_letters(len(options))
    if (not MIN_OPTIONS <= len(options) <= len(OPTION_LETTERS) or len(keys) != len(options)
            or "".join(str(k) for k in keys) != expected):
        problems.append((path + ("options",), _(
            "A choice question has %(min)d to %(max)d options, lettered %(first)s, %(second)s, … in order "
            "(this one has: %(keys)s).", min=MIN_OPTIONS, max=len(OPTION_LETTERS), first=OPTION_LETTERS[0],
            second=OPTION_LETTERS[1], keys=_keys_text(options))))
    for option in options:
        if isinstance(option, dict) and not str(option.get("text") or "").strip():
            problems.append((path + ("options",), _("Option %(key)s has no text.", key=option.get("key"))))
    answer = data.get("answer")
    choice = cast(qtypes.ChoiceType, qtypes.get(qtype))  # check_choice is called for choice types only
    problems += [(path + (field,), message) for field, message in choice.answer_problems(answer, expected)]

    return problems


def check_points(data: dict, path: tuple, required: bool) -> list[Problem]:
    points = data.get("points")
    if points is None:
        return [(path + ("points",), _("The points are missing."))] if required else []
    try:
        parse_points(points)
    except ValueError as exc:
        return [(path + ("points",), str(exc))]
    return []


def check_question(data: dict, *, law_required: bool = False, complete: bool | None = None) -> list[Problem]:
    """Every rule of question_bank/README.md. `complete` (default: when the status is active) also
    asks for what a draft may still lack: the explanation, an essay's points and marking points,
    and the law of a 法规与政策 question."""
    if complete is None:
        complete = data.get("status", "draft") == "active"
    qtype = data.get("type")
    if qtype not in TYPES:
        return [(("type",), _('Unknown question type "%(value)s"; use one of: %(options)s',
                              value=qtype or "", options=", ".join(TYPES)))]
    problems: list[Problem] = []
    difficulty = data.get("difficulty")
    if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
        problems.append((("difficulty",), _("The difficulty is 1 (easy), 2 (medium) or 3 (hard).")))
    if not str(data.get("stem") or "").strip():
        problems.append((("stem",), _("The stem (the question text) is empty.")))
    status = data.get("status")
    if status is not None and status not in STATUSES:
        problems.append((("status",), _('Unknown status "%(value)s"; use one of: %(options)s',
                                        value=status, options=", ".join(STATUSES))))
    problems += qtypes.get(qtype).check(data, complete)
    if complete and not str(data.get("explanation") or "").strip():
        problems.append((("explanation",), _("The explanation is missing.")))
    problems += letter_problems(data)
    law_in_force = data.get("law_in_force")
    if law_in_force is not None and not isinstance(law_in_force, date):
        problems.append((("law_in_force",), _("The date the law came into force is not a date (YYYY-MM-DD).")))
    if complete and law_required:
        if not str(data.get("law") or "").strip():
            problems.append((("law",), _("Questions of this subject name the law or policy they rest on (law).")))
        if law_in_force is None:
            problems.append((("law_in_force",), _(
                "Questions of this subject give the date the cited version came into force (law_in_force).")))
    return problems


def _option_keys(data: dict) -> str:
    return "".join(str(o.get("key")) for o in data.get("options") or [] if isinstance(o, dict) and o.get("key"))


def letter_problems(data: dict) -> list[Problem]:
    """The one rule for option letters in explanations (lms/exams/explain.py): every letter that
    names an option must be mappable to the letter a candidate sees after the options are shuffled.
    A choice question's explanation (and a choice part's) may cite its own options; a case's own
    explanation may not cite its parts' options by letter. Called by check_question(), so the YAML
    bank, the GIFT/Aiken/Excel imports, the editor and approval all obey it."""
    problems: list[Problem] = []
    qtype = data.get("type")
    if qtype in OPTION_KEYS:
        problems += [(("explanation",), m) for m in explain.messages(str(data.get("explanation") or ""),
                                                                       _option_keys(data))]
    elif qtype == "case":
        parts = [p for p in data.get("parts") or [] if isinstance(p, dict)]
        part_keys = "".join(sorted({k for p in parts if p.get("type") in OPTION_KEYS for k in _option_keys(p)}))
        if part_keys:
            problems += [(("explanation",), m) for m in explain.messages(str(data.get("explanation") or ""),
                                                                           part_keys, citable=False)]
        for i, part in enumerate(parts):
            if part.get("type") in OPTION_KEYS:
                problems += [(("parts", i, "explanation"), _("Part %(n)d: %(problem)s", n=i + 1, problem=m))
                             for m in explain.messages(str(part.get("explanation") or ""), _option_keys(part))]
    return problems


def check_case(data: dict, complete: bool) -> list[Problem]:
    problems: list[Problem] = []
    parts = data.get("parts") or []
    if not parts:
        return [(("parts",), _("A case needs its parts (the sub-questions)."))]
    total = Decimal(0)
    for i, part in enumerate(parts):
        path = ("parts", i)
        n = i + 1
        ptype = part.get("type")
        if ptype not in PART_TYPES:
            problems.append((path + ("type",), _('Part %(n)d: a part is single, multiple or essay, not "%(value)s".',
                                                 n=n, value=ptype or "")))
            continue
        if not str(part.get("stem") or "").strip():
            problems.append((path + ("stem",), _("Part %(n)d: the stem is empty.", n=n)))
        for p_path, message in check_points(part, path, required=True):
            problems.append((p_path, _("Part %(n)d: %(problem)s", n=n, problem=message)))
        try:
            total += parse_points(part.get("points"))
        except ValueError:
            pass
        if ptype in OPTION_KEYS:
            for p_path, message in check_choice(part, ptype, path):
                problems.append((p_path, _("Part %(n)d: %(problem)s", n=n, problem=message)))
        elif complete and not str(part.get("reference") or "").strip():
            problems.append((path + ("reference",), _("Part %(n)d: an essay part needs its marking points (reference).",
                                                      n=n)))
    given = data.get("points")
    if given is not None and not problems:
        try:
            if parse_points(given) != total:
                problems.append((("points",), _("The case has %(given)s points but its parts add up to %(total)s.",
                                                given=given, total=total)))
        except ValueError as exc:
            problems.append((("points",), str(exc)))
    return problems


# ---------------------------------------------------------------------------------------------
# Saving


def new_external_id(subject: ExamSubject, taken: set[str] | None = None) -> str:
    while True:
        candidate = f"{subject.code}-{secrets.token_hex(4)}"
        if not taken or candidate not in taken:
            return candidate


DEFAULTS = {"difficulty": 2, "options": [], "answer": None, "explanation": "", "reference": "", "points": None,
            "source": "", "law": None, "law_in_force": None}
TEXT_FIELDS = ("stem", "explanation", "reference", "source", "law", "topic")


def prepare(data: dict, *, defaults: bool = False) -> dict:
    """Checked `data` made ready to store: texts stripped, points as Decimal, a case's points summed
    from its parts, no options or answer where the type has none. With `defaults`, every content
    field is present (a new question); without, absent keys stay absent (an update leaves them)."""
    out: dict[str, Any] = dict(DEFAULTS) if defaults else {}
    out.update({k: v for k, v in data.items() if k in CONTENT_FIELDS + ("topic", "status", "parts")})
    for field in TEXT_FIELDS:
        if isinstance(out.get(field), str):
            out[field] = out[field].strip()
    if out.get("law") == "":
        out["law"] = None
    qtype = qtypes.get(out["type"])
    if not qtype.answerable:  # a case: its points are its parts'
        out["parts"] = [_prepare_part(p) for p in out.get("parts") or []]
        out["points"] = sum((p["points"] for p in out["parts"]), Decimal(0))
    else:
        out["parts"] = []
        if out.get("points") is not None:
            out["points"] = parse_points(out["points"])
    qtype.tidy(out)
    return out


def _prepare_part(part: dict) -> dict:
    out: dict[str, Any] = {"options": [], "answer": None, "explanation": "", "reference": ""}

    out.update({k: v for k, v in part.items() if k in PART_FIELDS and v is not None})
    for field in ("stem", "explanation", "reference"):
        out[field] = str(out.get(field) or "").strip()
    out["points"] = parse_points(out["points"])
    if out["type"] == "essay":
        out["options"], out["answer"] = [], None
    elif isinstance(out.get("answer"), list):
        out["answer"] = sorted(set(out["answer"]))
    return out


def _set(obj, field: str, value) -> bool:
    if getattr(obj, field) != value:
        setattr(obj, field, value)
        return True
    return False


def set_status(question: Question, status: str) -> None:
    question.status = status
    for part in question.parts:
        part.status = status


def apply(question: Question, data: dict, subject: ExamSubject | None = None) -> bool:
    """Write the given fields of `data` (see prepare()) onto `question` and its parts.
    Returns whether anything changed."""
    changed = False
    if subject is not None and question.subject is not subject:
        question.subject = subject
        changed = True
    for field in CONTENT_FIELDS + ("topic", "status"):
        if field in data:
            changed |= _set(question, field, data[field])
    if "parts" in data:
        changed |= _sync_parts(question, data["parts"])
    for part in question.parts:  # parts follow their case
        for field in ("topic", "difficulty", "status"):
            _set(part, field, getattr(question, field))
        if part.subject is not question.subject:
            part.subject = question.subject
    return changed


def _sync_parts(question: Question, parts: list[dict]) -> bool:
    changed = False
    for position, pdata in enumerate(parts, start=1):
        if position <= len(question.parts):
            part = question.parts[position - 1]
        else:
            part = Question(external_id=f"{question.external_id}#{position}", position=position,
                            subject=question.subject, topic=question.topic, difficulty=question.difficulty,
                            status=question.status, created_by=question.created_by, source=question.source or "")
            question.parts.append(part)
            changed = True
        for field in PART_FIELDS:
            if field in pdata:
                changed |= _set(part, field, pdata[field])
    if len(question.parts) > len(parts):
        del question.parts[len(parts):]
        changed = True
    return changed


def create_question(data: dict, subject: ExamSubject, user=None, external_id: str | None = None) -> Question:
    """A new question from checked data (status draft unless the data says otherwise)."""
    data = prepare(data, defaults=True)
    question = Question(external_id=external_id or new_external_id(subject), subject=subject,
                        topic=data["topic"], type=data["type"], stem=data["stem"], status=data.get("status", "draft"),
                        created_by=user)
    apply(question, data)
    db.session.add(question)
    return question


def existing_by_external_id(ids) -> dict[str, Question]:
    """Top-level questions with these external ids, parts loaded: one query per 500 ids."""
    ids = list(dict.fromkeys(i for i in ids if i))
    found: dict[str, Question] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        stmt = (select(Question).where(Question.external_id.in_(chunk), Question.parent_id.is_(None))
                .options(selectinload(Question.parts)))
        found.update({q.external_id: q for q in db.session.scalars(stmt).unique()})
    return found


@dataclass
class SaveCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def save_questions(items: list[tuple[dict, ExamSubject, str | None]], user=None, *,
                   new_status: str = "draft", move_existing: bool = True,
                   changed_become_draft: bool = False) -> SaveCounts:
    """Create or update many checked questions with one query for the existing ones.

    `items` are (data, subject, external id). An existing external id is updated in place, a new
    or missing one creates a question (with `new_status` unless the data has a status). Without
    `move_existing`, an existing question keeps its subject and topic. With `changed_become_draft`, an
    existing question whose content changed goes back to draft (imports through the site need an office's approval).
    """
    counts = SaveCounts()
    existing = existing_by_external_id(e for _d, _s, e in items)
    taken = set(existing)
    for data, subject, external_id in items:
        question = existing.get(external_id) if external_id else None
        if question is None:
            if not external_id:
                external_id = new_external_id(subject, taken)
            taken.add(external_id)
            create_question({"status": new_status} | data, subject, user, external_id=external_id)
            counts.created += 1
            continue
        update = prepare(data)
        if not move_existing:
            update.pop("topic", None)
        if apply(question, update, subject if move_existing else None):
            if changed_become_draft:
                set_status(question, "draft")
            counts.updated += 1
        else:
            counts.unchanged += 1
    db.session.flush()
    return counts


def edit_question(question: Question, data: dict, subject: ExamSubject, *, may_approve: bool) -> bool:
    """Save an edit from the site. An active question changed by someone who may not approve
    questions goes back to draft (its new content needs an office's approval)."""
    changed = apply(question, prepare(data), subject)
    if changed and question.status == "active" and not may_approve:
        set_status(question, "draft")
    return changed


# ---------------------------------------------------------------------------------------------
# Status changes (offices and admins)

TRANSITIONS = {"approve": ("draft", "active"), "retire": (None, "retired"), "reopen": ("retired", "draft")}


def change_status(question: Question, action: str) -> None:
    """approve: draft → active (the question must be complete); retire: any → retired;
    reopen: retired → draft."""
    if action not in TRANSITIONS:
        raise BankError(_("Unknown action."))
    before, after = TRANSITIONS[action]
    if before is not None and question.status != before:
        raise BankError(_("This question is %(status)s: that change does not apply.",
                          status=STATUSES[question.status]))
    if question.status == after:
        return
    if after == "active":
        problems = check_question(question_data(question), law_required=question.subject.law_required, complete=True)
        if problems:
            raise BankError(_("The question cannot be approved yet: %(problems)s",
                              problems=" ".join(m for _p, m in problems)))
    set_status(question, after)


def question_data(question: Question) -> dict:
    """A Question row as the plain dict the rules and the exporters take."""
    data = {field: getattr(question, field) for field in CONTENT_FIELDS + ("topic", "status")}
    data["external_id"] = question.external_id
    data["parts"] = [{field: getattr(p, field) for field in PART_FIELDS} | {"position": p.position}
                     for p in question.parts]
    return data


# ---------------------------------------------------------------------------------------------
# Queries


def subjects() -> list[ExamSubject]:
    return list(db.session.scalars(select(ExamSubject).order_by(ExamSubject.position, ExamSubject.id)))


def filtered_questions(*, subject_id=None, topic=None, qtype=None, difficulty=None, status=None,
                       search=None) -> Select:
    """Top-level questions (a case's parts are shown with their case) narrowed by the list filters."""
    stmt = select(Question).where(Question.parent_id.is_(None))
    if subject_id:
        stmt = stmt.where(Question.subject_id == subject_id)
    if topic:
        stmt = stmt.where(Question.topic == topic)
    if qtype in TYPES:
        stmt = stmt.where(Question.type == qtype)
    if difficulty in (1, 2, 3):
        stmt = stmt.where(Question.difficulty == difficulty)
    if status in STATUSES:
        stmt = stmt.where(Question.status == status)
    if search:
        stmt = stmt.where(or_(Question.stem.contains(search, autoescape=True),
                              Question.external_id.contains(search, autoescape=True)))
    return stmt.order_by(Question.subject_id, Question.topic, Question.external_id)


def questions_for_export(subject: ExamSubject, statuses) -> list[Question]:
    stmt = (select(Question).where(Question.subject_id == subject.id, Question.parent_id.is_(None),
                                   Question.status.in_(list(statuses)))
            .order_by(Question.topic, Question.external_id))
    return list(db.session.scalars(stmt))


def topics_by_subject(subject_list: Sequence[ExamSubject]) -> dict[int, list[str]]:
    """Subject id → its topics for the bank's pickers: the subject's list (question_bank/topics.yaml)
    in its order, then any other topic its questions have (a subject with free topics)."""
    found: dict[int, set[str]] = {s.id: set(bank_topics.names(s) or ()) for s in subject_list}
    rows = db.session.execute(select(Question.subject_id, Question.topic)
                              .where(Question.subject_id.in_(list(found)), Question.parent_id.is_(None)).distinct())
    for subject_id, topic in rows:
        found[subject_id].add(topic)
    return {s.id: bank_topics.ordered(s, found[s.id]) for s in subject_list}


def counts_by_subject() -> dict[int, dict[tuple[str, str], int]]:
    """{subject id: {(type, status): count}} for the bank's overview."""
    rows = db.session.execute(select(Question.subject_id, Question.type, Question.status, func.count())
                              .where(Question.parent_id.is_(None))
                              .group_by(Question.subject_id, Question.type, Question.status)).all()
    out: dict[int, dict[tuple[str, str], int]] = {}
    for subject_id, qtype, status, n in rows:
        out.setdefault(subject_id, {})[(qtype, status)] = n
    return out
