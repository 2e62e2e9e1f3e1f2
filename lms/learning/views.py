"""Course library: catalog, studying, authoring, review, assignment, certificates."""
import math
from decimal import Decimal
from functools import cache
from typing import TypeVar, cast

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import defer, joinedload, selectinload

from .. import inputs
from ..auth import choices
from ..auth.forms import ConfirmForm
from ..auth.models import User
from ..auth.scope import (
    authored_courses_filter,
    can_edit_course,
    can_grant_quiz_attempt,
    can_grant_quiz_attempt_on,
    can_review_courses,
    can_revise_course,
    can_see_enrollment,
    can_see_progress,
    can_see_unit,
    can_view_course,
    can_view_lesson,
    ensure_can_edit_course,
    ensure_can_revise_course,
    get_in_scope_or_404,
    in_scope_or_404,
    in_subtree,
    is_course_author,
    roles_required,
    visible_units,
    visible_users,
)
from ..database import begin_writing, utcnow, writes_late
from ..exams import attempts as exam_attempts
from ..exams import topics as bank_topics
from ..exams.models import ExamSubject
from ..extensions import db
from ..library.models import Trainer
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_choices
from ..transaction import discard
from ..uploads.storage import UploadError, save_upload
from ..util import Page, get_or_404, load_or_none, page_arg, utc_to_local
from . import certificates, progress, quiz
from . import courses as domain
from .forms import AssignForm, CourseForm, LessonForm, QuizForm, RatingForm, ReviewForm, VerifyForm
from .models import CATEGORIES, LEVELS, SERIES, STATUSES, Course, CourseRating, Enrollment, Lesson, course_author
from .search import ranked_matches

bp = Blueprint("learning", __name__, url_prefix="/learn")


@bp.app_context_processor
def _labels():
    return {"SERIES": SERIES, "CATEGORIES": CATEGORIES, "COURSE_LEVELS": LEVELS, "COURSE_STATUSES": STATUSES}


def _load_course(course_id: int, options=()) -> Course:
    return get_in_scope_or_404(Course, course_id, can_view_course, options)  # unpublished: none of a learner's business


# A course's search tokens (about 10 KB a course) are never shown: pages that list or show courses
# leave them unread.
UNREAD = (defer(Course.search_tokens), defer(Course.title_tokens))
# What the course page and the lesson page show of the course, loaded with it in one statement.
COURSE_PAGE = (joinedload(Course.lessons), joinedload(Course.authors), joinedload(Course.quiz), *UNREAD)
LESSON_PAGE = (joinedload(Lesson.course).options(joinedload(Course.lessons), *UNREAD), joinedload(Lesson.attachments))


@cache
def _page_statements() -> dict[str, Select]:
    """The course page's and the lesson page's statements, built once per process (util.load_or_none)."""
    record_id: BindParameter[int] = bindparam("id")
    return {"course": select(Course).options(*COURSE_PAGE).where(Course.id == record_id),
            "lesson": select(Lesson).options(*LESSON_PAGE).where(Lesson.id == record_id),
            "ratings": select(CourseRating).where(CourseRating.course_id == record_id)
            .order_by(CourseRating.created_at.desc())}


# --- finding courses ----------------------------------------------------------------------

