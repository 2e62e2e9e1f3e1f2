"""A year of activity in the demo city, so that pages and statistics have something to show:
course enrolments and completions, training classes with attendance at every level, graded
mock exams. Deterministic (fixed seed), dated in the months before today, and run only once
(it does nothing when any enrolment exists). Flushes, never commits."""
import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from .auth.models import User, UserRole
from .database import utcnow
from .extensions import db
from .learning import progress, quiz
from .learning.models import Course, Credit, Enrollment, LessonProgress
from .library.models import Trainer, TrainingBase
from .orgs.models import OrgUnit
from .training import rules
from .training.models import Attendance, AttendanceChange, Registration, Training
from .util import utc_to_local

CLASS_TITLES = {
    "city": ["全市社区工作者示范培训班：社区议事协商实务", "全市社工站站长能力提升班"],
    "district": ["{unit}社区工作者全员轮训（第一期）"],
    "street": ["{unit}网格员与楼栋长业务培训"],
}


def seed_activity() -> str:
    if db.session.scalar(select(func.count()).select_from(Enrollment)):
        return "activity already present"
    rng = random.Random(20261123)
    now = utcnow().replace(microsecond=0)
    learners = db.session.scalars(select(User).where(User.active.is_(True), User.username.like("w%"),
                                                     User.role_rows.any(UserRole.role == "learner"))
                                  .order_by(User.id)).all()
    courses = db.session.scalars(select(Course).where(Course.status == "published").order_by(Course.id)).all()
    n_enrol = _courses(rng, now, learners, courses)
    n_attend = _trainings(rng, now, learners, courses)
    n_attempts = _mock_exams(rng, now, learners)
    return f"{n_enrol} enrolments, {n_attend} attendance records, {n_attempts} mock exam attempts"


def _courses(rng, now, learners, courses) -> int:
    count = 0
    for user in learners:
        if rng.random() > 0.65 or not courses:
            continue
        for course in rng.sample(courses, k=min(len(courses), rng.choice((1, 1, 2, 3)))):
            enrolled = now - timedelta(days=rng.randint(20, 320), minutes=rng.randint(0, 600))
            enrollment = Enrollment(user_id=user.id, course_id=course.id, source="self", enrolled_at=enrolled)
            db.session.add(enrollment)
            db.session.flush()
            lessons = list(course.lessons)
            done = len(lessons) if rng.random() < 0.55 else rng.randint(0, len(lessons) - 1)
            for i, lesson in enumerate(lessons[:done]):
                # Completed lessons were studied for at least their minimum (docs/STUDY-TIME.md).
                seconds = max(progress.required_seconds(lesson), lesson.minutes * 50)
                db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, seconds_spent=seconds,
                                              last_beat_at=enrolled + timedelta(days=i + 1),
                                              completed_at=enrolled + timedelta(days=i + 1)))
            db.session.flush()
            if done == len(lessons):
                finished = enrolled + timedelta(days=len(lessons))
                progress._maybe_complete_course(enrollment, finished)
                course_quiz = quiz.active_quiz(course)
                if course_quiz is not None and rng.random() < 0.85:
                    _take_quiz(rng, enrollment, course_quiz, finished + timedelta(hours=1))
            count += 1
    return count


def _take_quiz(rng, enrollment, course_quiz, when) -> None:
    """Sit a course's quiz as a worker would (a fresh paper each time) until it is passed or the
    retries run out; grading a pass completes the course, credits its 学时 and issues the certificate."""
    from .exams import assembly, attempts, qtypes
    from .exams.models import Attempt, AttemptAnswer

    blueprint, candidates = assembly.blueprint_dict(course_quiz), assembly.candidates_for(course_quiz)
    skill = rng.uniform(0.55, 1.0)
    for n in range(course_quiz.max_attempts or 3):
        seed = rng.getrandbits(40)
        paper = assembly.assemble(blueprint, candidates, seed)
        started = when + timedelta(days=n)
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
        attempts.finish(attempt, started + timedelta(minutes=min(15, course_quiz.duration_minutes)))
        if attempt.passed:
            return


