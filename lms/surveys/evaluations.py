"""Class evaluations: who may fill one in and when, saving it, and the figures built from the rows.

- A class ends when its last session ends (the server's clock). From then until EVALUATION_DAYS later,
  each worker who attended it (present or late at one session at least: a registration alone is not
  enough, and a worker whose registration was later cancelled still attended) may fill in one evaluation
  and change it; before the end and after the deadline it is refused.
- Every figure (a class's averages, a trainer's running rating) is computed from the rows when shown,
  so an edited evaluation changes it at once and it always equals a recomputation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..library.models import Trainer
from ..training.models import Attendance, Training, TrainingSession
from ..training.rules import CREDITED
from .models import Evaluation, EvaluationCall, TrainerRating

MAX_COMMENT = 2000


class EvaluationError(DomainError):
    pass


class AlreadyEvaluated(EvaluationError):
    pass


def days() -> int:
    return int(current_app.config["EVALUATION_DAYS"])


def min_shown() -> int:
    return int(current_app.config["EVALUATION_MIN_SHOWN"])


def class_end(training: Training) -> datetime | None:
    """The end of the class's last session; None for a class without sessions."""
    return max((s.ends_at for s in training.sessions), default=None)


def deadline(training: Training) -> datetime | None:
    end = class_end(training)
    return None if end is None else end + timedelta(days=days())


def attendees(training_id: int) -> Select:
    """The ids of the workers who attended the class (present or late at one session at least)."""
    return (select(Attendance.user_id).join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .where(TrainingSession.training_id == training_id, Attendance.status.in_(CREDITED)).distinct())


def attended(training: Training, user: User) -> bool:
    return bool(db.session.scalar(select(exists(attendees(training.id).where(Attendance.user_id == user.id)))))


def mine(training: Training, user: User) -> Evaluation | None:
    return db.session.scalar(select(Evaluation).where(Evaluation.training_id == training.id,
                                                      Evaluation.user_id == user.id))


def state(training: Training, now: datetime | None = None) -> str:
    """'none' (no sessions or cancelled), 'not_ended', 'open' or 'closed'."""
    now = now or utcnow()
    end = class_end(training)
    if end is None or training.status == "cancelled":
        return "none"
    if now < end:
        return "not_ended"
    return "open" if now < end + timedelta(days=days()) else "closed"


def check_window(training: Training, now: datetime | None = None) -> None:
    now = now or utcnow()
    current = state(training, now)
    if current == "none":
        raise EvaluationError(_("This class has no sessions to evaluate."))
    if current == "not_ended":
        raise EvaluationError(_("The evaluation opens when the class's last session has ended."))
    if current == "closed":
        raise EvaluationError(_("The evaluation of this class closed on %(day)s.",
                                day=_local_day(deadline(training))))


def _local_day(value: datetime | None) -> str:
    from ..util import utc_to_local

    return utc_to_local(value).strftime("%Y-%m-%d") if value else ""


@dataclass
class Answers:
    """What the worker gave: the class overall, a comment, and each trainer's rating and comment."""
    overall: int | None
    comment: str = ""
    ratings: dict[int, int | None] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)


def problems(training: Training, answers: Answers) -> dict[str, str]:
    """Field name → what is wrong with it ('overall', 'comment', 'trainer-<id>', 'trainer-comment-<id>')."""
    out: dict[str, str] = {}
    if answers.overall not in range(1, 6):
        out["overall"] = _("Choose from 1 to 5 stars for the class.")
    if len(answers.comment) > MAX_COMMENT:
        out["comment"] = _("A comment has at most %(n)d characters.", n=MAX_COMMENT)
    for trainer in training.trainers:
        if answers.ratings.get(trainer.id) not in range(1, 6):
            out[f"trainer-{trainer.id}"] = _("Choose from 1 to 5 stars for %(name)s.", name=trainer.name)
        if len(answers.comments.get(trainer.id, "")) > MAX_COMMENT:
            out[f"trainer-comment-{trainer.id}"] = _("A comment has at most %(n)d characters.", n=MAX_COMMENT)
    return out