@bp.route("/")
@login_required
def catalog():
    stmt = select(Course).where(Course.status == "published")
    args = request.args
    if args.get("series") in SERIES:
        stmt = stmt.where(Course.series == args["series"])
    if args.get("category") in CATEGORIES:
        stmt = stmt.where(Course.category == args["category"])
    if args.get("level") in LEVELS:
        stmt = stmt.where(Course.level == args["level"])
    if args.get("featured") == "1":
        stmt = stmt.where(Course.featured.is_(True))
    trainer_id = inputs.id_arg("trainer", _("Trainer"))
    if trainer_id:
        stmt = stmt.where(Course.authors.any(Trainer.id == trainer_id))
    q = args.get("q", "").strip()
    matches = ranked_matches(q) if q else None
    if matches is not None:  # the most relevant first; featured courses only break ties
        stmt = stmt.join(matches, matches.c.id == Course.id).order_by(matches.c.rank.desc())
    stmt = stmt.order_by(Course.featured.desc(), Course.published_at.desc(), Course.id.desc())
    page = Page(stmt.options(selectinload(Course.cover), *UNREAD), page_arg(), 24)
    authors: dict[int, list[str]] = {}  # each course's trainers by name, in Course.authors' order (no ORM objects)
    if page.items:
        for course_id, name in db.session.execute(
                select(course_author.c.course_id, Trainer.name).join(Trainer, Trainer.id == course_author.c.trainer_id)
                .where(course_author.c.course_id.in_([c.id for c in page.items]))
                .order_by(course_author.c.course_id, Trainer.id)):
            authors.setdefault(course_id, []).append(name)
    trainers = db.session.scalars(select(Trainer).where(Trainer.id.in_(
        select(course_author.c.trainer_id).join(Course, Course.id == course_author.c.course_id)
        .where(Course.status == "published"))).order_by(Trainer.name)).all()
    enrolled = set(db.session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == current_user.id)))
    return render_template("learning/catalog.html", page=page, authors=authors, trainers=trainers, enrolled=enrolled,
                           q=q)


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id):
    statements = _page_statements()
    course = in_scope_or_404(load_or_none(statements["course"], course_id), can_view_course)
    enrollment = progress.enrollment_for(current_user, course)
    states = progress.lesson_states(current_user.id, course) if enrollment else {}
    done = sum(1 for s in states.values() if s.completed_at)
    ratings = db.session.scalars(statements["ratings"], {"id": course.id}).all()
    mine = next((r for r in ratings if r.user_id == current_user.id), None)
    rating_form = RatingForm(obj=mine) if enrollment and enrollment.completed_at else None
    if rating_form is not None and mine:
        rating_form.stars.data = str(mine.stars)
    avg = (sum(r.stars for r in ratings) / len(ratings)) if ratings else None
    user = current_user._get_current_object()
    can_review = can_review_courses(user)
    show_comments = can_review or can_edit_course(user, course) or is_course_author(user, course)
    return render_template("learning/course.html", course=course, enrollment=enrollment, states=states,
                           landing=None if enrollment else _landing(course, request.args.get("lesson")),
                           pct=progress.percent(done, len(course.lessons)), ratings=ratings, avg=avg,
                           outlook=progress.outlook(course, states) if enrollment else None,
                           quiz=quiz.active_quiz(course), quiz_state=quiz.state(enrollment) if enrollment else None,
                           percent_score=quiz.percent_score,
                           rating_form=rating_form, show_comments=show_comments, form=ConfirmForm(),
                           review_form=ReviewForm() if can_review else None, can_edit=can_edit_course(user, course),
                           can_review=can_review,
                           can_revise=can_revise_course(current_user, course),
                           revision=domain.open_revision(course) if course.status == "published" else None)


def _landing(course: Course, raw: str | None) -> Lesson | None:
    """The lesson of `course` that `raw` names (`?lesson=<id>`, as a recommendation sends it, carried by the enrol
    form): that lesson if it is one of this course's, else None (another course's, garbage: the usual landing)."""
    try:
        lesson_id = inputs.ident(raw or "", _("Lesson"))
    except inputs.InputError:
        return None
    return next((lesson for lesson in course.lessons if lesson.id == lesson_id), None)


@bp.route("/courses/<int:course_id>/enroll", methods=["POST"])
@login_required
def enroll(course_id):
    course = _load_course(course_id)
    landing = _landing(course, request.form.get("lesson"))
    try:
        progress.enroll(current_user, course)
    except progress.StudyError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".course", course_id=course.id))
    if landing is not None:  # the lesson the worker came for (a recommendation), never an address from the form
        flash(_("You are enrolled. Here is the lesson “%(lesson)s”.", lesson=landing.title), "success")
        return redirect(url_for(".lesson", lesson_id=landing.id))
    flash(_("You are enrolled. Start with the first lesson."), "success")
    return redirect(
        url_for(".lesson", lesson_id=course.lessons[0].id)
        if course.lessons
        else url_for(".course", course_id=course.id)
    )


# --- studying -------------------------------------------------------------------------------

def _load_lesson_for_study(lesson_id: int, options=()) -> tuple[Lesson, Enrollment | None]:
    lesson = get_in_scope_or_404(Lesson, lesson_id, can_view_lesson, options)
    return lesson, progress.enrollment_for(current_user, lesson.course)


