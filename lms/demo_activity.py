"""Activity in the demo city, dated from the day it is loaded (lms/clock.py), so that every role finds
something to do that day:

- workers: training classes open for registration (the city's and their district's, sessions in the
  coming weeks), the class of their street under way (a session last week, one today, more to come),
  an upcoming mock exam day, and this year's 学时 spread as in a real city: some workers have met the
  annual target (ANNUAL_CREDIT_HOURS_TARGET), many are part-way, some have none yet;
- offices: today's session to open for check-in (some workers already checked in), rosters, results
  to verify (exams/demo_results.py), continuing-education figures;
- trainers: the classes they teach and the courses they wrote.

Past activity (classes held, courses studied, mock exams taken) is dated this year, before today; a
record is written only for what happened (attendance, completed lessons with their study time, a
passed quiz), through the app's own rules where they apply. Deterministic for a given day (fixed
seed), run only once (it does nothing when any enrolment exists). Flushes, never commits."""
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from . import clock
from .auth.models import User, UserRole
from .extensions import db
from .learning import progress, quiz
from .learning.models import Course, Credit, Enrollment, LessonProgress
from .library.models import Trainer, TrainingBase
from .orgs.models import OrgUnit
from .training import rules
from .training.models import Attendance, AttendanceChange, Registration, Training, TrainingSession
from .util import local_to_utc, utc_to_local

# (title, sessions, 学时 per session); {unit} is the organiser's name
PAST_CLASSES = {
    "city": [("全市社区工作者示范培训班：社区议事协商实务", 3, Decimal("6")),
             ("全市社工站站长能力提升班", 2, Decimal("6"))],
    "district": [("{unit}社区工作者全员轮训（第一期）", 3, Decimal("3"))],
    "street": [("{unit}网格员与楼栋长业务培训", 3, Decimal("3"))],
}
CURRENT_CLASS = "{unit}社区工作者业务提升班（第二期）"  # a street's class under way: a session today
OPEN_CLASSES = {
    "city": ("全市社区工作者专题培训班：“一老一小”服务实务", 2, Decimal("6"), 14, 120),
    "district": ("{unit}社区工作者全员轮训（第二期）", 3, Decimal("3"), 9, 0),
}  # (title, sessions, 学时 per session, days until the first session, capacity; 0 = the whole audience)
MOCK_DAY_TITLE = "全市职业水平考试模拟考试日（初级）"
# How keen each worker is this year: the share of workers, and the share of classes they attend.
TIERS = {"keen": (20, 0.97), "steady": (65, 0.75), "idle": (15, 0.0)}
DEMO_LOGINS = 40  # w0001…w0040 (the README's logins) have not checked in today: they can try it


class _Day:
    """The moment the demo is loaded and the part of this year before it."""

    def __init__(self) -> None:
        self.now = clock.now().replace(microsecond=0)
        self.today = clock.today()
        self.year_start = local_to_utc(datetime(self.today.year, 1, 1))

    def local(self, day: date, hour: int) -> datetime:
        """`hour` o'clock Beijing time on `day`, as naive UTC."""
        return local_to_utc(datetime(day.year, day.month, day.day, hour))

    def this_year(self, rng: random.Random, room: timedelta) -> datetime:
        """A moment this year early enough to leave `room` before now (as much room as the year allows)."""
        latest = max(self.year_start, self.now - room)
        return self.year_start + (latest - self.year_start) * rng.random()

    def session_today(self) -> datetime:
        """The start of a three-hour session that started today and is under way now (its check-in is
        open): an hour before the current hour, or midnight."""
        return max(self.local(self.today, 0), self.now.replace(minute=0, second=0) - timedelta(hours=1))


def seed_activity() -> str:
    if db.session.scalar(select(func.count()).select_from(Enrollment)):
        return "activity already present"
    rng = random.Random(20261123)
    day = _Day()
    learners = db.session.scalars(select(User).where(User.active.is_(True), User.username.like("w%"),
                                                     User.role_rows.any(UserRole.role == "learner"))
                                  .order_by(User.id)).all()
    tiers = {u.id: rng.choices(list(TIERS), weights=[t[0] for t in TIERS.values()])[0] for u in learners}
    courses = db.session.scalars(select(Course).where(Course.status == "published").order_by(Course.id)).all()
    n_enrol = _courses(rng, day, learners, courses, tiers)
    n_attend = _past_classes(rng, day, learners, courses, tiers)
    n_attend += _current_classes(rng, day, learners, tiers)
    n_open = _open_classes(rng, day, learners, tiers)
    n_enrol += _reach_the_target(rng, day, learners, courses, tiers)
    n_attempts = _mock_exams(rng, day, learners)
    n_attempts += _preparing(rng, day, learners)
    _mock_day(day)
    return (f"{n_enrol} enrolments, {n_attend} attendance records, {n_open} classes open for registration, "
            f"{n_attempts} mock exam attempts")