def _check(training: Training, user: User, answers: Answers, now: datetime | None) -> None:
    if not attended(training, user):
        raise EvaluationError(_("Only workers who attended the class evaluate it."))
    check_window(training, now)
    found = problems(training, answers)
    if found:
        raise EvaluationError(next(iter(found.values())))


def _fill(evaluation: Evaluation, training: Training, answers: Answers) -> None:
    evaluation.overall = int(answers.overall or 0)
    evaluation.comment = answers.comment.strip()
    by_trainer = {r.trainer_id: r for r in evaluation.ratings}
    for trainer in training.trainers:
        rating = by_trainer.get(trainer.id)
        if rating is None:
            rating = TrainerRating(trainer_id=trainer.id)
            evaluation.ratings.append(rating)
        rating.rating = int(answers.ratings[trainer.id] or 0)
        rating.comment = answers.comments.get(trainer.id, "").strip()


def submit(training: Training, user: User, answers: Answers, now: datetime | None = None) -> Evaluation:
    """The worker's one evaluation of the class; AlreadyEvaluated when they have one (also when a second
    request made it a moment ago: the unique constraint)."""
    _check(training, user, answers, now)
    if mine(training, user) is not None:
        raise AlreadyEvaluated(_("You have already evaluated this class: change your evaluation instead."))
    evaluation = Evaluation(training_id=training.id, user_id=user.id)
    _fill(evaluation, training, answers)
    try:
        with db.session.begin_nested():
            db.session.add(evaluation)
            db.session.flush()
    except IntegrityError:
        raise AlreadyEvaluated(
            _("You have already evaluated this class: change your evaluation instead.")) from None
    return evaluation


def change(evaluation: Evaluation, training: Training, user: User, answers: Answers,
           now: datetime | None = None) -> Evaluation:
    """Change the worker's evaluation, until the deadline."""
    _check(training, user, answers, now)
    _fill(evaluation, training, answers)
    db.session.flush()
    return evaluation


# --- figures ---------------------------------------------------------------------------------------

@dataclass
class Figure:
    count: int
    average: float | None  # None: no ratings

    @classmethod
    def of(cls, count: int | None, total: int | None) -> Figure:
        count = int(count or 0)
        return cls(count, round(int(total or 0) / count, 2) if count else None)


@dataclass
class TrainerResult:
    trainer: Trainer
    figure: Figure
    comments: list[str]


@dataclass
class ClassResults:
    overall: Figure
    trainers: list[TrainerResult]
    comments: list[str]
    stars: dict[int, int]  # the overall ratings' distribution

    @property
    def count(self) -> int:
        return self.overall.count


def _sorted_texts(texts) -> list[str]:
    """Comments in the order of their text, never of their writing: the order tells no one who wrote which."""
    return sorted(t for t in texts if t)


def class_results(training: Training) -> ClassResults:
    rows = db.session.execute(select(Evaluation.overall, Evaluation.comment)
                              .where(Evaluation.training_id == training.id)).all()
    stars = {n: 0 for n in range(5, 0, -1)}
    for overall, _comment in rows:
        stars[overall] += 1
    ratings = db.session.execute(
        select(TrainerRating.trainer_id, TrainerRating.rating, TrainerRating.comment)
        .join(Evaluation, Evaluation.id == TrainerRating.evaluation_id)
        .where(Evaluation.training_id == training.id)).all()
    trainers = []
    for trainer in training.trainers:
        mine_ = [r for r in ratings if r.trainer_id == trainer.id]
        trainers.append(TrainerResult(trainer, Figure.of(len(mine_), sum(r.rating for r in mine_)),
                                      _sorted_texts(r.comment for r in mine_)))
    return ClassResults(Figure.of(len(rows), sum(r.overall for r in rows)), trainers,
                        _sorted_texts(r.comment for r in rows), stars)