@bp.route("/lessons/<int:lesson_id>")
@login_required
def lesson(lesson_id):
    lesson = in_scope_or_404(load_or_none(_page_statements()["lesson"], lesson_id), can_view_lesson)
    enrollment = progress.enrollment_for(current_user, lesson.course)
    course = lesson.course
    if enrollment is None and not (can_edit_course(current_user, course) or can_review_courses(current_user)):
        flash(_("Enrol in the course to study its lessons."), "warning")
        return redirect(url_for(".course", course_id=course.id))
    lessons = list(course.lessons)
    i = lessons.index(lesson)
    state = progress.lesson_states(current_user.id, course).get(lesson.id) if enrollment else None
    return render_template(
        "learning/lesson.html",
        lesson=lesson,
        course=course,
        enrollment=enrollment,
        state=state,
        standing=progress.standing(lesson, state),
        prev=lessons[i - 1] if i > 0 else None,
        next=lessons[i + 1] if i + 1 < len(lessons) else None,
        form=ConfirmForm(),
        beat_interval=progress.BEAT_INTERVAL,
        idle_seconds=current_app.config["STUDY_IDLE_MINUTES"] * 60,
    )


def _beat_args() -> dict | None:
    """The beat's JSON body, or None when malformed:
    {"start": bool, "ranges": [[start, end], …], "duration": seconds}."""
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None
    ranges, duration = data.get("ranges"), data.get("duration")
    number = (int, float)
    if ranges is not None and not (
            isinstance(ranges, list) and len(ranges) <= progress.MAX_VIDEO_RANGES
            and all(isinstance(r, list) and len(r) == 2 and all(isinstance(x, number) and not isinstance(x, bool)
                                                                and math.isfinite(x) for x in r) for r in ranges)):
        return None
    if duration is not None and not (isinstance(duration, number) and not isinstance(duration, bool)
                                     and math.isfinite(duration)):
        duration = None  # a stream's length is unknown (Infinity/NaN in the player): ignore it
    return {"start": data.get("start") is True, "ranges": ranges, "duration": duration}


@bp.route("/lessons/<int:lesson_id>/beat", methods=["POST"])
@login_required
def beat(lesson_id):
    lesson, enrollment = _load_lesson_for_study(lesson_id)
    if enrollment is None:
        return {"error": _("Enrol in the course first.")}, 409
    args = _beat_args()
    if args is None:
        return {"error": _("The study time report was malformed: reload the page.")}, 400
    row = progress.heartbeat(current_user, lesson, **args)
    state = progress.standing(lesson, row)
    return _standing_json(state)


def _standing_json(state: progress.Standing) -> dict:
    """The standing with its durations written out for the page (in the learner's language)."""
    texts = {f"{key}_text": progress.format_duration(value) for key, value in state.as_dict().items()
             if key in ("seconds", "required", "remaining", "video_seconds", "video_required", "video_remaining")
             and value is not None}
    return {**state.as_dict(), **texts}


@bp.route("/lessons/<int:lesson_id>/complete", methods=["POST"])
@login_required
def complete(lesson_id):
    lesson, enrollment = _load_lesson_for_study(lesson_id)
    wants_json = request.accept_mimetypes.best == "application/json"
    if enrollment is None:
        if wants_json:
            return {"error": _("Enrol in the course first.")}, 409
        abort(409)
    try:
        finished = progress.complete_lesson(current_user, lesson)
    except progress.NotYetError as exc:
        discard()
        if wants_json:
            return {"error": str(exc), **_standing_json(exc.standing)}, 409
        flash(str(exc), "warning")
        return redirect(url_for(".lesson", lesson_id=lesson.id))
    feedback = _completion_feedback(lesson, enrollment, finished)
    if wants_json:
        return {"completed": True, "course_completed": finished, **feedback}
    message = feedback["message"]
    if feedback.get("certificate_url"):
        message = Markup('{} <a class="alert-link" href="{}">{}</a>').format(
            message, feedback["certificate_url"], feedback["link_text"])
    flash(message, feedback["category"])
    return redirect(feedback["next_url"])


