"""The readiness calibration kept in the database (lms/prep/readiness.py, prep_calibration): made by the periodic
work (lms/tasks/periodic.py) and `flask prep-rebuild`, read by the pages in one statement without replaying the
mock exams sat, made once by the first page that finds none, and never served for other settings."""
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from lms.exams.models import Attempt, Exam, ExamSubject, Question
from lms.extensions import db
from lms.prep import readiness
from lms.prep.models import GradedAnswer, PrepCalibration
from lms.tasks import periodic

from .conftest import login
from .querycount import count_queries
from .test_prep_readiness import _bank, _estimates

NOW = datetime(2026, 6, 15, 2, 0)
TOPICS = ("伦理", "理论", "方法")   # tests/test_mock_exams.py make_bank's


def junior() -> ExamSubject:
    return db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))


def mock_results(world, subject: ExamSubject, exam: Exam, names, start: datetime) -> None:
    """Each worker: 8 practice answers on each topic three days before `start`, then a graded full mock attempt
    started at `start` (every other one passed): one (chance given, passed) pair each."""
    qid = db.session.scalar(select(Question.id).where(Question.subject_id == subject.id).limit(1))
    for i, name in enumerate(names):
        db.session.execute(insert(GradedAnswer), [
            {"user_id": world[name], "question_id": qid, "subject_id": subject.id, "topic": t, "difficulty": 1 + k % 3,
             "source": "practice", "credit": 1.0 if (k + i) % 4 else 0.0,
             "answered_at": start - timedelta(days=3, minutes=-k)} for t in TOPICS for k in range(8)])
        passed = i % 2 == 0
        db.session.add(Attempt(user_id=world[name], exam_id=exam.id, seed=1, paper={}, started_at=start,
                               deadline_at=start + timedelta(hours=2), status="graded", max_score=Decimal(100),
                               score=Decimal(70 if passed else 40), passed=passed))
    db.session.flush()


def kept_row(exam_id: int) -> PrepCalibration | None:
    db.session.expire_all()
    return db.session.scalar(select(PrepCalibration).where(PrepCalibration.exam_id == exam_id,
                                                           PrepCalibration.settings_key == readiness.current_key()))


@pytest.fixture
def few_pairs(app):
    """Calibrate from 4 pairs (the tests' histories are small)."""
    saved = app.config["PREP_CALIBRATION_MIN"]
    app.config["PREP_CALIBRATION_MIN"] = 4
    yield 4
    app.config["PREP_CALIBRATION_MIN"] = saved


def test_the_periodic_work_stores_the_calibration_and_makes_it_again_once_old(ctx, app, world, clock, few_pairs):
    clock.set(NOW)
    subject = junior()
    exam = _bank(subject)
    mock_results(world, subject, exam, ("worker_a", "worker_b", "worker_c", "worker_d"), NOW - timedelta(days=1))
    assert periodic.calibration_due(app, NOW)
    app.config["PREP_CALIBRATION_MAX_AGE"] = 0           # 0: the periodic work never makes it
    try:
        assert not periodic.calibration_due(app, NOW)
    finally:
        app.config["PREP_CALIBRATION_MAX_AGE"] = 60
    assert kept_row(exam.id) is None
    periodic.calibrations.call_local()                   # the periodic task's body, as a consumer runs it
    row = kept_row(exam.id)
    expected = readiness.make(exam, readiness.paper_of(exam), NOW)
    assert row is not None and row.computed_at == NOW and row.fitted and row.pairs == 4
    assert (row.a, row.b) == pytest.approx((expected.a, expected.b))
    assert readiness.stored(exam.id, readiness.current_key()) == expected   # bins, error and all

    # A new mock result: not counted until the stored calibration is PREP_CALIBRATION_MAX_AGE minutes old.
    mock_results(world, subject, exam, ("trainer",), NOW + timedelta(minutes=1))
    clock.set(NOW + timedelta(minutes=59))
    assert periodic.refresh_calibrations() == 0
    assert kept_row(exam.id).pairs == 4
    clock.set(NOW + timedelta(minutes=60))
    assert periodic.refresh_calibrations() == 1
    row = kept_row(exam.id)
    assert row.pairs == 5 and row.computed_at == NOW + timedelta(minutes=60)
    assert db.session.scalars(select(PrepCalibration.id).where(PrepCalibration.exam_id == exam.id)).all() == [row.id]


