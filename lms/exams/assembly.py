"""Paper assembly (组卷): draw questions for a blueprint, at random within its constraints.

`assemble()` is pure: it takes the blueprint's figures, the candidate questions as plain
dicts and a seed, and returns the frozen paper. The same seed and candidates give the same
paper. `freeze()` loads the candidates from the bank and calls it.
"""
import pickle
import random
import secrets
import threading
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from sqlalchemy import Table, event, select, update
from sqlalchemy.orm import Session, selectinload

from ..errors import DomainError
from ..extensions import db
from . import qtypes
from .bank import option_letters
from .models import Exam, ExamSubject, Question

MAX_TRIES = 200


class AssemblyError(DomainError):
    pass


def quotas(total: int, shares: dict, keys: list) -> dict:
    """Split `total` over `keys` by `shares` (largest remainder). Keys without a share split
    what the named shares leave, evenly by the same rule; an empty `shares` means no quota."""
    if not shares:
        return {}
    named = {k: float(v) for k, v in shares.items() if k in keys and float(v) > 0}
    rest = max(0.0, 1.0 - sum(named.values()))
    others = [k for k in keys if k not in named]
    weights = dict(named)
    for k in others:
        weights[k] = rest / len(others) if others else 0.0
    scale = sum(weights.values()) or 1.0
    exact = {k: total * w / scale for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), str(k)))[:left]:
        out[k] += 1
    return out


def _pick(pool: list[dict], count: int, topic_q: dict, diff_q: dict, rng: random.Random) -> list[dict]:
    """`count` distinct questions honouring the topic and difficulty quotas (randomised greedy with retries)."""
    if len(pool) < count:
        raise AssemblyError(f"the bank has {len(pool)} usable questions for a section of {count}")
    for _try in range(MAX_TRIES):
        order = pool[:]
        rng.shuffle(order)
        topic_left, diff_left = dict(topic_q), dict(diff_q)
        chosen: list[dict] = []
        for q in order:
            if len(chosen) == count:
                break
            if topic_left and topic_left.get(q["topic"], 0) <= 0:
                continue
            if diff_left and diff_left.get(str(q["difficulty"]), 0) <= 0:
                continue
            chosen.append(q)
            if topic_left:
                topic_left[q["topic"]] -= 1
            if diff_left:
                diff_left[str(q["difficulty"])] -= 1
        if len(chosen) == count:
            return chosen
    raise AssemblyError(f"the bank cannot meet the topic and difficulty mix for a section of {count}")