def _courses(rng, day: _Day, learners, courses, tiers) -> int:
    count = 0
    for user in learners:
        tier = tiers[user.id]
        if not courses or rng.random() > {"keen": 1.0, "steady": 0.7, "idle": 0.3}[tier]:
            continue
        k = {"keen": (2, 3, 4), "steady": (1, 1, 2, 3), "idle": (1,)}[tier]
        for course in rng.sample(courses, k=min(len(courses), rng.choice(k))):
            if tier == "idle":  # enrolled last year, never finished
                _study(rng, day, user, course, day.year_start - timedelta(days=rng.randint(20, 200)), complete=False)
            else:
                _study(rng, day, user, course, day.this_year(rng, timedelta(days=12)),
                       complete=tier == "keen" or rng.random() < 0.55)
            count += 1
    return count


def _study(rng, day: _Day, user, course, enrolled: datetime, complete: bool) -> bool:
    """Enrol `user` in `course` at `enrolled` and study it: every lesson (a day apart, or closer when
    the year is young) and the quiz when `complete`, else some lessons. True if the course completed."""
    enrollment = Enrollment(user_id=user.id, course_id=course.id, source="self", enrolled_at=enrolled)
    db.session.add(enrollment)
    db.session.flush()
    lessons = list(course.lessons)
    step = min(timedelta(days=1), (day.now - enrolled) / (len(lessons) + 5))
    done = len(lessons) if complete else rng.randint(0, max(len(lessons) - 1, 0))
    for i, lesson in enumerate(lessons[:done]):
        # Completed lessons were studied for at least their minimum (docs/STUDY-TIME.md).
        seconds = max(progress.required_seconds(lesson), lesson.minutes * 50)
        at = enrolled + step * (i + 1)
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, seconds_spent=seconds,
                                      last_beat_at=at, completed_at=at))
    db.session.flush()
    if done < len(lessons):
        return False
    finished = enrolled + step * len(lessons)
    progress._maybe_complete_course(enrollment, finished)
    course_quiz = quiz.active_quiz(course)
    if course_quiz is not None:
        _take_quiz(rng, enrollment, course_quiz, finished + step / 4, step)
    return enrollment.completed_at is not None


def _take_quiz(rng, enrollment, course_quiz, when: datetime, step: timedelta) -> None:
    """Sit a course's quiz as a worker would (a fresh paper each time) until it is passed or the
    retries run out; grading a pass completes the course, credits its 学时 and issues the certificate."""
    from .exams import assembly, attempts, qtypes
    from .exams.models import Attempt, AttemptAnswer

    blueprint, candidates = assembly.blueprint_dict(course_quiz), assembly.candidates_for(course_quiz)
    skill = rng.uniform(0.55, 1.0)
    for n in range(course_quiz.max_attempts or 3):
        seed = rng.getrandbits(40)
        paper = assembly.assemble(blueprint, candidates, seed)
        started = when + step * n  # a retry the next day (sooner when the year is young)
        attempt = Attempt(
            user_id=enrollment.user_id,
            exam_id=course_quiz.id,
            seed=seed,
            paper=paper,
            started_at=started,
            answer_keys=attempts.answer_keys(paper),
            status="in_progress",
            deadline_at=started + timedelta(minutes=course_quiz.duration_minutes),
            max_score=sum((Decimal(str(i["points"])) for i in paper["items"].values()), Decimal(0)),
        )
        db.session.add(attempt)
        db.session.flush()
        for key, item in paper["items"].items():
            right = rng.random() < skill + 0.15 * n  # a retry after reviewing the explanations goes better
            response = qtypes.get(item["type"]).sample_response(item, right)
            db.session.add(AttemptAnswer(attempt_id=attempt.id, item=key, response=response, seq=1,
                                         saved_at=started + timedelta(minutes=5)))
        db.session.flush()
        attempts.finish(attempt, started + min(timedelta(minutes=min(15, course_quiz.duration_minutes)), step / 2))
        if attempt.passed:
            return


def _organisers() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.level.in_(("city", "district", "street")))
                                   .order_by(OrgUnit.path)))