def trainer_rating(trainer_id: int) -> Figure:
    """A 师资库 trainer's running rating: every rating given to them, over all classes."""
    count, total = db.session.execute(select(func.count(TrainerRating.id), func.sum(TrainerRating.rating))
                                      .where(TrainerRating.trainer_id == trainer_id)).one()
    return Figure.of(count, total)


@dataclass
class Completion:
    user: User
    done: bool


def completion(training: Training) -> list[Completion]:
    """Who of the attendees has evaluated the class (for the office: never what they wrote)."""
    ids = attendees(training.id).subquery()
    done = select(Evaluation.user_id).where(Evaluation.training_id == training.id)
    users = db.session.scalars(select(User).where(User.id.in_(select(ids.c.user_id)))
                               .options(joinedload(User.org_unit)).order_by(User.name, User.id)).all()
    filled = set(db.session.scalars(done))
    return [Completion(u, u.id in filled) for u in users]


def counts(training_ids: list[int]) -> dict[int, int]:
    """training id → number of evaluations."""
    if not training_ids:
        return {}
    return dict(db.session.execute(select(Evaluation.training_id, func.count()).where(
        Evaluation.training_id.in_(training_ids)).group_by(Evaluation.training_id)).tuples().all())


def _ends() -> Select:
    return (select(TrainingSession.training_id, func.max(TrainingSession.ends_at).label("ends_at"))
            .group_by(TrainingSession.training_id))


def due_for(user: User, now: datetime | None = None) -> list[tuple[Training, datetime]]:
    """待评价: the classes the worker attended that ended within the window and that they have not evaluated,
    each with its deadline, the soonest first."""
    now = now or utcnow()
    ends = _ends().subquery()
    window = timedelta(days=days())
    stmt = (select(Training, ends.c.ends_at).join(ends, ends.c.training_id == Training.id)
            .where(ends.c.ends_at <= now, ends.c.ends_at > now - window, Training.status != "cancelled",
                   Training.id.in_(select(TrainingSession.training_id).join(
                       Attendance, Attendance.session_id == TrainingSession.id).where(
                       Attendance.user_id == user.id, Attendance.status.in_(CREDITED))),
                   ~exists().where(and_(Evaluation.training_id == Training.id, Evaluation.user_id == user.id)))
            .order_by(ends.c.ends_at, Training.id))
    return [(t, end + window) for t, end in db.session.execute(stmt).tuples()]


def classes_to_call(now: datetime | None = None) -> list[Training]:
    """Classes that ended within the window and whose attendees have not been told yet."""
    now = now or utcnow()
    ends = _ends().subquery()
    return list(db.session.scalars(
        select(Training).join(ends, ends.c.training_id == Training.id)
        .where(ends.c.ends_at <= now, ends.c.ends_at > now - timedelta(days=days()),
               Training.status != "cancelled",
               ~exists().where(EvaluationCall.training_id == Training.id))
        .order_by(Training.id)))


def call_for_evaluations(now: datetime | None = None) -> int:
    """Tell the attendees of each class that just ended that their evaluation is due: once per class (the
    EvaluationCall marker, written in the same transaction as the message's sending; a second consumer
    doing the same at the same moment fails on the marker's key and sends nothing). How many classes."""
    called = 0
    for training in classes_to_call(now):
        recipients = list(db.session.scalars(attendees(training.id)))
        try:
            with db.session.begin_nested():
                db.session.add(EvaluationCall(training_id=training.id, sent_at=now or utcnow(),
                                              recipients=len(recipients)))
                db.session.flush()
        except IntegrityError:
            continue
        if recipients:
            _notify(training, recipients)
        called += 1
    return called


def _notify(training: Training, user_ids: list[int]) -> None:
    """The message centre's evaluation_due, once this transaction commits; its link is the evaluation form
    (a path: the periodic work has no request to build a full URL from)."""
    from ..messages import send

    url = current_app.url_map.bind("").build("surveys.evaluate", {"training_id": training.id})
    send("evaluation_due", user_ids, {"training_id": training.id, "title": training.title}, url=url)