def _scale(value, factor: Decimal) -> float:
    return float((Decimal(str(value)) * factor).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _shuffled_options(q: dict, rng: random.Random) -> tuple[list, list | None, dict]:

    """Options in a new order relabelled A, B, …; the answer relabelled; new key → original key."""
    options = list(q.get("options") or [])
    if not options:
        return [], q.get("answer"), {}
    rng.shuffle(options)
    letters = option_letters(len(options))
    key_map = {letters[i]: o["key"] for i, o in enumerate(options)}
    back = {orig: new for new, orig in key_map.items()}
    answer = sorted(back[k] for k in (q.get("answer") or []) if k in back)
    return [{"key": letters[i], "text": o["text"]} for i, o in enumerate(options)], answer, key_map


def fits(q: dict, section: dict) -> bool:
    """Whether a question may be drawn for a section: a section that names its number of options
    ("options": 4 for the exam's 单选, 5 for its 多选, DESIGN.md §5) takes only questions with exactly
    that many; the bank also holds questions with 2 to 8 options, for practice."""
    wanted = section.get("options")
    return wanted is None or len(q.get("options") or []) == int(wanted)


def option_rules() -> dict[str, list[int]]:
    """{type: the option counts the active blueprints ask for}, e.g. {"single": [4], "multiple": [5]}."""
    out: dict[str, set[int]] = {}
    for sections in db.session.scalars(select(Exam.sections).where(Exam.active.is_(True))):
        for section in sections or []:
            if section.get("options") is not None:
                out.setdefault(section["type"], set()).add(int(section["options"]))
    return {qtype: sorted(counts) for qtype, counts in out.items()}


def assemble(blueprint: dict, candidates: list[dict], seed: int) -> dict:
    """The paper for `seed`. `blueprint`: sections, topic_mix, difficulty_mix (and name, duration,
    pass_score, copied into the paper). `candidates`: active questions as dicts with id, type, topic,
    difficulty, stem, options, answer, explanation, points, reference and parts (for cases). A section
    draws only the questions that fit it (see fits())."""
    rng = random.Random(seed)
    by_type: dict[str, list[dict]] = {}
    for q in sorted(candidates, key=lambda q: q["id"]):
        by_type.setdefault(q["type"], []).append(q)
    items: dict[str, dict] = {}
    sections = []
    used: set[int] = set()
    number = 0
    for section in blueprint["sections"]:
        qtype, count = section["type"], int(section["count"])
        pool = [q for q in by_type.get(qtype, []) if q["id"] not in used and fits(q, section)]
        topics = sorted({q["topic"] for q in pool})
        topic_q = quotas(count, blueprint.get("topic_mix") or {}, topics)
        diff_q = quotas(count, {str(k): v for k, v in (blueprint.get("difficulty_mix") or {}).items()}, ["1", "2", "3"])
        chosen = _pick(pool, count, topic_q, diff_q, rng)
        keys = []
        for q in chosen:
            used.add(q["id"])
            number += 1
            key = str(number)
            keys.append(key)
            items[key] = _item(q, section, rng, key, items)
        sections.append({"type": qtype, "points": section["points"], "partial_points": section.get("partial_points"),
                         "items": keys})
    return {"name": blueprint.get("name"), "duration_minutes": blueprint.get("duration_minutes"),
            "pass_score": str(blueprint.get("pass_score")), "seed": seed, "sections": sections, "items": items}


def _item(q: dict, section: dict, rng: random.Random, key: str, items: dict) -> dict:
    item = {"no": key, "qid": q["id"], "type": q["type"], "topic": q["topic"], "difficulty": q["difficulty"],
            "stem": q["stem"], "explanation": q.get("explanation") or ""}
    qtypes.get(q["type"]).freeze(q, item, section, rng, items)
    item["points"] = float(Decimal(str(section["points"])))
    return item


def question_dict(q: Question) -> dict:
    data = {"id": q.id, "type": q.type, "topic": q.topic, "difficulty": q.difficulty, "stem": q.stem,
            "options": q.options or [], "answer": q.answer, "explanation": q.explanation, "reference": q.reference,
            "points": q.points}
    if not qtypes.get(q.type).answerable:  # a case: its parts
        data["parts"] = [{"id": p.id, "type": p.type, "stem": p.stem, "options": p.options or [], "answer": p.answer,
                          "explanation": p.explanation, "reference": p.reference, "points": p.points}
                         for p in q.parts]
    return data


def blueprint_dict(exam: Exam) -> dict:
    return {"name": exam.name, "duration_minutes": exam.duration_minutes, "pass_score": exam.pass_score,
            "sections": exam.sections, "topic_mix": exam.topic_mix or {}, "difficulty_mix": exam.difficulty_mix or {}}


def load_candidates(exam: Exam) -> list[dict]:
    """The questions `exam` may draw, read from the bank (see candidates_for())."""
    types = {s["type"] for s in exam.sections}
    stmt = select(Question).where(Question.subject_id == exam.subject_id, Question.status == "active",
                                  Question.parent_id.is_(None), Question.type.in_(types))
    if exam.topics:  # a course quiz draws only from its topics
        stmt = stmt.where(Question.topic.in_(exam.topics))
    rows = db.session.scalars(stmt.options(selectinload(Question.parts))).all()
    return [question_dict(q) for q in rows]


# --- the pool a paper is drawn from, once per process ------------------------------------------------
# Reading a subject's active questions with their case parts is most of what a start costs (about
# 300 rows, ~20 ms on a quiet machine; an exam day starts thousands of attempts within minutes).
# Each process keeps the pool it read, pickled (every caller gets its own copy to draw from), under the
# subject's `bank_version`, which every change of a question sets to a new random number in the same
# transaction (bump_bank_versions): the next start after the change commits reads the bank again. A
# rolled-back change leaves a number that is never used again, so no other content is ever cached
# under it. The database's URL is in the key too (tests run SQLite and PostgreSQL in one process).

_POOLS: dict[tuple, bytes] = {}
_POOLS_MAX = 64
_POOLS_LOCK = threading.Lock()


def candidates_for(exam: Exam) -> list[dict]:
    """The questions `exam` may draw (active, of its subject, section types and topics, as plain dicts),
    from this process's copy of the bank while the bank is unchanged."""
    # The version is read before the questions: under READ COMMITTED the rows read next are at least as
    # new as the version they are kept under.
    version = db.session.scalar(select(ExamSubject.bank_version).where(ExamSubject.id == exam.subject_id))
    key = (str(db.session.get_bind().engine.url), exam.subject_id, version,
           tuple(sorted({s["type"] for s in exam.sections})),
           tuple(sorted(exam.topics or ())))
    kept = _POOLS.get(key)
    if kept is not None:
        return pickle.loads(kept)
    pool = load_candidates(exam)
    with _POOLS_LOCK:
        if len(_POOLS) >= _POOLS_MAX:
            _POOLS.clear()
        _POOLS[key] = pickle.dumps(pool, protocol=pickle.HIGHEST_PROTOCOL)
    return pool


@event.listens_for(Session, "before_flush")
def bump_bank_versions(session: Session, _context, _instances) -> None:
    """A question added, changed or deleted (a case's parts too): every subject's bank_version gets a
    new random number, written with the change. Bank changes are rare (imports, a trainer's edit), so
    all subjects are bumped: a question moved between subjects needs no special case."""
    changed = any(isinstance(obj, Question) for obj in (*session.new, *session.deleted)) or any(
        isinstance(obj, Question) and session.is_modified(obj) for obj in session.dirty)
    if changed:
        table = cast(Table, ExamSubject.__table__)
        session.connection().execute(update(table).values(bank_version=secrets.randbits(62)))


def freeze(exam: Exam, seed: int) -> dict:
    return assemble(blueprint_dict(exam), candidates_for(exam), seed)
