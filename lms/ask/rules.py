"""The rules of 请教一下: ask, vote, route, reject, answer, turn an answer into a lesson.

Plain functions: they flush, never commit, and raise AskError with a sentence for the user.
Who may do what is decided by lms/auth/scope.py; these functions check the state of the question.
"""
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..errors import DomainError
from ..exams import topics as bank_topics
from ..extensions import db
from ..learning import courses
from ..learning.models import Course, Lesson
from ..learning.search import tokenize
from ..library.models import Expert, Trainer
from ..markdown import plain_text
from ..uploads.storage import LIMITS, MB, UploadError, save_upload, sniff
from ..util import utc_to_local
from .models import REJECT_REASONS, AskQuestion, AskVote

ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


class AskError(DomainError):
    pass


def topic_choices() -> list[str]:
    """The topics a question may carry: every exam topic (lms/exams/topics.py); "" is "other"."""
    return bank_topics.all_names()


def reindex(question: AskQuestion) -> None:
    """The search words of the question, its body and its answer (jieba, as the course search)."""
    words = tokenize(" ".join((question.title, question.topic or "", plain_text(question.body),
                               plain_text(question.answer))))
    question.search_tokens = f" {' '.join(words)} " if words else ""


def _attach(question: AskQuestion, files, user) -> None:
    files = [f for f in files or () if f and getattr(f, "filename", "")]
    most = current_app.config["ASK_MAX_ATTACHMENTS"]
    if len(files) > most:
        raise AskError(_("Attach at most %(n)d files.", n=most))
    for f in files:
        head = f.stream.read(64)
        f.stream.seek(0)
        found = sniff(head)
        if found is None or found[1] not in ACCEPTED_TYPES:
            raise AskError(_("%(name)s is not an accepted file: attach images (PNG/JPEG/GIF/WebP) or PDF documents.",
                             name=f.filename))
        try:
            question.attachments.append(save_upload(f, ("image", "document"), user))
        except UploadError as exc:
            raise AskError(str(exc)) from None


def ask(user, *, title: str | None, body: str | None, topic: str | None, anonymous: bool, files=()) -> AskQuestion:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise AskError(_("Give the question a title."))
    if not body:
        raise AskError(_("Describe the question: what happened, and what you want to know."))
    topic = (topic or "").strip()
    if topic:
        listed = bank_topics.any_subject(topic)
        if listed is None:
            raise AskError(_('"%(topic)s" is not one of the topics; choose one or “Other”.', topic=topic))
        topic = listed
    if user.org_unit_id is None:
        raise AskError(_("Your account belongs to no org unit, so no office could route the question."))
    question = AskQuestion(asker_id=user.id, org_unit_id=user.org_unit_id, title=title, body=body, topic=topic,
                           anonymous=bool(anonymous), status="open", votes=0, created_at=utcnow())
    db.session.add(question)
    _attach(question, files, user)
    reindex(question)
    db.session.flush()
    return question


def vote(user, question: AskQuestion) -> bool:
    """我也想问: add the user's vote once. True when added, False when the user had already voted."""
    if question.asker_id == user.id:
        raise AskError(_("This is your own question: others add “I want to know too”."))
    if question.status not in ("routed", "answered"):
        raise AskError(_("Votes are taken once the office has accepted the question."))
    exists = db.session.scalar(select(AskVote.id).where(AskVote.question_id == question.id,
                                                        AskVote.user_id == user.id))
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(AskVote(question_id=question.id, user_id=user.id))
    except IntegrityError:  # the same vote from a second tab a moment ago
        return False
    question.votes = db.session.scalar(select(func.count(AskVote.id)).where(AskVote.question_id == question.id)) or 0
    return True


# --- routing ----------------------------------------------------------------------------------

def answerer_choices() -> list[tuple[str, str]]:
    """The 专家智库 experts and 师资库 trainers with an active account, as (target, label) pairs."""
    from ..auth.models import User

    choices: list[tuple[str, str]] = []
    for expert in db.session.scalars(select(Expert).join(User, Expert.user_id == User.id)
                                     .where(Expert.active.is_(True), User.active.is_(True)).order_by(Expert.name)):
        choices.append((f"expert:{expert.id}", _("Expert: %(name)s", name=_label(expert))))
    for trainer in db.session.scalars(select(Trainer).join(User, Trainer.user_id == User.id)
                                      .where(Trainer.active.is_(True), User.active.is_(True)).order_by(Trainer.name)):
        choices.append((f"trainer:{trainer.id}", _("Trainer: %(name)s", name=_label(trainer))))
    return choices


