"""Taking an exam: start, save (idempotent), submit (once), grade, expire. Plain functions that
flush, never commit. The server is the clock: every deadline check uses `now` from the server."""
import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, Select, Table, TextClause, bindparam, func, select, text, update

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..prep import mastery, review
from . import assembly, grading, qtypes
from .models import Attempt, AttemptAnswer, Exam, MockExamDay


class AttemptError(DomainError):
    pass


class DeadlinePassed(AttemptError):
    pass


class NotFound(AttemptError):
    """No such attempt, or not the caller's."""


# --- starting ------------------------------------------------------------------------------------

def open_attempt(user, exam: Exam, mock_day: MockExamDay | None = None) -> Attempt | None:
    stmt = select(Attempt).where(
        Attempt.user_id == user.id, Attempt.exam_id == exam.id, Attempt.status == "in_progress"
    )
    stmt = stmt.where(Attempt.mock_day_id == mock_day.id) if mock_day else stmt.where(Attempt.mock_day_id.is_(None))
    return db.session.scalar(stmt.order_by(Attempt.id.desc()).limit(1))


def start_slot(user, day: MockExamDay) -> datetime:
    """When this worker may start on a mock exam day: starts are spread over `stagger_minutes`."""
    if not day.stagger_minutes:
        return day.opens_at
    digest = hashlib.sha256(f"{day.id}:{user.id}".encode()).digest()
    offset = int.from_bytes(digest[:4], "big") % (day.stagger_minutes * 60)
    return day.opens_at + timedelta(seconds=offset)


def prepare(exam: Exam, seed: int | None = None) -> tuple[int, dict]:
    """A seed and the paper it assembles (only reads the bank: callers do it before they write)."""
    seed = seed if seed is not None else secrets.randbits(48)
    try:
        return seed, assembly.freeze(exam, seed)
    except assembly.AssemblyError as exc:
        raise AttemptError(_("The question bank cannot make this paper yet: %(why)s", why=str(exc))) from exc


