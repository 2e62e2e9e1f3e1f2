"""The one place that decides what a user may see and change.

Rules (DESIGN.md §1, §4):
- an admin sees and manages everything;
- an office user sees its own org unit and everything below it, and manages the
  non-admin accounts in that subtree;
- anyone else sees only their own records.
Every list, detail page and export filters through these functions.

One answer for each kind of refusal:
- a record outside the viewer's scope (another district's worker, class, attempt, unit…) answers 404,
  exactly as a record that does not exist: an outsider cannot even learn that it exists
  (`get_in_scope_or_404`, `in_scope_or_404`);
- a page the viewer's ROLE may not open answers 403 (`roles_required`), and so does an action on a
  record the viewer does see but may not do this to (`refuse`); the 403 page says why, who the viewer
  is signed in as, and what to do.
"""
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, false, literal, select, true
from werkzeug.exceptions import Forbidden

from ..extensions import db
from ..orgs.models import OrgUnit
from ..util import get_or_none
from .models import User

T = TypeVar("T")


# --- the two answers: 404 out of scope, 403 with its reason -------------------------------------------

def in_scope_or_404(obj: T | None, may_see: Callable[[User, T], bool]) -> T:
    """`obj` if it exists and `may_see(current_user, obj)`; otherwise 404, the same answer for both."""
    if obj is None or not may_see(current_user, obj):
        abort(404)
    return obj


def get_in_scope_or_404(model: type[T], ident: Any, may_see: Callable[[User, T], bool], options=()) -> T:
    """Load a record by id for the current user: 404 when it does not exist or lies outside their scope."""
    return in_scope_or_404(get_or_none(model, ident, options), may_see)


class Refused(Forbidden):
    """403 with its reason: `roles` the page needs (from roles_required), or a `reason` sentence
    (a record the viewer sees but may not change this way), and optionally what to do instead."""

    def __init__(self, reason: str | None = None, roles: tuple[str, ...] = (), remedy: str | None = None):
        super().__init__(description=reason)
        self.reason, self.roles, self.remedy = reason, roles, remedy


def refuse(reason: str, remedy: str | None = None) -> NoReturn:
    """Answer 403 saying why (and what to do instead): for a record in the viewer's scope."""
    raise Refused(reason=reason, remedy=remedy)


def owns(user: User, record) -> bool:
    """A worker's own record (an attempt, an API token…): only its owner opens it."""
    return record.user_id == user.id


def scope_unit(viewer: User) -> OrgUnit | None:
    """The root of the viewer's org scope, or None when the viewer has no org scope."""
    if viewer.has_role("admin"):
        return db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)).first()
    if viewer.has_role("office"):
        return viewer.org_unit
    return None


def in_subtree(column, unit):
    """WHERE clause: the org-unit path `column` lies in `unit`'s subtree (the unit included).
    `unit` is an OrgUnit, a path string, or another path column (e.g. of an aliased OrgUnit)."""
    if isinstance(unit, OrgUnit):
        unit = unit.path
    if isinstance(unit, str):
        return column.startswith(unit, autoescape=True)
    return column.startswith(unit)


def above(unit, column=OrgUnit.path):
    """WHERE clause: the org-unit path `column` is `unit` itself or one of the units above it
    (the areas whose audience includes a member of `unit`). `unit` is an OrgUnit or a path."""
    path = unit.path if isinstance(unit, OrgUnit) else unit
    return literal(path).startswith(column)


def unit_filter(viewer: User, column=OrgUnit.path):
    """A WHERE clause on an org-unit path column limiting rows to the viewer's subtree."""
    if viewer.has_role("admin"):
        return true()
    if viewer.has_role("office"):
        return in_subtree(column, viewer.org_unit)
    return false()


def visible_units(viewer: User) -> Select:
    return select(OrgUnit).where(unit_filter(viewer)).order_by(OrgUnit.path)