def _label(profile) -> str:
    return " · ".join(x for x in (profile.name, profile.title, profile.affiliation) if x)


def _target(target: str) -> Expert | Trainer:
    kind, _sep, ident = (target or "").partition(":")
    profile: Expert | Trainer | None = None
    if kind in ("expert", "trainer") and ident.isdigit() and len(ident) < 10:
        profile = db.session.get(Expert, int(ident)) if kind == "expert" else db.session.get(Trainer, int(ident))
    if profile is None:
        raise AskError(_("Choose an expert or a trainer from the list."))
    if not profile.active or profile.user is None or not profile.user.active:
        raise AskError(_("%(name)s has no active account on the site, so could not answer: link an account to "
                         "the record in the resource library first.", name=profile.name))
    return profile


def route(question: AskQuestion, office, target: str) -> None:
    """Hand the question to an expert or trainer with an account (again, to another one, until answered)."""
    if question.status not in ("open", "routed"):
        raise AskError(_("Only a new question or one waiting for its answer is routed."))
    profile = _target(target)
    if profile.user_id == question.asker_id:
        raise AskError(_("The asker cannot answer their own question: choose someone else."))
    question.expert = profile if isinstance(profile, Expert) else None
    question.trainer = profile if isinstance(profile, Trainer) else None
    question.answerer_id = profile.user_id
    question.routed_by_id, question.routed_at = office.id, utcnow()
    question.status = "routed"


def reject(question: AskQuestion, office, reason: str | None, note: str | None) -> None:
    if question.status not in ("open", "routed"):
        raise AskError(_("Only a new question or one waiting for its answer is rejected."))
    if reason not in REJECT_REASONS:
        raise AskError(_("Choose the reason."))
    question.status, question.reject_reason, question.reject_note = "rejected", reason, (note or "").strip()[:500]
    question.routed_by_id = office.id


# --- answering --------------------------------------------------------------------------------

def answer(question: AskQuestion, user, text: str | None) -> bool:
    """Write (or, by its author, edit) the answer. True when this is the first answer."""
    text = (text or "").strip()
    if not text:
        raise AskError(_("Write the answer."))
    if question.status == "rejected":
        raise AskError(_("The question was not accepted, so it is not answered."))
    first = question.status != "answered"
    question.answer = text
    if first:
        question.status, question.answered_by_id, question.answered_at = "answered", user.id, utcnow()
    else:
        question.answer_edited_at = utcnow()
    reindex(question)
    db.session.flush()
    return first


# --- a lesson from a good answer --------------------------------------------------------------

def lesson_body(question: AskQuestion) -> str:
    """The lesson's Markdown: the question (cited, without the asker), then the answer and who gave it."""
    quoted = "\n".join("> " + line for line in question.body.splitlines())
    cite = _("From the questions to experts, #%(id)d “%(title)s”, answered by %(who)s on %(day)s.", id=question.id,
             title=question.title, who=question.answerer_label,
             day=utc_to_local(question.answered_at).date().isoformat() if question.answered_at else "")
    asked, answered = _("The worker's question"), _("The expert's answer")
    return f"*{cite}*\n\n## {asked}\n\n{quoted}\n\n## {answered}\n\n{question.answer}\n"


def make_lesson(question: AskQuestion, office, course: Course | None) -> Lesson:
    """A lesson citing the answered question, in `course` (a draft or returned course) or in a new draft
    course; it goes through the course review like any other lesson."""
    if question.status != "answered":
        raise AskError(_("Only an answered question is turned into a lesson."))
    if question.lesson_id is not None:
        raise AskError(_("This answer is already a lesson."))
    if course is None:
        course = courses.create_course(office, title=question.title[:200], category="service", level="beginner",
                                       summary=_("An expert's answer to a question from community workers."),
                                       credit_hours=Decimal("0.5"), topics=[question.topic] if question.topic else [])
    elif course.status not in ("draft", "returned"):
        raise AskError(_("Choose a draft or returned course: a published course is changed through a revision."))
    lesson = courses.add_lesson(course, title=question.title[:200], body=lesson_body(question), minutes=30,
                                topics=[question.topic] if question.topic else [])
    question.lesson_id = lesson.id
    return lesson


def attachment_limits() -> str:
    return _("Images up to %(img)d MB, PDF up to %(pdf)d MB; at most %(n)d files.", img=LIMITS["image"] // MB,
             pdf=LIMITS["document"] // MB, n=current_app.config["ASK_MAX_ATTACHMENTS"])