def _trainings(rng, now, learners, courses) -> int:
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    bases = db.session.scalars(select(TrainingBase).order_by(TrainingBase.id)).all()
    trainers = db.session.scalars(select(Trainer).order_by(Trainer.id)).all()
    organisers = [u for u in units.values() if u.level in ("city", "district", "street")]
    count = 0
    for organiser in sorted(organisers, key=lambda u: u.path):
        for title in CLASS_TITLES[organiser.level]:
            first = now - timedelta(days=rng.randint(30, 200), hours=rng.randint(0, 5))
            first = first.replace(hour=1 + rng.choice((0, 5)), minute=0, second=0)  # 09:00 or 14:00 Beijing time
            training = Training(title=title.format(unit=organiser.name), level=organiser.level, org_unit=organiser,
                                audience_unit=organiser, capacity=rng.choice((40, 60, 80)), status="open",
                                registration_deadline=first - timedelta(days=2), lock_version=0,
                                description="本期培训采用**专题讲授 + 案例研讨 + 现场教学**相结合的方式。",
                                course_id=rng.choice(courses).id if courses and rng.random() < 0.5 else None)
            training.trainers = rng.sample(trainers, k=min(2, len(trainers)))
            db.session.add(training)
            db.session.flush()
            sessions = []
            for week in range(3):
                start = first + timedelta(weeks=week)
                base = rng.choice(bases) if bases and rng.random() < 0.7 else None
                sessions.append(
                    rules.new_session(
                        training,
                        starts_at=start,
                        ends_at=start + timedelta(hours=3),
                        credit_hours=Decimal("3"),
                        place_kind="base" if base else "text",
                        base=base,
                        place_text="" if base else f"{organiser.name}党群服务中心",
                    )
                )
            audience = [u for u in learners if organiser.contains(u.org_unit)]
            records = []
            for user in rng.sample(audience, k=min(len(audience), training.capacity - rng.randint(0, 10))):
                db.session.add(Registration(training_id=training.id, user_id=user.id, status="registered",
                                            source="assigned", created_at=first - timedelta(days=5)))
                for session in sessions:
                    if session.ends_at > now:
                        continue
                    status = rng.choices(("present", "late", "excused", "absent"), weights=(82, 7, 4, 7))[0]
                    records.append((session, user, status))
                    count += 1
            _write_attendance(records)
            for session in sessions:
                if session.ends_at <= now:
                    session.closed_at = session.ends_at + timedelta(minutes=5)
    db.session.flush()
    return count


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


def _mock_exams(rng, now, learners) -> int:
    from .exams import assembly, attempts, qtypes
    from .exams.models import Attempt, AttemptAnswer, Exam

    exams = [e for e in db.session.scalars(select(Exam).where(Exam.active.is_(True), Exam.kind == "mock"))
             if e.subject.level == "junior"]
    count = 0
    for exam in exams:
        try:
            candidates = assembly.candidates_for(exam)
            blueprint = assembly.blueprint_dict(exam)
            assembly.assemble(blueprint, candidates, 1)
        except assembly.AssemblyError:
            continue
        for user in rng.sample(learners, k=min(len(learners), 60)):
            seed = rng.getrandbits(40)
            paper = assembly.assemble(blueprint, candidates, seed)
            started = now - timedelta(days=rng.randint(1, 150), hours=rng.randint(0, 8))
            attempt = Attempt(user_id=user.id, exam_id=exam.id, seed=seed, paper=paper, started_at=started,
                              deadline_at=started + timedelta(minutes=exam.duration_minutes), status="in_progress",
                              max_score=Decimal(100))
            db.session.add(attempt)
            db.session.flush()
            skill = rng.uniform(0.45, 0.9)
            for key, item in paper["items"].items():
                if rng.random() < 0.05:
                    continue  # left blank
                response = qtypes.get(item["type"]).sample_response(item, rng.random() < skill, rng)
                db.session.add(AttemptAnswer(attempt_id=attempt.id, item=key, response=response, seq=1,
                                             saved_at=started + timedelta(minutes=30)))
            db.session.flush()
            attempts.finish(attempt, started + timedelta(minutes=exam.duration_minutes - rng.randint(0, 30)))
            count += 1
    return count