def can_see_unit(viewer: User, unit: OrgUnit | None) -> bool:
    if unit is None:
        return False
    if viewer.has_role("admin"):
        return True
    return viewer.has_role("office") and viewer.org_unit.contains(unit)


def can_see_unit_record(viewer: User, record) -> bool:
    """A record held by an org unit (a mock exam day, a marking assignment): the viewer sees its unit."""
    return can_see_unit(viewer, record.org_unit)


def visible_users(viewer: User) -> Select:
    """Accounts the viewer may list: their subtree for offices, all for admins, self otherwise."""
    query = select(User).join(User.org_unit)
    if viewer.has_role("admin"):
        return query
    if viewer.has_role("office"):
        return query.where(unit_filter(viewer))
    return query.where(User.id == viewer.id)


def visible_ancestors(viewer: User, unit: OrgUnit) -> list[OrgUnit]:
    """The units above `unit` that the viewer may see, from its scope root down (the breadcrumb)."""
    return [u for u in unit.ancestors() if can_see_unit(viewer, u)]


def can_see_user(viewer: User, user: User | None) -> bool:
    if user is None:
        return False
    if viewer.id == user.id or viewer.has_role("admin"):
        return True
    return viewer.has_role("office") and viewer.org_unit.contains(user.org_unit)


def can_manage_user(viewer: User, user: User) -> bool:
    """Edit a profile, reset a password, (de)activate. Offices never manage admins."""
    if viewer.has_role("admin"):
        return True
    return (
        viewer.has_role("office")
        and viewer.id != user.id
        and not user.has_role("admin")
        and viewer.org_unit.contains(user.org_unit)
    )


def ensure_can_manage_user(viewer: User, user: User) -> None:
    """403 with its reason when the viewer sees the account (`can_see_user`) but may not manage it."""
    if can_manage_user(viewer, user):
        return
    if viewer.id == user.id:
        refuse(_("Your own account is not managed from the account list."),
               _("Change your password under “Change password”; for anything else ask another training office "
                 "or an administrator."))
    if user.has_role("admin"):
        refuse(_("Administrator accounts are managed by administrators only."),
               _("Ask an administrator to make the change."))
    abort(404)  # not in the viewer's area: not even its existence is confirmed


def grantable_roles(viewer: User) -> list[str]:
    if viewer.has_role("admin"):
        return ["learner", "trainer", "office", "admin"]
    if viewer.has_role("office"):
        return ["learner", "trainer", "office"]
    return []


def roles_required(*roles: str):
    """View decorator: logged in and holding one of `roles` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                raise Refused(roles=roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# --- courses -----------------------------------------------------------------------------
# Courses form one city-wide library: learners see published courses; trainers edit the
# courses they author; offices and admins review, publish and assign them.

def is_course_author(user: User, course) -> bool:
    return any(t.user_id == user.id for t in course.authors) or course.created_by_id == user.id


def can_view_course(user: User, course) -> bool:
    if course.status == "published":
        return True
    return user.has_role("admin", "office") or (user.has_role("trainer") and is_course_author(user, course))


def can_view_lesson(user: User, lesson) -> bool:
    return can_view_course(user, lesson.course)


def can_edit_course(user: User, course) -> bool:
    """Authors edit their drafts and returned courses; offices and admins edit any course."""
    if user.has_role("admin", "office"):
        return True
    return user.has_role("trainer") and is_course_author(user, course) and course.status in ("draft", "returned")


def can_revise_course(user: User, course) -> bool:
    """Start (or continue) a revision of a published course: its authors, and offices and admins."""
    if course.status != "published" or course.revision_of_id is not None:
        return False
    return user.has_role("admin", "office") or (user.has_role("trainer") and is_course_author(user, course))


def ensure_can_edit_course(user: User, course) -> None:
    """403 with its reason when the user sees the course (`can_view_course`) but may not edit it."""
    if can_edit_course(user, course):
        return
    if not user.has_role("trainer"):
        raise Refused(roles=("trainer", "office", "admin"))
    if not is_course_author(user, course):
        refuse(_("Only the course's authors, training offices and administrators change a course."),
               _("Ask your training office to add you to the course's authors."))
    if course.status == "review":
        refuse(_("The course is in review: it cannot be changed until the training office publishes it or "
                 "returns it to you."), _("Wait for the review; a returned course can be edited again."))
    refuse(_("The course is published: learners are studying it, so it is not changed in place."),
           _("Start a revision on the course's page: the published version stays live until the revision is "
             "approved."))


def ensure_can_revise_course(user: User, course) -> None:
    """403 with its reason when the user sees the course but may not start a revision of it."""
    if can_revise_course(user, course):
        return
    if not (user.has_role("admin", "office") or is_course_author(user, course)):
        refuse(_("Only the course's authors, training offices and administrators change a course."),
               _("Ask your training office to add you to the course's authors."))
    refuse(_("Only a published course is revised."),
           _("A draft or returned course is edited directly; a course in review waits for its review."))


def can_review_courses(user: User) -> bool:
    return user.has_role("admin", "office")


def authored_courses_filter(user: User):
    """WHERE clause on Course: the courses `user` authors (is_course_author, in SQL)."""
    from sqlalchemy import or_

    from ..learning.models import Course
    from ..library.models import Trainer

    return or_(Course.created_by_id == user.id, Course.authors.any(Trainer.user_id == user.id))


def can_see_progress(viewer: User, learner: User) -> bool:
    """A learner's study records: the learner, and the offices whose area holds them."""
    return can_see_user(viewer, learner)