def _new_class(rng, organiser: OrgUnit, title: str, capacity: int, deadline: datetime, courses=(),
               lead: Trainer | None = None) -> Training:
    training = Training(title=title.format(unit=organiser.name), level=organiser.level, org_unit=organiser,
                        audience_unit=organiser, capacity=capacity, status="open", registration_deadline=deadline,
                        lock_version=0, description="本期培训采用**专题讲授 + 案例研讨 + 现场教学**相结合的方式。",
                        course_id=rng.choice(courses).id if courses and rng.random() < 0.5 else None)
    trainers = db.session.scalars(select(Trainer).order_by(Trainer.id)).all()
    training.trainers = rng.sample(trainers, k=min(2, len(trainers)))
    if lead is not None and lead not in training.trainers:
        training.trainers = [lead] + training.trainers[:1]
    db.session.add(training)
    db.session.flush()
    return training


def _sessions(rng, training: Training, starts: list[datetime], hours: Decimal) -> list[TrainingSession]:
    """Sessions at `starts`: three hours for 3 学时, a day (09:00–16:00) for 6; at a base or the
    organiser's service centre."""
    bases = db.session.scalars(select(TrainingBase).order_by(TrainingBase.id)).all()
    out = []
    for start in starts:
        base = rng.choice(bases) if bases and rng.random() < 0.7 else None
        out.append(rules.new_session(training, starts_at=start, ends_at=start + timedelta(hours=7 if hours >= 6 else 3),
                                     credit_hours=hours, place_kind="base" if base else "text", base=base,
                                     place_text="" if base else f"{training.org_unit.name}党群服务中心"))
    return out


def _audience(training: Training, learners, tiers, keen_first: bool = True) -> list:
    """The workers of the class's audience; the keen ones first (they sign up first)."""
    audience = [u for u in learners if training.audience_unit.contains(u.org_unit)]
    if keen_first:
        order = list(TIERS)
        audience.sort(key=lambda u: order.index(tiers[u.id]))
    return audience


def _status(rng, tier: str) -> str:
    if rng.random() < TIERS[tier][1]:
        return "present" if rng.random() < 0.9 else "late"
    return rng.choice(("excused", "absent"))


def _register(training: Training, users, created_at: datetime, source: str = "assigned") -> None:
    db.session.add_all([Registration(training_id=training.id, user_id=u.id, status="registered", source=source,
                                     created_at=created_at) for u in users])


def _hold(training: Training, sessions, users, tiers, rng, now: datetime) -> int:
    """The attendance of the sessions that have ended; they are closed."""
    records = [(session, user, _status(rng, tiers[user.id])) for session in sessions if session.ends_at <= now
               for user in users]
    _write_attendance(records)
    for session in sessions:
        if session.ends_at <= now:
            session.closed_at = session.ends_at + timedelta(minutes=5)
    return len(records)


def _past_classes(rng, day: _Day, learners, courses, tiers) -> int:
    """The classes every organiser held this year, before today (weekly sessions)."""
    count = 0
    for organiser in _organisers():
        for title, n_sessions, hours in PAST_CLASSES[organiser.level]:
            first = day.this_year(rng, timedelta(weeks=n_sessions + 1))
            first = day.local(utc_to_local(first).date(), rng.choice((9, 14)))
            step = max(min(timedelta(weeks=1), (day.now - first) / (n_sessions + 1)), timedelta(hours=4))
            capacity = rng.choice((60, 80)) if organiser.level == "city" else rng.choice((40, 60, 80))
            training = _new_class(rng, organiser, title, capacity, first - timedelta(days=2), courses)
            sessions = _sessions(rng, training, [first + step * k for k in range(n_sessions)], hours)
            users = _audience(training, learners, tiers)[:capacity - rng.randint(0, 10)]
            _register(training, users, first - timedelta(days=5))
            count += _hold(training, sessions, users, tiers, rng, day.now)
            if all(s.ends_at <= day.now for s in sessions):
                training.status = "closed"
    db.session.flush()
    return count


def _current_classes(rng, day: _Day, learners, tiers) -> int:
    """Every street's class under way: a session last week, one today (its check-in open now, some
    workers already in), two to come. Every worker of the street is registered."""
    count = 0
    start = day.session_today()
    # each class is led by a trainer with an account: trainers teach today too
    leads = db.session.scalars(select(Trainer).where(Trainer.user_id.is_not(None)).order_by(Trainer.id)).all()
    streets = [u for u in _organisers() if u.level == "street"]
    for i, organiser in enumerate(streets):
        training = _new_class(rng, organiser, CURRENT_CLASS, 0, day.local(day.today - timedelta(days=9), 18),
                              lead=leads[i % len(leads)] if leads else None)
        users = _audience(training, learners, tiers, keen_first=False)
        training.capacity = len(users) + 10
        weekly = [day.local(day.today + timedelta(weeks=k), 14) for k in (-1, 1, 2)]
        sessions = _sessions(rng, training, weekly[:1] + [start] + weekly[1:], Decimal("3"))
        _register(training, users, day.local(day.today - timedelta(days=12), 10))
        db.session.flush()
        count += _hold(training, sessions[:1], users, tiers, rng, day.now)
        count += _checked_in_already(rng, sessions[1], users, tiers, day.now)
    db.session.flush()
    return count