def test_prep_rebuild_makes_every_calibration_at_once(app, world, clock, tx, few_pairs):
    clock.set(NOW)
    with app.app_context():
        subject = junior()
        exam = _bank(subject)
        mock_results(world, subject, exam, ("worker_a", "worker_b", "worker_c", "worker_d"), NOW - timedelta(days=1))
        db.session.commit()
        exam_id = exam.id
    result = app.test_cli_runner().invoke(args=["prep-rebuild"])
    assert result.exit_code == 0, result.output
    assert "readiness calibrations made: " in result.output
    with app.app_context():
        row = kept_row(exam_id)
        assert row is not None and row.pairs == 4 and row.fitted and row.computed_at == NOW


def replays(statements) -> list[str]:
    """The statements of history_pairs: the mock attempts sat and the graded answers replayed."""
    return [s for s in statements if re.search(r"\bFROM attempt\b|\bgraded_answer\b", s)]


def _page(app, client, subject_id: int):
    with count_queries(app) as statements:
        html = client.get(f"/prep/subjects/{subject_id}").get_data(as_text=True)
    return html, statements


def test_a_page_reads_the_stored_calibration_without_replaying_the_history(app, client, world, clock, few_pairs):
    clock.set(NOW)
    with app.app_context():
        subject = junior()
        exam = _bank(subject)
        mock_results(world, subject, exam, ("worker_b", "worker_c", "worker_d", "trainer"), NOW - timedelta(days=1))
        _estimates(world["worker_a"], subject.id, {"伦理": (0.8, 20, 4.0), "理论": (0.5, 12, 2.5),
                                                   "方法": (0.2, 6, 1.2)})
        # A calibration the history could not give (123 pairs): the page shows what is stored.
        stored = readiness.Calibration(0.5, 1.0, 123, True, (readiness.Bin(0.4, 0.6, 123, 0.5, 0.5),), 0.01,
                                       NOW - timedelta(minutes=30))
        readiness.keep(exam.id, readiness.current_key(), stored)
        db.session.commit()
        subject_id, exam_id = subject.id, exam.id
    login(client, "worker_a")
    client.get(f"/prep/subjects/{subject_id}")        # a first visit (the session's first use) is not measured
    html, statements = _page(app, client, subject_id)
    calibration = html.split('id="readiness-calibration"')[1].split("</p>")[0]
    assert "已用 123 次" in calibration
    with app.app_context():
        got = readiness.assess(world["worker_a"], db.session.get(ExamSubject, subject_id)).readiness
    assert got.calibrated and got.pairs == 123
    assert f"{got.percent}%" in html.split('id="readiness-figure"')[1].split("</p>")[0]
    assert sum(1 for s in statements if "prep_calibration" in s) == 1, statements.report()
    assert not replays(statements), statements.report()

    # None stored (a fresh install): the page makes it (replaying the mock exams sat) once per process and
    # writes nothing (a GET never does); the periodic work stores it.
    with app.app_context():
        readiness.forget_calibrations()
        db.session.commit()
    html, statements = _page(app, client, subject_id)
    assert replays(statements), statements.report()
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert "已用 4 次" in html.split('id="readiness-calibration"')[1].split("</p>")[0]
    _html, statements = _page(app, client, subject_id)
    assert not replays(statements), statements.report()
    with app.app_context():
        assert kept_row(exam_id) is None
        periodic.calibrations.call_local()
        row = kept_row(exam_id)
        assert row is not None and row.pairs == 4 and row.computed_at == NOW


def test_changed_settings_are_not_served_a_calibration_made_with_others(ctx, app, world, clock):
    clock.set(NOW)
    subject = junior()
    exam = _bank(subject)
    paper = readiness.paper_of(exam)
    old_key = readiness.current_key()
    readiness.keep(exam.id, old_key, readiness.Calibration(0.5, 1.0, 123, True, (), 0.01, NOW))
    assert readiness.calibration_for(exam, paper).pairs == 123
    for name, value in (("PREP_CALIBRATION_MIN", 41), ("PREP_ELO_K", 0.7), ("PREP_MIN_EVIDENCE", 6),
                        ("PREP_READINESS_COVERAGE", 90), ("PREP_DIFFICULTY_LOGITS", [-1.5, 0.0, 1.5])):
        saved = app.config[name]
        app.config[name] = value
        try:
            key = readiness.current_key()
            assert key != old_key, name
            got = readiness.calibration_for(exam, paper)      # made with these settings (no mock results: none)
            assert got.pairs == 0 and not got.fitted, name
            assert readiness.stored(exam.id, key) == got, name  # and stored under them
        finally:
            app.config[name] = saved
    assert readiness.current_key() == old_key and readiness.calibration_for(exam, paper).pairs == 123