def can_see_enrollment(viewer: User, enrollment) -> bool:
    """An enrolment (its progress, its certificate): as the learner's study records."""
    return can_see_progress(viewer, enrollment.user)


def can_grant_quiz_attempt(viewer: User, learner: User) -> bool:
    """One more end-of-course quiz sitting: the offices whose area holds the learner, and admins."""
    return viewer.id != learner.id and viewer.has_role("office", "admin") and can_see_user(viewer, learner)


def can_grant_quiz_attempt_on(viewer: User, enrollment) -> bool:
    return can_grant_quiz_attempt(viewer, enrollment.user)


# --- mock exam sittings and the question bank ----------------------------------------------------------

QUESTION_REVIEWERS = ("office", "admin")     # approve and retire questions


def can_review_questions(user: User) -> bool:
    """Approve and retire questions in the bank: offices and admins."""
    return user.has_role(*QUESTION_REVIEWERS)


def can_sit_mock_day(user: User, day) -> bool:
    """A mock exam day is sat by the workers of its unit's subtree."""
    return day.org_unit.contains(user.org_unit)


def can_see_attempt(viewer: User, attempt) -> bool:
    """A mock exam sitting and its result: the candidate, and the staff whose area holds them."""
    return attempt.user_id == viewer.id or (viewer.has_role("office", "admin", "trainer")
                                           and can_see_user(viewer, attempt.user))


# --- real exam results (certificate progress) ---------------------------------------------------------

def can_verify_results_of(viewer: User, worker: User) -> bool:
    """The real exam results a worker claims are verified by an office whose area holds the
    worker (or an admin), never by the worker themself."""
    return viewer.id != worker.id and viewer.has_role("office", "admin") and can_see_user(viewer, worker)


def verifiable_results(viewer: User) -> Select:
    """RealExamResult rows the viewer may verify: workers in its area, not its own."""
    from ..exams.models import RealExamResult

    if not viewer.has_role("office", "admin"):
        return select(RealExamResult).where(false())
    return (select(RealExamResult).join(User, RealExamResult.user_id == User.id)
            .join(OrgUnit, User.org_unit_id == OrgUnit.id)
            .where(unit_filter(viewer), RealExamResult.user_id != viewer.id))


# --- training classes ------------------------------------------------------------------------------

def can_manage_training(user: User, training) -> bool:
    """Offices manage the classes organised in their area; admins manage all."""
    if user.has_role("admin"):
        return True
    return user.has_role("office") and user.org_unit.contains(training.org_unit)