def start(user, exam: Exam, mock_day: MockExamDay | None = None, now: datetime | None = None,
          seed: int | None = None, prepared: tuple[int, dict] | None = None) -> Attempt:
    """Resume the open attempt or start a new one with its own frozen paper (`prepared`: a seed and
    paper from prepare(), assembled before the caller took the write lock)."""
    now = now or utcnow()
    existing = open_attempt(user, exam, mock_day)
    if existing is not None and now <= existing.deadline_at:
        return existing
    if existing is not None:
        finish(existing, now)
    deadline = now + timedelta(minutes=exam.duration_minutes)
    if mock_day is not None:
        if db.session.scalar(select(func.count()).select_from(Attempt).where(
                Attempt.user_id == user.id, Attempt.mock_day_id == mock_day.id)):
            raise AttemptError(_("You have already taken this mock exam."))
        slot = start_slot(user, mock_day)
        if now < slot:
            raise AttemptError(_("Your start time is %(t)s.", t=_local(slot)))
        if now >= mock_day.closes_at:
            raise AttemptError(_("This mock exam has closed."))
        deadline = min(deadline, mock_day.closes_at)
    if not exam.active:
        raise AttemptError(_("This exam is not available."))
    seed, paper = prepared if prepared is not None else prepare(exam, seed)
    attempt = Attempt(
        user_id=user.id,
        exam_id=exam.id,
        mock_day_id=mock_day.id if mock_day else None,
        seed=seed,
        paper=paper,
        answer_keys=answer_keys(paper),
        started_at=now,
        deadline_at=deadline,
        status="in_progress",
        max_score=sum(
            (Decimal(str(paper["items"][k]["points"])) for s in paper["sections"] for k in s["items"]), Decimal(0)
        ),
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _local(value: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(value, "yyyy-MM-dd HH:mm:ss")


# --- what the browser may see ----------------------------------------------------------------------

PUBLIC_KEYS = ("no", "type", "stem", "options", "points", "parts")


def public_paper(attempt: Attempt) -> dict:
    """The paper without answers, explanations or marking points: all a page may show before grading."""
    paper = attempt.paper
    return {"sections": paper["sections"],
            "items": {k: {f: v for f, v in item.items() if f in PUBLIC_KEYS} for k, item in paper["items"].items()}}


def answerable(attempt: Attempt) -> list[str]:
    """Item keys that take a response (a case's parts, not the case itself)."""
    return [k for k, item in attempt.paper["items"].items() if qtypes.get(item["type"]).answerable]


def answer_keys(paper: dict) -> dict[str, str]:
    """Item → "type:option letters" for every item that takes a response (see Attempt.answer_keys)."""
    return {k: f"{item['type']}:{''.join(o['key'] for o in item.get('options') or [])}"
            for k, item in paper["items"].items() if qtypes.get(item["type"]).answerable}


def saved_answers(attempt: Attempt) -> dict[str, AttemptAnswer]:
    return {a.item: a for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}


# --- saving ------------------------------------------------------------------------------------------

def clean_response(answer_key: str, response):
    """A response in its stored shape, or AttemptError when it cannot be one for this item
    (`answer_key` as in answer_keys(): "type:option letters")."""
    if response is None or response == "":
        return None
    qtype, _sep, letters_allowed = answer_key.partition(":")
    try:
        return qtypes.get(qtype).clean(response, letters_allowed)
    except qtypes.ResponseError as exc:
        raise AttemptError(str(exc)) from None


MAX_BATCH = 500  # saves in one request: more than any paper has items


def save(attempt: Attempt, item_key: str, response, seq: int, now: datetime | None = None) -> int:
    """Store one response (see save_many()). Returns the stored seq; raises AttemptError when the
    save cannot be stored, DeadlinePassed after the deadline or once the attempt is submitted."""
    stored, rejected = save_many(attempt.id, [{"item": item_key, "response": response, "seq": seq}], now=now)
    if rejected:
        raise AttemptError(next(iter(rejected.values())))
    return stored[str(item_key)]


def save_many(attempt_id: int, entries: list, user_id: int | None = None,
              now: datetime | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """Store each save ({"item", "response", "seq"}, and "flagged": true/false when the candidate
    flagged the item for review or took the flag off; without it the stored flag stays) unless a
    newer save of its item (higher seq) is already stored, in the caller's transaction.
    Idempotent: the same save twice, or an old save arriving late, changes nothing. Each save
    stands alone: a bad one is rejected with its reason and the others are stored.

    Returns (stored, rejected): item → the seq stored now for every good save (its own, or a newer
    one already there), item → why for every rejected one. Raises DeadlinePassed after the
    deadline or once the attempt is submitted (then nothing is stored), NotFound when there is no
    such attempt or (given `user_id`) it is someone else's.

    The exam day's most frequent request: two statements built once per process, run on the session's
    connection as Core (no ORM): the attempt's row, then one upsert for the batch."""
    now = now or utcnow()
    if not isinstance(entries, list) or not entries:
        raise AttemptError(_("A save holds at least one answer."))
    if len(entries) > MAX_BATCH:
        raise AttemptError(_("A save holds at most %(n)d answers.", n=MAX_BATCH))
    db.session.flush()  # a caller's pending ORM changes (nothing, in a request) before the Core statements
    conn = db.session.connection()
    # Take the attempt's row lock first and read its state under it: finish() changes the status with
    # an UPDATE of that row, so a save either lands before the attempt is graded (and is graded with
    # it) or is refused, and two saves of one attempt never interleave. (SQLite: BEGIN IMMEDIATE
    # already serialises them; its dialect leaves FOR UPDATE out.)
    row = conn.execute(_attempt_statement(), {"attempt_id": attempt_id}).one_or_none()
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFound(_("Page not found"))
    if row.status != "in_progress" or now > row.deadline_at:
        raise DeadlinePassed(_("Time is up: answers can no longer be changed."))
    keys = row.answer_keys
    if keys is None:  # an attempt started before answer_keys existed
        keys = answer_keys(cast(dict, db.session.scalar(select(Attempt.paper).where(Attempt.id == attempt_id))))

    wanted: dict[str, tuple[int, object, bool | None]] = {}   # item → (seq, value, flagged): its newest save
    rejected: dict[str, str] = {}
    for entry in entries:
        item = str(entry.get("item", "")) if isinstance(entry, dict) else ""
        try:
            if not isinstance(entry, dict):
                raise AttemptError(_("Each answer is an object with item, response and seq."))
            answer_key = keys.get(item)
            if answer_key is None:
                raise AttemptError(_("This paper has no question %(no)s.", no=item))
            seq = entry.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**62:
                raise AttemptError(_("A save needs a positive sequence number."))
            value = clean_response(answer_key, entry.get("response"))
            flagged = entry.get("flagged")
            if flagged is not None and not isinstance(flagged, bool):
                raise AttemptError(_("A flag is true or false."))
        except AttemptError as exc:
            rejected[item] = str(exc)
            continue
        if item not in wanted or seq > wanted[item][0]:
            wanted[item] = (seq, value, flagged)
    for item in rejected:
        wanted.pop(item, None)  # an item with a bad save in the batch waits for a good one
    if not wanted:
        return {}, rejected

    # One upsert writes every save whose item has no newer one stored (the WHERE of its DO UPDATE);
    # RETURNING names those. A save without "flagged" keeps the stored flag: it goes through the
    # statement that leaves the column alone.
    stored: dict[str, int] = {}
    for with_flag in (True, False):
        rows = [(item, value, seq, bool(flagged)) for item, (seq, value, flagged) in wanted.items()
                if (flagged is not None) == with_flag]
        if rows:
            params: dict[str, object] = {"attempt_id": attempt_id, "saved_at": now}
            for i, (item, value, seq, flagged) in enumerate(rows):
                params.update({f"item_{i}": item, f"response_{i}": value, f"seq_{i}": seq, f"flagged_{i}": flagged})
            stored.update(conn.execute(_upsert_statement(len(rows), with_flag), params).tuples().all())
    if len(stored) < len(wanted):  # a newer (or the same) save is already there: answer with its seq
        stored.update(conn.execute(_stored_seqs_statement(), {
            "attempt_id": attempt_id, "items": [k for k in wanted if k not in stored]}).tuples().all())
    return stored, rejected


@cache
def _attempt_statement() -> Select:
    """The attempt's row as a save reads it, locked (FOR UPDATE; SQLite's dialect leaves that out)."""
    attempt = cast(Table, Attempt.__table__)
    return (select(attempt.c.user_id, attempt.c.status, attempt.c.deadline_at, attempt.c.answer_keys)
            .where(attempt.c.id == bindparam("attempt_id")).with_for_update())


@cache
def _stored_seqs_statement() -> Select:
    answer = cast(Table, AttemptAnswer.__table__)
    return select(answer.c.item, answer.c.seq).where(
        answer.c.attempt_id == bindparam("attempt_id"), answer.c.item.in_(bindparam("items", expanding=True)))


@lru_cache(maxsize=64)
def _upsert_statement(rows: int, with_flag: bool) -> TextClause:
    """Insert `rows` saves, or update the stored ones with an older seq (the same SQL on PostgreSQL and
    SQLite ≥ 3.35). Written as text because SQLAlchemy never caches the compiled form of its dialects'
    ON CONFLICT inserts: built once per batch size, it spares compiling it on every save."""
    answer = cast(Table, AttemptAnswer.__table__)
    values = ", ".join(f"(:attempt_id, :item_{i}, :response_{i}, :seq_{i}, :saved_at, :flagged_{i}, '')"
                       for i in range(rows))
    flag = ", flagged = excluded.flagged" if with_flag else ""
    return text(
        f"INSERT INTO attempt_answer (attempt_id, item, response, seq, saved_at, flagged, feedback) VALUES {values} "
        f"ON CONFLICT (attempt_id, item) DO UPDATE SET response = excluded.response, seq = excluded.seq, "
        f"saved_at = excluded.saved_at{flag} WHERE attempt_answer.seq < excluded.seq RETURNING item, seq"
    ).bindparams(bindparam("saved_at", type_=answer.c.saved_at.type),
                 *(bindparam(f"response_{i}", type_=answer.c.response.type) for i in range(rows)))


# --- submitting and grading ------------------------------------------------------------------------------

def finish(attempt: Attempt, now: datetime | None = None) -> bool:
    """Submit (or close at the deadline) and grade, exactly once. True if this call graded it."""
    now = now or utcnow()
    result = cast(CursorResult, db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == "in_progress")
        .values(status="submitted", submitted_at=min(now, attempt.deadline_at))
        .execution_options(synchronize_session=False)))
    if not result.rowcount:
        db.session.refresh(attempt)
        return False
    db.session.refresh(attempt)
    grade(attempt, now)
    return True


def _question_like(item: dict) -> dict:
    return {"type": item["type"], "answer": item.get("answer"), "points": item.get("points"),
            "partial_points": item.get("partial_points")}


def grade(attempt: Attempt, now: datetime | None = None) -> None:
    """Score every item by the grading registry; free text waits for a trainer (blank text scores 0)."""
    now = now or utcnow()
    answers = saved_answers(attempt)
    scores: dict[str, Decimal | None] = {}
    for key in answerable(attempt):
        item = attempt.paper["items"][key]
        answer = answers.get(key)
        response = answer.response if answer else None
        score = grading.grade(_question_like(item), response)
        if score is None and not (response or "").strip():
            score = Decimal(0)  # nothing written: nothing to mark
        if answer is None:
            answer = AttemptAnswer(attempt_id=attempt.id, item=key, response=None, seq=0, saved_at=now)
            db.session.add(answer)
        answer.score = scores[key] = score
    evidence = mastery.evidence_of(attempt, scores)   # the objective items' credits (the backfill's too)
    _record_mistakes(attempt.user_id, [(e.question_id, e.credit) for e in evidence], now)
    mastery.record(attempt.user_id, evidence, mastery.source_of(attempt), attempt.id, now)
    db.session.flush()
    recompute(attempt, now)


def recompute(attempt: Attempt, now: datetime | None = None) -> None:
    scores = (
        db.session.execute(select(AttemptAnswer.score).where(AttemptAnswer.attempt_id == attempt.id)).scalars().all()
    )
    attempt.pending_marks = sum(1 for s in scores if s is None)
    attempt.score = sum((s for s in scores if s is not None), Decimal(0))
    pass_score = Decimal(str(attempt.paper.get("pass_score") or attempt.exam.pass_score))
    attempt.passed = None if attempt.pending_marks else attempt.score >= pass_score
    if attempt.pending_marks == 0:
        attempt.status = "graded"
        attempt.graded_at = now or utcnow()
    db.session.flush()
    if attempt.exam.kind == "course":
        from ..learning.progress import quiz_graded  # a passed course quiz completes its course

        quiz_graded(attempt, attempt.graded_at)


def _record_mistakes(user_id: int, credits: list[tuple[int, float]], now: datetime) -> None:
    """The mistakes book after a graded paper (one query for all its questions): a wrong answer puts its
    question in the book or is a lapse, a right one to a question in the book is a review (lms/prep/review.py)."""
    review.record(user_id, credits, now)


def mark(
    attempt: Attempt, item_key: str, score: Decimal, marker, feedback: str = "", now: datetime | None = None
) -> None:
    """A trainer marks a free-text answer; the attempt's total follows."""
    item = attempt.paper["items"].get(item_key)
    if item is None or not qtypes.get(item["type"]).hand_marked:
        raise AttemptError(_("Only written answers are marked by hand."))
    if attempt.status == "in_progress":
        raise AttemptError(_("The attempt is still in progress."))
    if not Decimal(0) <= score <= Decimal(str(item["points"])):
        raise AttemptError(_("The score must be between 0 and %(max)s.", max=item["points"]))
    answer = db.session.scalar(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id,
                                                           AttemptAnswer.item == item_key))
    if answer is None:  # the views load the answer before marking it
        raise LookupError(f"attempt {attempt.id} has no answer {item_key}")
    answer.score, answer.feedback = score, feedback.strip()
    answer.marked_by_id, answer.marked_at = marker.id, now or utcnow()
    db.session.flush()
    recompute(attempt, now)