def _completion_feedback(lesson: Lesson, enrollment: Enrollment, finished: bool) -> dict:
    """What completing `lesson` tells the learner, for the page (a flash) and the lesson script
    (JSON): what was credited, and where to go next with its label."""
    course = lesson.course
    course_url = url_for(".course", course_id=course.id)
    if finished:
        return {"category": "success", "next_url": course_url, "link_text": _("View certificate"),
                "certificate_url": url_for(".certificate_page", enrollment_id=enrollment.id),
                "message": _("Course complete: %(h)s credit hours have been added to your record for %(y)d, "
                             "and your certificate is issued.", h=course.credit_hours,
                             y=utc_to_local(enrollment.completed_at).year)}
    if enrollment.completed_at is None and quiz.active_quiz(course) is not None \
            and progress.required_lessons_done(enrollment):
        return {"category": "info", "next_url": url_for(".course", course_id=course.id, _anchor="quiz"),
                "link_text": _("Go to the end-of-course quiz"),
                "message": _("Lesson complete: %(title)s. Every required lesson is done: pass the end-of-course quiz "
                             "to complete the course and receive its credit hours.", title=lesson.title)}
    if enrollment.completed_at is not None:  # completed before (or by the page's own report a moment ago)
        return {"category": "success", "next_url": course_url, "link_text": _("View certificate"),
                "certificate_url": url_for(".certificate_page", enrollment_id=enrollment.id),
                "message": _("Lesson complete: %(title)s. The course is complete: its %(h)s credit hours are on "
                             "your record.", title=lesson.title, h=course.credit_hours)}
    following = progress.next_lesson(course, progress.lesson_states(enrollment.user_id, course), lesson, include=False)
    if following is None:
        return {"category": "success", "next_url": course_url, "link_text": _("Back to the course"),
                "message": _("Lesson complete: %(title)s. Every lesson of this course is complete.",
                             title=lesson.title)}
    return {"category": "success", "next_url": url_for(".lesson", lesson_id=following.id),
            "link_text": _("Next: %(title)s", title=following.title),
            "message": _("Lesson complete: %(title)s. Up next: %(next)s.", title=lesson.title, next=following.title)}


@bp.app_template_filter("duration")
def _duration(seconds) -> str:
    return progress.format_duration(seconds or 0)


def _learning_page(user: User):
    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user.id)
        .order_by(Enrollment.completed_at.is_not(None), Enrollment.enrolled_at.desc())
    ).all()
    stats = progress.course_progress(user.id, [e.course_id for e in enrollments])
    credit = progress.year_credit(user.id)
    quiz_states = {e.id: st for e in enrollments if (st := quiz.state(e)) is not None}
    return render_template("learning/mine.html", learner=user, enrollments=enrollments, stats=stats,
                           quiz_states=quiz_states, can_grant=can_grant_quiz_attempt(current_user, user),
                           confirm=ConfirmForm(),
                           certificates=certificates.for_enrollments([e.id for e in enrollments]),
                           times=progress.lesson_standings(user.id, [e.course_id for e in enrollments]),
                           percent=progress.percent, year=credit.year, hours=credit.hours, target=credit.target,
                           hours_pct=credit.percent)


@bp.route("/mine")
@login_required
def mine():
    return _learning_page(current_user)


@bp.route("/progress/<int:user_id>")
@login_required
def learner_progress(user_id):
    return _learning_page(get_in_scope_or_404(User, user_id, can_see_progress))


@bp.route("/courses/<int:course_id>/rate", methods=["POST"])
@login_required
def rate(course_id):
    course = _load_course(course_id)
    enrollment = progress.enrollment_for(current_user, course)
    if enrollment is None or enrollment.completed_at is None:
        flash(_("You can rate a course after completing it."), "warning")
        return redirect(url_for(".course", course_id=course.id))
    form = RatingForm()
    if form.validate_on_submit():
        progress.rate(current_user, course, form.stars.data, form.comment.data or "")
        flash(_("Thank you for your rating."), "success")
    else:
        flash(_("Choose from one to five stars."), "danger")
    return redirect(url_for(".course", course_id=course.id))