def can_see_open_training(user: User, training) -> bool:
    """A class's page for a worker: published (not a draft) and meant for them (its audience)."""
    from ..training.rules import in_audience

    return training.status != "draft" and in_audience(training, user)


def can_cancel_registration(user: User, training) -> bool:
    """Cancel a registration: a worker of the class's audience, or one already registered (who may have
    moved out of it since)."""
    from ..extensions import db
    from ..training.models import Registration
    from ..training.rules import in_audience

    return in_audience(training, user) or db.session.scalar(select(Registration.id).where(
        Registration.training_id == training.id, Registration.user_id == user.id)) is not None


def visible_trainings_filter(user: User):
    """WHERE clause for the classes an office may list (by organiser unit path)."""
    from ..training.models import Training

    if user.has_role("admin"):
        return true()
    return Training.org_unit_id.in_(select(OrgUnit.id).where(unit_filter(user)))


# --- the 一教五库 pools --------------------------------------------------------------------------------

def can_manage_library(user: User) -> bool:
    """Offices and admins manage the pools and see contact phones; everyone else browses."""
    return user.has_role("office", "admin")


def can_edit_library_record(user: User, record) -> bool:
    """Edit (or delete) a pool record: everyone reads the pools city-wide, but an office changes
    only the records of its own subtree; records without an org unit are the city office's."""
    return can_place_library_record(user, getattr(record, "org_unit", None))


def is_city_wide(user: User) -> bool:
    """Admins and the offices of a root unit (the city) act over the whole tree."""
    if user.has_role("admin"):
        return True
    return user.has_role("office") and user.org_unit is not None and user.org_unit.parent_id is None


def can_place_library_record(user: User, unit: OrgUnit | None) -> bool:
    """May the user create or hold a pool record at `unit`? Offices act inside their own subtree;
    a record with no unit (the city's shared records) is for the city office and admins only."""
    if not can_manage_library(user):
        return False
    if unit is None:
        return is_city_wide(user)
    return can_see_unit(user, unit)


def can_create_in_pool(user: User, has_unit: bool) -> bool:
    """Offer "new" and "import" for a pool: pools whose records carry an org unit to every office
    (each row placed inside its area), pools without one to the city office and admins only."""
    return can_manage_library(user) and (has_unit or is_city_wide(user))


def ensure_can_create_in_pool(user: User, has_unit: bool) -> None:
    """403 with its reason for an office that may not add records to a pool (roles_required did the rest)."""
    if not can_create_in_pool(user, has_unit):
        refuse(_("The records of this pool are shared by the whole city: only the city training office and "
                 "administrators add them."), _("Ask the city training office to add the record."))


# --- marking of written answers -------------------------------------------------------------------
# Offices mark the answers of the workers in their subtree (and see their names: they run the
# class); trainers mark blind, and only the answers of exams an office assigned to them.

def can_assign_marking_to(viewer: User, trainer: User | None) -> bool:
    """An office hands marking to the trainer accounts that serve its area: those in its subtree and
    those of the units above it (city trainers teach everywhere), never a sibling district's; an
    admin to any trainer. The trainer then sees only that area's answers, without names."""
    if trainer is None or not trainer.active or not trainer.has_role("trainer"):
        return False
    if viewer.has_role("admin"):
        return True
    return viewer.has_role("office") and (viewer.org_unit.contains(trainer.org_unit)
                                          or trainer.org_unit.contains(viewer.org_unit))


def assignable_markers(viewer: User) -> Select:
    """The trainer accounts `can_assign_marking_to` allows, for the assignment form."""
    from .models import UserRole

    query = (select(User).join(User.org_unit)
             .where(User.active.is_(True), User.role_rows.any(UserRole.role == "trainer")))
    if viewer.has_role("admin"):
        return query
    if viewer.has_role("office"):
        from sqlalchemy import or_

        return query.where(or_(unit_filter(viewer), above(viewer.org_unit)))
    return query.where(false())


