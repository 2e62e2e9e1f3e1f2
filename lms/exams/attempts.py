"""Taking an exam: start, save (idempotent), submit (once), grade, expire. Plain functions that
flush, never commit. The server is the clock: every deadline check uses `now` from the server."""
import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..extensions import db
from . import assembly, grading
from .models import Attempt, AttemptAnswer, Exam, Mistake, MockExamDay

MAX_TEXT = 20_000
OBJECTIVE = ("single", "multiple", "judge")


class AttemptError(ValueError):
    pass


class DeadlinePassed(AttemptError):
    pass


# --- starting ------------------------------------------------------------------------------------

def open_attempt(user, exam: Exam, mock_day: MockExamDay | None = None) -> Attempt | None:
    stmt = select(Attempt).where(Attempt.user_id == user.id, Attempt.exam_id == exam.id, Attempt.status == "in_progress")
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
        raise AttemptError(_("The question bank cannot make this paper yet: %(why)s", why=str(exc)))


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
    attempt = Attempt(user_id=user.id, exam_id=exam.id, mock_day_id=mock_day.id if mock_day else None, seed=seed,
                      paper=paper, answer_keys=answer_keys(paper), started_at=now, deadline_at=deadline, status="in_progress",
                      max_score=sum((Decimal(str(paper["items"][k]["points"])) for s in paper["sections"]
                                     for k in s["items"]), Decimal(0)))
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
    return [k for k, item in attempt.paper["items"].items() if item["type"] != "case"]


def answer_keys(paper: dict) -> dict[str, str]:
    """Item → "type:option letters" for every item that takes a response (see Attempt.answer_keys)."""
    return {k: f"{item['type']}:{''.join(o['key'] for o in item.get('options') or [])}"
            for k, item in paper["items"].items() if item["type"] != "case"}


def saved_answers(attempt: Attempt) -> dict[str, AttemptAnswer]:
    return {a.item: a for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}


# --- saving ------------------------------------------------------------------------------------------

def clean_response(answer_key: str, response):
    """A response in its stored shape, or AttemptError when it cannot be one for this item
    (`answer_key` as in answer_keys(): "type:option letters")."""
    if response is None or response == "":
        return None
    qtype, _sep, letters_allowed = answer_key.partition(":")
    if qtype in ("single", "multiple"):
        if not isinstance(response, str):
            raise AttemptError(_("An answer to a choice question is a string of option letters."))
        keys = set(letters_allowed)
        letters = sorted({c for c in response.upper() if not c.isspace()})
        if not set(letters) <= keys or (qtype == "single" and len(letters) > 1):
            raise AttemptError(_("Those are not options of this question."))
        return "".join(letters) or None
    if qtype == "judge":
        if not isinstance(response, bool):
            raise AttemptError(_("A true-or-false answer is true or false."))
        return response
    if not isinstance(response, str):
        raise AttemptError(_("A written answer is text."))
    if len(response) > MAX_TEXT:
        raise AttemptError(_("A written answer has at most %(n)d characters.", n=MAX_TEXT))
    return response


def save(attempt: Attempt, item_key: str, response, seq: int, now: datetime | None = None) -> int:
    """Store a response unless a newer one (higher seq) is already stored. Returns the stored seq.

    Idempotent: the same save twice, or an old save arriving late, changes nothing.
    Raises DeadlinePassed after the deadline or once the attempt is submitted."""
    now = now or utcnow()
    if attempt.status != "in_progress" or now > attempt.deadline_at:
        raise DeadlinePassed(_("Time is up: answers can no longer be changed."))
    keys = attempt.answer_keys if attempt.answer_keys is not None else answer_keys(attempt.paper)
    answer_key = keys.get(str(item_key))
    if answer_key is None:
        raise AttemptError(_("This paper has no question %(no)s.", no=item_key))
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**62:
        raise AttemptError(_("A save needs a positive sequence number."))
    value = clean_response(answer_key, response)
    # Take the attempt's row lock and look at its status again: finish() changes the status with an
    # UPDATE of that row, so a save either lands before the attempt is graded (and is graded with it)
    # or is refused. Without it, on PostgreSQL a save that read "in_progress" just before a submit
    # could store its answer after grading. (SQLite: BEGIN IMMEDIATE already serialises the two.)
    status = db.session.scalar(select(Attempt.status).where(Attempt.id == attempt.id).with_for_update())
    if status != "in_progress":
        raise DeadlinePassed(_("Time is up: answers can no longer be changed."))
    values = {"response": value, "seq": seq, "saved_at": now}
    for _try in range(3):
        result = db.session.execute(update(AttemptAnswer).where(
            AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.item == str(item_key), AttemptAnswer.seq < seq)
            .values(**values).execution_options(synchronize_session=False))
        if result.rowcount:
            return seq
        stored = db.session.scalar(select(AttemptAnswer.seq).where(AttemptAnswer.attempt_id == attempt.id,
                                                                   AttemptAnswer.item == str(item_key)))
        if stored is not None and stored >= seq:
            return stored  # a newer (or the same) save is already there
        if stored is not None:
            # An older save of this item was inserted by a request that committed after our UPDATE
            # took its snapshot (PostgreSQL, READ COMMITTED): the UPDATE found no row, the SELECT
            # now sees it. Update it on the next try instead of answering with the older seq.
            continue
        try:
            with db.session.begin_nested():
                db.session.add(AttemptAnswer(attempt_id=attempt.id, item=str(item_key), **values))
            return seq
        except IntegrityError:
            continue  # another request inserted it first: compare seqs again
    raise AttemptError(_("The answer could not be saved; please retry."))