def finish_expired(now: datetime | None = None, limit: int = 500) -> int:
    """Grade attempts whose deadline passed with what was saved, even if nobody came back."""
    now = now or utcnow()
    expired = db.session.scalars(select(Attempt).where(Attempt.status == "in_progress", Attempt.deadline_at < now)
                                 .order_by(Attempt.deadline_at).limit(limit)).all()
    return sum(1 for a in expired if finish(a, a.deadline_at))


# --- results ---------------------------------------------------------------------------------------------

def section_scores(attempt: Attempt, answers: dict[str, AttemptAnswer]) -> list[dict]:
    out = []
    for section in attempt.paper["sections"]:
        keys: list[str] = []
        for k in section["items"]:
            item = attempt.paper["items"][k]
            keys += [k] if qtypes.get(item["type"]).answerable else item.get("parts", [])
        got = sum((answers[k].score or Decimal(0) for k in keys if k in answers), Decimal(0))
        full = sum((Decimal(str(attempt.paper["items"][k]["points"])) for k in keys), Decimal(0))
        out.append({"type": section["type"], "score": got, "max": full})
    return out


def topic_scores(attempt: Attempt, answers: dict[str, AttemptAnswer]) -> list[dict]:
    totals: dict[str, list[Decimal]] = {}
    for key in answerable(attempt):
        item = attempt.paper["items"][key]
        row = totals.setdefault(item["topic"], [Decimal(0), Decimal(0)])
        score = answers[key].score if key in answers else None
        if score is not None:
            row[0] += score

        row[1] += Decimal(str(item["points"]))
    return [{"topic": t, "score": s, "max": m} for t, (s, m) in sorted(totals.items())]


def wrong_items(attempt: Attempt, answers: dict[str, AttemptAnswer]) -> set[str]:
    """Items scored below their points (wrong, or a multiple choice only partly right). Written
    answers still awaiting marking are not among them."""
    items = attempt.paper["items"]
    return {k for k in answerable(attempt) if k in answers and (score := answers[k].score) is not None
            and score < Decimal(str(items[k]["points"]))}



def shown_items(attempt: Attempt, wrong: set[str], wrong_only: bool, topic: str | None) -> set[str]:
    """The items the result page shows under its filters: only the wrong ones, only one topic."""
    items = attempt.paper["items"]
    return {k for k in answerable(attempt)
            if (not wrong_only or k in wrong) and (topic is None or items[k].get("topic") == topic)}