def visible_marking_assignments_filter(viewer: User):
    """WHERE clause on MarkingAssignment: the assignments an office may list and withdraw."""
    from ..exams.models import MarkingAssignment

    if viewer.has_role("admin"):
        return true()
    if viewer.has_role("office"):
        return MarkingAssignment.org_unit_id.in_(select(OrgUnit.id).where(unit_filter(viewer)))
    return false()


def markable_answers_filter(viewer: User):
    """WHERE clause on Attempt: the attempts whose written answers the viewer may open and mark."""
    from sqlalchemy import and_, exists, or_
    from sqlalchemy.orm import aliased

    from ..exams.models import Attempt, MarkingAssignment

    if viewer.has_role("admin"):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if viewer.has_role("office"):
        clauses.append(Attempt.user_id.in_(

            select(User.id).join(OrgUnit, User.org_unit_id == OrgUnit.id).where(unit_filter(viewer))))
    if viewer.has_role("trainer"):
        candidate, candidate_unit, assigned_unit = aliased(User), aliased(OrgUnit), aliased(OrgUnit)
        clauses.append(exists(
            select(MarkingAssignment.id)
            .join(assigned_unit, MarkingAssignment.org_unit_id == assigned_unit.id)
            .join(candidate, candidate.id == Attempt.user_id)
            .join(candidate_unit, candidate.org_unit_id == candidate_unit.id)
            .where(MarkingAssignment.trainer_id == viewer.id, MarkingAssignment.exam_id == Attempt.exam_id,
                   or_(MarkingAssignment.mock_day_id.is_(None), MarkingAssignment.mock_day_id == Attempt.mock_day_id),
                   in_subtree(candidate_unit.path, assigned_unit.path))
            .correlate(Attempt)))
    if not clauses:
        return false()
    return or_(*clauses) if len(clauses) > 1 else and_(clauses[0])


def can_mark_attempt(viewer: User, attempt) -> bool:
    from ..exams.models import Attempt

    if viewer.has_role("admin"):
        return True
    return bool(db.session.scalar(select(Attempt.id).where(Attempt.id == attempt.id, markable_answers_filter(viewer))))


def marks_blind(viewer: User, attempt) -> bool:
    """Whether the marking pages hide who wrote the answer: from everyone but the offices (and
    admins) in whose area the candidate works."""
    if viewer.has_role("admin"):
        return False
    return not (viewer.has_role("office") and can_see_user(viewer, attempt.user))


# --- background jobs -----------------------------------------------------------------------
# A job's page and its file (an export) are its requester's alone: the file was made with the
# requester's scope, so no one else may fetch it, whatever their role. Admins see the list of jobs
# (status and errors, never the files).

def can_see_job(viewer: User, job) -> bool:
    return job.user_id is not None and job.user_id == viewer.id


# --- messages (lms/messages) -----------------------------------------------------------------
# A message, a user's message settings and their calendar feed are that user's alone, whatever their role.

def can_see_message(viewer: User, message) -> bool:
    return message.user_id == viewer.id


# --- certificate allowances and rewards (lms/allowances) ---------------------------------------------------
# An office sees the policy versions of its subtree and of the units above it (those it inherits), and the
# roster of any unit of its subtree; it edits only its OWN unit's versions: a district's override is the
# district's decision, so the city office does not edit it (it sees it). Admins edit any unit's.

def can_see_allowance_policy(viewer: User, policy) -> bool:
    if viewer.has_role("admin"):
        return True
    return viewer.has_role("office") and (viewer.org_unit.contains(policy.org_unit)
                                          or policy.org_unit.contains(viewer.org_unit))


def can_edit_allowance_policy(viewer: User, unit: OrgUnit) -> bool:
    return viewer.has_role("admin") or (viewer.has_role("office") and viewer.org_unit_id == unit.id)