# --- the end-of-course quiz ---------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/quiz/start", methods=["POST"])
@login_required
@writes_late
def start_quiz(course_id):
    """Resume the open sitting or start one with a fresh paper (assembled before the write lock,
    as mock exams do); the quiz is then taken on the mock-exam page, with its autosave and clock."""
    course = _load_course(course_id)
    enrollment = progress.enrollment_for(current_user, course)
    if enrollment is None:
        abort(404)
    try:
        st = quiz.check_can_start(enrollment)
        if st.open is not None and utcnow() <= st.open.deadline_at:
            return redirect(url_for("mock.attempt", attempt_id=st.open.id))
        prepared = exam_attempts.prepare(st.quiz)
        begin_writing()
        attempt = quiz.start(enrollment, prepared=prepared)
    except (quiz.QuizError, exam_attempts.AttemptError) as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".course", course_id=course_id, _anchor="quiz"))
    return redirect(url_for("mock.attempt", attempt_id=attempt.id))


@bp.route("/enrollments/<int:enrollment_id>/quiz/grant", methods=["POST"])
@roles_required("office", "admin")
def grant_quiz_attempt(enrollment_id):
    enrollment = get_in_scope_or_404(Enrollment, enrollment_id, can_grant_quiz_attempt_on)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        quiz.grant_attempt(enrollment)
    except quiz.QuizError as exc:
        discard()
        flash(str(exc), "warning")
    else:
        flash(_("%(name)s may take the quiz of %(course)s once more.", name=enrollment.user.name,
                course=enrollment.course.title), "success")
    return redirect(url_for(".learner_progress", user_id=enrollment.user_id))


# --- certificates -----------------------------------------------------------------------------

def _visible_certificate(enrollment_id: int):
    """The certificate of an enrolment the viewer may see (404 otherwise, or before it is issued)."""
    enrollment = get_in_scope_or_404(Enrollment, enrollment_id, can_see_enrollment)
    cert = certificates.for_enrollment(enrollment)  # issued when the course was completed
    if cert is None:
        abort(404)
    return cert


@bp.route("/certificates/<int:enrollment_id>.pdf")
@login_required
def certificate(enrollment_id):
    cert = _visible_certificate(enrollment_id)
    pdf = certificates.render_pdf(cert, url_for(".verify", code=cert.code, _external=True))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=certificate-{cert.code}.pdf"})


@bp.route("/certificates/<int:enrollment_id>")
@login_required
def certificate_page(enrollment_id):
    cert = _visible_certificate(enrollment_id)
    return render_template("learning/certificate.html", cert=cert, enrollment=cert.enrollment,
                           statement=certificates.statement(cert),
                           verify_url=url_for(".verify", code=cert.code, _external=True))


@bp.route("/verify", defaults={"code": None})
@bp.route("/verify/<code>")
def verify(code):
    """Public: anyone holding a certificate code can check it (no login)."""
    form = VerifyForm(request.args if code is None else None)
    if code is None and form.code.data:
        code = form.code.data
    cert = certificates.find(code) if code else None
    return render_template("learning/verify.html", cert=cert, code=code, form=form)


# --- authoring ----------------------------------------------------------------------------------

@bp.route("/studio")
@roles_required("trainer", "office", "admin")
def studio():
    stmt = select(Course)
    if not current_user.has_role("office", "admin"):
        stmt = stmt.where(authored_courses_filter(current_user))
    status = request.args.get("status")
    if status in STATUSES:
        stmt = stmt.where(Course.status == status)
    page = Page(stmt.order_by(Course.updated_at.desc(), Course.id.desc())
                .options(selectinload(Course.lessons).load_only(Lesson.id)), page_arg(), 50)  # counted per row
    return render_template("learning/studio.html", page=page)


EditorForm = TypeVar("EditorForm", CourseForm, LessonForm)


def _offer_topics(form: EditorForm) -> EditorForm:
    """The editor's topics picker offers the question bank's topics, by subject."""
    subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position))
    form.topics.choices = bank_topics.choices_by_subject(subjects)
    return form


def _save_cover(form: CourseForm, course: Course) -> bool:
    if form.cover.data and getattr(form.cover.data, "filename", ""):
        try:
            course.cover = save_upload(form.cover.data, ("image",), current_user)
        except UploadError as exc:
            form.cover.errors = [str(exc)]
            return False
    return True