def _checked_in_already(rng, session: TrainingSession, users, tiers, now: datetime) -> int:
    """Some workers have checked in to today's session with the code on the projector (the app's own
    rule, at the moment they did); the README's demo logins have not, so that they can."""
    opened = rules.window(session)[0]
    count = 0
    eligible = [u for u in users if tiers[u.id] != "idle" and u.username > f"w{DEMO_LOGINS:04d}"]
    for i, user in enumerate(eligible):
        if i % 5 in (1, 3):
            continue  # three in five are in
        at = (opened + (now - opened) * rng.random()).replace(microsecond=0)
        rules.check_in(session, user, rules.code_at(session, at), f"{rng.getrandbits(128):032x}", now=at)
        count += 1
    return count


def _open_classes(rng, day: _Day, learners, tiers) -> int:
    """Classes open for registration for every worker: the city's and each district's, starting in
    the coming weeks. Some keen workers have signed up already."""
    count = 0
    for organiser in _organisers():
        if organiser.level not in OPEN_CLASSES:
            continue
        title, n_sessions, hours, days, capacity = OPEN_CLASSES[organiser.level]
        first_day = day.today + timedelta(days=days)
        training = _new_class(rng, organiser, title, capacity, day.local(first_day - timedelta(days=3), 18))
        _sessions(rng, training, [day.local(first_day + timedelta(weeks=k), 9) for k in range(n_sessions)], hours)
        audience = _audience(training, learners, tiers)
        training.capacity = capacity or len(audience)
        early = [u for u in audience if tiers[u.id] == "keen" and rng.random() < 0.4][:training.capacity // 2]
        _register(training, early, day.now - timedelta(hours=rng.randint(1, 72)), source="self")
        count += 1
    db.session.flush()
    return count


def _reach_the_target(rng, day: _Day, learners, courses, tiers) -> int:
    """The keen workers who are still short of this year's target study more courses until they reach it."""
    target = Decimal(str(current_app.config["ANNUAL_CREDIT_HOURS_TARGET"]))
    hours: dict[int, Decimal] = {
        user_id: total for user_id, total in db.session.execute(
            select(Credit.user_id, func.sum(Credit.hours)).where(Credit.earned_on >= date(day.today.year, 1, 1))
            .group_by(Credit.user_id))}
    enrolled = set(db.session.execute(select(Enrollment.user_id, Enrollment.course_id)).tuples())
    count = 0
    for user in learners:
        have = Decimal(str(hours.get(user.id) or 0))
        if tiers[user.id] != "keen" or have >= target:
            continue
        for course in rng.sample(courses, k=len(courses)):
            if have >= target:
                break
            if (user.id, course.id) in enrolled:
                continue
            count += 1
            if _study(rng, day, user, course, day.this_year(rng, timedelta(days=12)), complete=True):
                have += course.credit_hours
    return count


def _mock_day(day: _Day) -> None:
    """The city's next mock exam day: a Saturday morning at least three days ahead."""
    from .exams import mock_days

    city = db.session.scalar(select(OrgUnit).where(OrgUnit.level == "city").order_by(OrgUnit.id).limit(1))
    office = db.session.scalar(select(User).where(User.username == "office_city"))
    exam = next(iter(_junior_mock_exams()), None)
    if city is None or office is None or exam is None:
        return
    saturday = day.today + timedelta(days=3 + (5 - (day.today + timedelta(days=3)).weekday()) % 7)
    opens = day.local(saturday, 9)
    mock_days.schedule_day(title=MOCK_DAY_TITLE, exam=exam, unit=city, opens_at=opens,
                           closes_at=opens + timedelta(minutes=exam.duration_minutes + 30), stagger_minutes=10,
                           by=office)


def _junior_mock_exams() -> list:
    from .exams.models import Exam

    return [e for e in db.session.scalars(select(Exam).where(Exam.active.is_(True), Exam.kind == "mock")
                                          .order_by(Exam.id)) if e.subject.level == "junior"]


def _write_attendance(records) -> None:
    """The rows rules.set_status() would write (attendance, its audit row, the 学时), in bulk."""
    rows = []
    for session, user, status in records:
        method = "roster" if status in ("excused", "absent") else "qr"
        rows.append(Attendance(session_id=session.id, user_id=user.id, status=status, method=method,
                               checked_in_at=session.starts_at if method == "qr" else None, updated_at=session.ends_at))
    db.session.add_all(rows)
    db.session.flush()
    db.session.add_all(
        [
            AttendanceChange(
                attendance_id=a.id,
                changed_by_id=None,
                changed_at=a.updated_at,
                old_status=None,
                new_status=a.status,
                method=a.method,
            )
            for a in rows
        ]
    )
    db.session.add_all([Credit(user_id=user.id, source="session", source_id=session.id, hours=session.credit_hours,
                               earned_on=utc_to_local(session.starts_at).date())
                        for session, user, status in records if status in rules.CREDITED])


def _mock_exams(rng, day: _Day, learners) -> int:
    """Mock exams the workers took this year, graded."""
    from .exams import assembly

    count = 0
    for exam in _junior_mock_exams():
        try:
            candidates = assembly.candidates_for(exam)
            blueprint = assembly.blueprint_dict(exam)
            assembly.assemble(blueprint, candidates, 1)
        except assembly.AssemblyError:
            continue
        for user in rng.sample(learners, k=min(len(learners), 60)):
            seed = rng.getrandbits(40)
            started = day.this_year(rng, timedelta(days=1)).replace(microsecond=0)
            if started + timedelta(minutes=exam.duration_minutes) > day.now:
                continue  # the year is too young for this one
            _sit_mock(rng, exam, blueprint, candidates, user, seed, started, rng.uniform(0.45, 0.9))
            count += 1
    return count


def _sit_mock(rng, exam, blueprint: dict, candidates, user: User, seed: int, started: datetime, skill: float) -> None:
    """One mock exam sat and graded through the app's rules (grading logs every objective answer, and
    moves the worker's topic mastery, lms/prep)."""
    from .exams import assembly, attempts, qtypes
    from .exams.models import Attempt, AttemptAnswer

    paper = assembly.assemble(blueprint, candidates, seed)
    attempt = Attempt(user_id=user.id, exam_id=exam.id, seed=seed, paper=paper, started_at=started,
                      deadline_at=started + timedelta(minutes=exam.duration_minutes), status="in_progress",
                      max_score=Decimal(100))
    db.session.add(attempt)
    db.session.flush()
    for key, item in paper["items"].items():
        if rng.random() < 0.05:
            continue  # left blank
        response = qtypes.get(item["type"]).sample_response(item, rng.random() < skill, rng)
        db.session.add(AttemptAnswer(attempt_id=attempt.id, item=key, response=response, seq=1,
                                     saved_at=started + timedelta(minutes=30)))
    db.session.flush()
    attempts.finish(attempt, started + timedelta(minutes=exam.duration_minutes - rng.randint(0, 30)))


PREPARING = ("w0001", "w0004", "w0005")  # demo logins preparing for the 初级 综合能力 exam (not the plan journey's)


def _preparing(rng, day: _Day, learners) -> int:
    """A few demo logins prepare for the exam (lms/prep): a plan for the first junior subject, and a mock exam
    of it a few days ago if they took none, so that their home page has recommendations today."""
    from .exams import assembly
    from .exams.models import Attempt
    from .prep import plan
    from .prep.models import PrepPlan

    exam = next(iter(_junior_mock_exams()), None)
    if exam is None:
        return 0
    exam_date = plan.default_exam_date(day.today, current_app.config["PREP_EXAM_DATE"])
    candidates, blueprint = assembly.candidates_for(exam), assembly.blueprint_dict(exam)
    sat = 0
    for user in (u for u in learners if u.username in PREPARING):
        if db.session.scalar(select(PrepPlan.id).where(PrepPlan.user_id == user.id,
                                                       PrepPlan.subject_id == exam.subject_id)) is None:
            db.session.add(PrepPlan(user_id=user.id, subject_id=exam.subject_id, exam_date=exam_date,
                                    minutes_per_day=30, created_at=day.now - timedelta(days=10)))
        if db.session.scalar(select(Attempt.id).where(Attempt.user_id == user.id, Attempt.exam_id == exam.id)) is None:
            started = (day.now - timedelta(days=rng.randint(2, 6), hours=3)).replace(microsecond=0)
            _sit_mock(rng, exam, blueprint, candidates, user, rng.getrandbits(40), started, rng.uniform(0.5, 0.75))
            sat += 1
    db.session.flush()
    return sat