def ensure_can_edit_allowance_policy(viewer: User, unit: OrgUnit) -> None:
    """403 with its reason for an office that sees the unit's policy but may not change it."""
    if not can_edit_allowance_policy(viewer, unit):
        refuse(_("A unit's allowance policy is set by that unit's own training office (or an administrator)."),
               _("Ask %(unit)s's training office to change it, or add a version for your own unit: the units "
                 "below inherit it.", unit=unit.name))


# --- 请教一下 (lms/ask) -----------------------------------------------------------------------
# A question is the asker's, the office's whose area holds the asker's unit (it routes, rejects and
# counts it), and its routed answerer's. Once routed it is public to every logged-in user (others add
# 我也想问; answered ones form the library). An anonymous asker is named only to themself and the offices.

def can_manage_question(viewer: User, question) -> bool:
    """Route, reject, answer, turn into a lesson, count: the offices whose area holds the asker's unit."""
    return viewer.has_role("office", "admin") and can_see_unit(viewer, question.org_unit)


def can_see_question(viewer: User, question) -> bool:
    from ..ask.models import PUBLIC

    return (question.status in PUBLIC or question.asker_id == viewer.id or question.answerer_id == viewer.id
            or can_manage_question(viewer, question))


def can_answer_question(viewer: User, question) -> bool:
    """Write the first answer: the routed answerer, or an office in scope; then only the answer's author edits it."""
    if question.status == "answered":
        return question.answered_by_id == viewer.id
    if question.status == "routed" and question.answerer_id == viewer.id:
        return True
    return question.status in ("open", "routed") and can_manage_question(viewer, question)


def shows_asker(viewer: User, question) -> bool:
    """The asker's name: to everyone unless they asked anonymously; then to themself and the offices in scope."""
    return not question.anonymous or question.asker_id == viewer.id or can_manage_question(viewer, question)


def managed_questions_filter(viewer: User):
    """WHERE clause on AskQuestion: the questions the viewer's office routes and counts."""
    from ..ask.models import AskQuestion

    if viewer.has_role("admin"):
        return true()
    if viewer.has_role("office"):
        return AskQuestion.org_unit_id.in_(select(OrgUnit.id).where(unit_filter(viewer)))
    return false()


# --- class evaluations and needs surveys (lms/surveys) --------------------------------------------------
# An evaluation's content is anonymous to everyone but its author: the trainers of the class and the
# offices that manage it read ratings and comments without names; the offices also see who has (not yet)
# filled one in. A needs survey is an office's: it is listed, read and exported by the offices whose area
# holds its unit, and answered by the workers of that unit's subtree (anyone else: 404).

def teaches(user: User, training) -> bool:
    """The user's 师资库 record is one of the class's trainers."""
    return any(t.user_id == user.id for t in training.trainers)


def can_evaluate(user: User, training) -> bool:
    """The evaluation page of a class: a published class the worker attended (present or late once)."""
    from ..surveys.evaluations import attended

    return training.status != "draft" and attended(training, user)


def can_see_evaluations(user: User, training) -> bool:
    """A class's evaluation results (without names): the offices that manage it and its trainers."""
    return can_manage_training(user, training) or (user.has_role("trainer") and teaches(user, training))


def sees_evaluation_completion(user: User, training) -> bool:
    """Who has and hasn't filled in an evaluation: the offices that manage the class, never its trainers."""
    return can_manage_training(user, training)


def visible_surveys_filter(user: User):
    """WHERE clause on Survey: the needs surveys an office may list (their unit in its area)."""
    from ..surveys.models import Survey

    if user.has_role("admin"):
        return true()
    return Survey.org_unit_id.in_(select(OrgUnit.id).where(unit_filter(user)))


def can_see_survey(user: User, survey) -> bool:
    """A needs survey's results and export: the offices whose area holds its unit, and admins."""
    return user.has_role("office", "admin") and can_see_unit(user, survey.org_unit)


def can_answer_survey(user: User, survey) -> bool:
    """A needs survey's form: the workers of its unit's subtree."""
    from ..surveys.needs import in_audience

    return in_audience(survey, user)