# --- submitting and grading ------------------------------------------------------------------------------

def finish(attempt: Attempt, now: datetime | None = None) -> bool:
    """Submit (or close at the deadline) and grade, exactly once. True if this call graded it."""
    now = now or utcnow()
    result = db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == "in_progress")
                                .values(status="submitted", submitted_at=min(now, attempt.deadline_at))
                                .execution_options(synchronize_session=False))
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
    wrong: list[int] = []
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
        answer.score = score
        if item["type"] in OBJECTIVE and score < Decimal(str(item["points"])):
            wrong.append(item["qid"])
    _record_mistakes(attempt.user_id, wrong, now)
    db.session.flush()
    recompute(attempt, now)


def recompute(attempt: Attempt, now: datetime | None = None) -> None:
    scores = db.session.execute(select(AttemptAnswer.score).where(AttemptAnswer.attempt_id == attempt.id)).scalars().all()
    attempt.pending_marks = sum(1 for s in scores if s is None)
    attempt.score = sum((s for s in scores if s is not None), Decimal(0))
    pass_score = Decimal(str(attempt.paper.get("pass_score") or attempt.exam.pass_score))
    attempt.passed = None if attempt.pending_marks else attempt.score >= pass_score
    if attempt.pending_marks == 0:
        attempt.status = "graded"
        attempt.graded_at = now or utcnow()
    db.session.flush()


def _record_mistakes(user_id: int, question_ids: list[int], now: datetime) -> None:
    """Put wrongly answered questions into the learner's mistakes book (one query for all)."""
    if not question_ids:
        return
    existing = {m.question_id: m for m in db.session.scalars(select(Mistake).where(
        Mistake.user_id == user_id, Mistake.question_id.in_(set(question_ids))))}
    for qid in dict.fromkeys(question_ids):
        mistake = existing.get(qid)
        if mistake is None:
            db.session.add(Mistake(user_id=user_id, question_id=qid, wrong_count=1, right_streak=0, last_wrong_at=now))
        else:
            mistake.wrong_count += 1
            mistake.right_streak, mistake.cleared_at, mistake.last_wrong_at = 0, None, now


def mark(attempt: Attempt, item_key: str, score: Decimal, marker, feedback: str = "", now: datetime | None = None) -> None:
    """A trainer marks a free-text answer; the attempt's total follows."""
    item = attempt.paper["items"].get(item_key)
    if item is None or item["type"] != "essay":
        raise AttemptError(_("Only written answers are marked by hand."))
    if attempt.status == "in_progress":
        raise AttemptError(_("The attempt is still in progress."))
    if not Decimal(0) <= score <= Decimal(str(item["points"])):
        raise AttemptError(_("The score must be between 0 and %(max)s.", max=item["points"]))
    answer = db.session.scalar(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id,
                                                           AttemptAnswer.item == item_key))
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
        keys = []
        for k in section["items"]:
            item = attempt.paper["items"][k]
            keys += item.get("parts", [k]) if item["type"] == "case" else [k]
        got = sum((answers[k].score or Decimal(0) for k in keys if k in answers), Decimal(0))
        full = sum((Decimal(str(attempt.paper["items"][k]["points"])) for k in keys), Decimal(0))
        out.append({"type": section["type"], "score": got, "max": full})
    return out


def topic_scores(attempt: Attempt, answers: dict[str, AttemptAnswer]) -> list[dict]:
    totals: dict[str, list[Decimal]] = {}
    for key in answerable(attempt):
        item = attempt.paper["items"][key]
        row = totals.setdefault(item["topic"], [Decimal(0), Decimal(0)])
        if key in answers and answers[key].score is not None:
            row[0] += answers[key].score
        row[1] += Decimal(str(item["points"]))
    return [{"topic": t, "score": s, "max": m} for t, (s, m) in sorted(totals.items())]