@bp.route("/studio/new", methods=["GET", "POST"])
@roles_required("trainer", "office", "admin")
def new_course():
    form = _offer_topics(CourseForm())
    if request.method == "GET":
        form.credit_hours.data = Decimal(1)
    if form.validate_on_submit():
        try:
            course = domain.create_course(current_user, **form.fields_dict())
        except domain.CourseError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            if _save_cover(form, course):
                flash(_("Course created. Now add its lessons."), "success")
                return redirect(url_for(".edit_course", course_id=course.id))
            discard()
    return render_template("learning/course_form.html", form=form, course=None)


def _load_editable(course_id: int) -> Course:
    course = get_in_scope_or_404(Course, course_id, can_view_course)
    ensure_can_edit_course(current_user, course)
    return course


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required("trainer", "office", "admin")
def edit_course(course_id):
    course = get_or_404(Course, course_id)
    if can_view_course(current_user, course) and not can_edit_course(current_user, course) \
            and can_revise_course(current_user, course):
        revision = domain.open_revision(course)
        if revision is not None:
            return redirect(url_for(".edit_course", course_id=revision.id))
        flash(_("This course is published, so learners are studying it. To change it, start a revision: "
                "the published version stays live until the revision is approved."), "info")
        return redirect(url_for(".course", course_id=course.id, _anchor="revise"))
    course = _load_editable(course_id)
    form = _offer_topics(CourseForm(obj=course))
    if request.method == "GET":
        form.series.data = course.series or ""
    if form.validate_on_submit():
        try:
            domain.update_course(course, **form.fields_dict())
        except domain.CourseError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            if _save_cover(form, course):
                flash(_("Changes saved."), "success")
                return redirect(url_for(".edit_course", course_id=course.id))
            discard()
    return render_template("learning/course_form.html", form=form, course=course, confirm=ConfirmForm(),
                           quiz_form=_quiz_form(course))


def _quiz_form(course: Course, formdata=None) -> QuizForm:
    """The quiz settings form, its topics offered by subject with how many questions each holds."""
    form = QuizForm(formdata=formdata, prefix="quiz")
    subjects = {s.id: s for s in db.session.scalars(select(ExamSubject).order_by(ExamSubject.position))}
    groups: dict[str, list] = {}
    for (sid, topic), by_type in sorted(
        quiz.topic_counts().items(), key=lambda kv: (subjects[kv[0][0]].position,
                                                     bank_topics.sort_key(subjects[kv[0][0]], kv[0][1]))
    ):
        groups.setdefault(subjects[sid].name, []).append(
            (f"{sid}|{topic}", _("%(topic)s (%(n)d questions)", topic=topic, n=sum(by_type.values()))))
    form.topics.choices = groups
    existing = quiz.active_quiz(course)
    if formdata is None and existing is not None:
        settings = quiz.settings_of(existing)
        form.enabled.data = True
        form.topics.data = [f"{settings.subject.id}|{t}" for t in settings.topics]
        form.questions.data, form.pass_percent.data = settings.questions, settings.pass_percent
        form.retries.data = settings.retries
    return form


@bp.route("/courses/<int:course_id>/quiz", methods=["POST"])
@roles_required("trainer", "office", "admin")
def edit_quiz(course_id):
    course = _load_editable(course_id)
    form = _quiz_form(course, request.form)
    if form.validate_on_submit():
        try:
            quiz.set_quiz(course, _quiz_settings(form) if form.enabled.data else None)
        except quiz.QuizError as exc:
            discard()
            form.topics.errors = [str(exc)]
        else:
            flash(_("Quiz saved.") if form.enabled.data else _("The course has no quiz now."), "success")
            return redirect(url_for(".edit_course", course_id=course.id, _anchor="quiz-settings"))
    flash(_("The quiz was not saved: see the quiz settings below."), "danger")
    course_form = _offer_topics(CourseForm(formdata=None, obj=course))
    course_form.series.data = course.series or ""
    return render_template("learning/course_form.html", form=course_form, course=course,
                           confirm=ConfirmForm(), quiz_form=form)


def _quiz_settings(form: QuizForm) -> quiz.QuizSettings:
    picked = [v.split("|", 1) for v in form.topics.data or []]
    subject_ids = {int(sid) for sid, _topic in picked}
    if len(subject_ids) > 1:
        raise quiz.QuizError(_("Choose topics of one subject only."))
    if not picked:
        raise quiz.QuizError(_("Choose at least one topic for the quiz."))
    return quiz.QuizSettings(subject=get_or_404(ExamSubject, subject_ids.pop()), topics=[t for _sid, t in picked],
                             questions=form.questions.data or 10, pass_percent=form.pass_percent.data or 60,
                             retries=form.retries.data)


@bp.route("/courses/<int:course_id>/revise", methods=["POST"])
@roles_required("trainer", "office", "admin")
def revise(course_id):
    """Start a revision of a published course, or continue the one in progress."""
    course = _load_course(course_id)
    ensure_can_revise_course(current_user, course)
    revision = domain.open_revision(course)
    if revision is not None:
        flash(_("This course already has a revision in progress: continue that one."), "info")
        return redirect(url_for(".edit_course", course_id=revision.id))
    try:
        revision = domain.start_revision(course, current_user)
    except domain.CourseError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".course", course_id=course.id))
    flash(_("Revision started. Learners keep studying the published version until the revision is "
            "approved."), "success")
    return redirect(url_for(".edit_course", course_id=revision.id))


@bp.route("/courses/<int:course_id>/discard-revision", methods=["POST"])
@roles_required("trainer", "office", "admin")
def discard_revision(course_id):
    draft = _load_editable(course_id)
    try:
        live = domain.discard_revision(draft)
    except domain.CourseError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".edit_course", course_id=draft.id))
    flash(_("Revision discarded. The published course is unchanged."), "success")
    return redirect(url_for(".course", course_id=live.id))


@bp.route("/courses/<int:course_id>/submit", methods=["POST"])
@roles_required("trainer", "office", "admin")
def submit(course_id):
    course = _load_editable(course_id)
    try:
        domain.submit_for_review(course)
    except domain.CourseError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".edit_course", course_id=course.id))
    flash(_("Submitted for review. A training office will look at it."), "success")
    return redirect(url_for(".course", course_id=course.id))  # in review, authors can no longer edit


def _apply_lesson_form(form: LessonForm, lesson: Lesson) -> bool:
    """Copy the form into the lesson and store its uploads; False (with field errors) on a bad file or URL."""
    allowed = current_app.config["VIDEO_URL_ALLOWLIST"]
    url = (form.video_url.data or "").strip()
    if url and not any(url.startswith(prefix) for prefix in allowed):
        form.video_url.errors = [_("Video links must start with one of: %(list)s",
                                   list="、".join(allowed) or _("(no video sites are allowed: upload the file)"))]
        return False
    lesson.title, lesson.body = (form.title.data or "").strip(), form.body.data or ""
    lesson.minutes = cast(int, form.minutes.data)  # DataRequired
    lesson.required, lesson.video_url = form.required.data, url or None

    lesson.min_minutes = form.min_minutes.data
    try:
        lesson.topics = domain.taught_topics(form.topics.data)
    except domain.CourseError as exc:
        form.topics.errors = [str(exc)]
        return False
    try:
        if form.video.data and getattr(form.video.data, "filename", ""):
            lesson.video = save_upload(form.video.data, ("video",), current_user)
        if form.attachment.data and getattr(form.attachment.data, "filename", ""):
            lesson.attachments.append(save_upload(form.attachment.data, ("document", "image"), current_user))
        if form.image.data and getattr(form.image.data, "filename", ""):
            image = save_upload(form.image.data, ("image",), current_user)
            lesson.body += f"\n\n![{image.original_name}]({url_for('uploads.serve', token=image.token)})\n"
    except UploadError as exc:
        flash(str(exc), "danger")
        return False
    return True


@bp.route("/courses/<int:course_id>/lessons/new", methods=["GET", "POST"])
@roles_required("trainer", "office", "admin")
def new_lesson(course_id):
    course = _load_editable(course_id)
    form = _offer_topics(LessonForm())
    if form.validate_on_submit():
        lesson = domain.add_lesson(course, title=(form.title.data or "").strip(), body="")
        if _apply_lesson_form(form, lesson):
            domain.update_lesson(lesson)
            flash(_("Lesson added."), "success")
            return redirect(url_for(".edit_course", course_id=course.id))
        discard()
    return render_template("learning/lesson_form.html", form=form, course=course, lesson=None)


def _load_editable_lesson(lesson_id: int) -> Lesson:
    lesson = get_or_404(Lesson, lesson_id)
    _load_editable(lesson.course_id)
    return lesson


@bp.route("/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@roles_required("trainer", "office", "admin")
def edit_lesson(lesson_id):
    lesson = _load_editable_lesson(lesson_id)
    form = _offer_topics(LessonForm(obj=lesson))
    if form.validate_on_submit():
        if _apply_lesson_form(form, lesson):
            domain.update_lesson(lesson)
            flash(_("Changes saved."), "success")
            return redirect(url_for(".edit_course", course_id=lesson.course_id))
        discard()
    return render_template("learning/lesson_form.html", form=form, course=lesson.course, lesson=lesson)


@bp.route("/lessons/<int:lesson_id>/delete", methods=["POST"])
@roles_required("trainer", "office", "admin")
def delete_lesson(lesson_id):
    lesson = _load_editable_lesson(lesson_id)
    course_id = lesson.course_id
    if lesson.course.status == "published":
        flash(_("Lessons of a published course cannot be deleted: withdraw the course first."), "danger")
    else:
        domain.delete_lesson(lesson)
        flash(_("Lesson deleted."), "success")
    return redirect(url_for(".edit_course", course_id=course_id))


@bp.route("/lessons/<int:lesson_id>/move/<direction>", methods=["POST"])
@roles_required("trainer", "office", "admin")
def move_lesson(lesson_id, direction):
    lesson = _load_editable_lesson(lesson_id)
    if direction not in ("up", "down"):
        abort(404)
    domain.move_lesson(lesson, -1 if direction == "up" else 1)
    return redirect(url_for(".edit_course", course_id=lesson.course_id))


# --- review and assignment (offices) ---------------------------------------------------------------

@bp.route("/review")
@roles_required("office", "admin")
def review_queue():
    courses = db.session.scalars(select(Course).where(Course.status == "review").order_by(Course.submitted_at)
                                 .options(selectinload(Course.authors))).all()
    return render_template("learning/review.html", courses=courses)


@bp.route("/courses/<int:course_id>/review", methods=["POST"])
@roles_required("office", "admin")
def review(course_id):
    course = get_or_404(Course, course_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    action = request.form.get("action")
    try:
        if action == "publish" and course.revision_of_id is not None:
            course = domain.approve_revision(course, current_user, form.comment.data or "")
            flash(_("Revision approved: the published course now shows it. Learners keep their progress."),
                  "success")
        elif action == "publish":
            domain.publish_course(course, current_user, form.comment.data or "")
            flash(_("Published: workers can now find and study it."), "success")
        elif action == "return":
            domain.return_course(course, current_user, form.comment.data or "")
            flash(_("Returned to its authors with your comment."), "success")
        elif action == "unpublish":
            domain.unpublish_course(course, current_user)
            flash(_("Withdrawn: the course is a draft again."), "success")
        else:
            abort(400)
    except domain.CourseError as exc:
        discard()
        flash(str(exc), "danger")
    return redirect(url_for(".course", course_id=course.id))


@bp.route("/courses/<int:course_id>/featured", methods=["POST"])
@roles_required("office", "admin")
def toggle_featured(course_id):
    course = get_or_404(Course, course_id)
    course.featured = not course.featured
    return redirect(url_for(".course", course_id=course.id))


@bp.route("/courses/<int:course_id>/assign", methods=["GET", "POST"])
@roles_required("office", "admin")
def assign(course_id):
    course = _load_course(course_id)
    form = AssignForm()
    form.org_unit_id.choices = unit_choices(visible_units(current_user))
    form.cert_level.choices = [("", _("All certificate levels"))] + list(choices.CERT_LEVELS.items())
    if form.validate_on_submit():
        unit = in_scope_or_404(db.session.get(OrgUnit, form.org_unit_id.data), can_see_unit)
        stmt = visible_users(current_user).where(in_subtree(OrgUnit.path, unit),
                                                 User.role_rows.any(role="learner"))
        if form.cert_level.data:
            stmt = stmt.where(User.cert_level == form.cert_level.data)
        try:
            n = progress.assign(course, stmt, current_user)
        except progress.StudyError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("%(n)d workers of %(unit)s enrolled.", n=n, unit=unit.name), "success")
            return redirect(url_for(".course", course_id=course.id))
    enrolled = db.session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course.id))
    return render_template("learning/assign.html", course=course, form=form, enrolled=enrolled)
