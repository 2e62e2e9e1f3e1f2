"""End-of-course quizzes (课后测验): a course with a quiz completes, credits its 学时 and issues its
certificate only when the quiz is passed; fail → retry with a fresh paper → pass; retries run out
and an office in scope allows one more; the certificate says what actually happened."""
import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.exams import attempts, qtypes
from lms.exams.models import Attempt, Exam, ExamSubject
from lms.extensions import db
from lms.learning import certificates, progress, quiz
from lms.learning.importer import CourseFileError, import_courses
from lms.learning.models import Course, Credit, Enrollment

from .conftest import login, post_form
from .study import complete, make_course, study_all_lessons, user
from .test_mock_exams import make_bank, token_of

pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed: "
                                                                     ".ci/run installs it")


def subject(code="junior-general") -> ExamSubject:
    return db.session.scalar(select(ExamSubject).where(ExamSubject.code == code))


def quiz_course(retries=1, questions=6, pass_percent=60, slug="quiz-course") -> Course:
    """A published two-lesson course whose quiz draws from the synthetic bank's topic 伦理."""
    course = make_course(slug=slug)
    quiz.set_quiz(course, quiz.QuizSettings(subject=subject(), topics=["伦理"], questions=questions,
                                            pass_percent=pass_percent, retries=retries))
    return course


def answer_all(attempt: Attempt, right: bool) -> None:
    """Save a response to every item: the right one, or a wrong one."""
    for key, item in attempt.paper["items"].items():
        attempts.save(attempt, key, qtypes.get(item["type"]).sample_response(item, right), 1)


def credits(user_id: int, course: Course) -> list[Credit]:
    return db.session.scalars(select(Credit).where(Credit.user_id == user_id, Credit.source == "course",
                                                   Credit.source_id == course.id)).all()


# --- the domain ---------------------------------------------------------------------------------

def test_a_course_with_a_quiz_completes_only_when_the_quiz_is_passed(ctx, world):
    make_bank()
    course = quiz_course(retries=1)
    worker = user("worker_a")
    progress.enroll(worker, course)
    enrollment = progress.enrollment_for(worker, course)
    complete(worker, course.lessons[0])
    with pytest.raises(quiz.QuizError, match="必修课节|required lesson"):
        quiz.start(enrollment)  # the quiz opens only after the lessons

    assert study_all_lessons(worker, course) is False  # every lesson done: still not complete
    assert enrollment.completed_at is None and credits(worker.id, course) == []
    assert certificates.for_enrollment(enrollment) is None

    first = quiz.start(enrollment)
    assert first.exam.kind == "course" and first.exam.course_id == course.id
    assert {i["topic"] for i in first.paper["items"].values()} == {"伦理"}  # drawn from the course's topics only
    answer_all(first, right=False)
    attempts.finish(first)
    assert first.passed is False and enrollment.completed_at is None and credits(worker.id, course) == []
    st = quiz.state(enrollment)
    assert st.left == 1 and st.can_start and not st.exhausted

    second = quiz.start(enrollment)
    assert second.id != first.id and second.seed != first.seed
    assert [i["qid"] for i in second.paper["items"].values()] != [i["qid"] for i in first.paper["items"].values()]
    answer_all(second, right=True)
    attempts.finish(second)
    assert second.passed is True and enrollment.completed_at is not None
    [credit] = credits(worker.id, course)
    assert credit.hours == course.credit_hours
    cert = certificates.for_enrollment(enrollment)
    assert cert.achievement == "完成学习并通过课后测验（成绩 100 分）"

    # Nothing completes twice: more lessons or grades change no record.
    assert progress._maybe_complete_course(enrollment) is False
    assert progress.complete_lesson(worker, course.lessons[0]) is False
    assert len(credits(worker.id, course)) == 1
    with pytest.raises(quiz.QuizError):
        quiz.start(enrollment)  # passed: no more attempts


def test_a_quiz_left_open_and_passed_is_graded_at_its_deadline_and_completes_the_course(ctx, world):
    make_bank()
    course = quiz_course()
    worker = user("worker_b")
    study_all_lessons(worker, course)
    enrollment = progress.enrollment_for(worker, course)
    attempt = quiz.start(enrollment)
    answer_all(attempt, right=True)
    assert attempts.finish_expired(attempt.deadline_at + timedelta(seconds=1)) == 1  # the sweeper
    assert attempt.passed and enrollment.completed_at == attempt.deadline_at
    assert "通过课后测验" in certificates.for_enrollment(enrollment).achievement


def test_a_course_without_a_quiz_says_only_that_it_was_studied(ctx, world):
    course = make_course(slug="plain")
    worker = user("worker_a")
    assert study_all_lessons(worker, course) is True
    cert = certificates.for_enrollment(progress.enrollment_for(worker, course))
    assert cert.achievement == "完成学习"
    assert "经考核合格" not in certificates.statement(cert) and "课后测验" not in certificates.statement(cert)


def test_quiz_settings_are_checked_against_the_bank(ctx):
    make_bank()
    course = make_course()
    junior = subject()
    with pytest.raises(quiz.QuizError, match="没有|no topic"):
        quiz.set_quiz(course, quiz.QuizSettings(junior, ["不存在的知识点"], 5, 60, 1))
    with pytest.raises(quiz.QuizError, match="50"):
        quiz.set_quiz(course, quiz.QuizSettings(junior, ["伦理"], 80, 60, 1))
    with pytest.raises(quiz.QuizError, match="需要|needs"):
        quiz.set_quiz(course, quiz.QuizSettings(junior, ["伦理"], 40, 60, 1))  # the topic has 35 questions
    exam = quiz.set_quiz(course, quiz.QuizSettings(junior, ["伦理", "方法"], 20, 70, None))
    assert sum(s["count"] for s in exam.sections) == 20 and exam.max_attempts is None
    assert {s["type"] for s in exam.sections} == {"single", "multiple", "judge"}
    assert exam.pass_score == (exam.total_points * 70 / 100).quantize(Decimal("0.1"))
    assert quiz.settings_of(exam) == quiz.QuizSettings(junior, ["伦理", "方法"], 20, 70, None)
    assert quiz.sections_for(10, {"single": 2, "multiple": 9}) == [
        {"type": "single", "count": 2, "points": 1},
        {"type": "multiple", "count": 8, "points": 2, "partial_points": 0.5},
    ]


# --- through the web ---------------------------------------------------------------------------------

def _setup(app, retries=1):
    with app.app_context():
        make_bank()
        course = quiz_course(retries=retries)
        worker = user("worker_a")
        study_all_lessons(worker, course)
        db.session.commit()
        return course.id


def _start(client, course_id) -> int:
    r = post_form(client, f"/learn/courses/{course_id}/quiz/start", page=f"/learn/courses/{course_id}")
    assert r.status_code == 302 and "/mock/attempts/" in r.location, r.location
    return int(r.location.rsplit("/", 1)[1])


def _sit(app, client, attempt_id, right: bool):
    """Answer through the autosave API as exam.js does, then submit the form."""
    with app.app_context():
        paper = db.session.get(Attempt, attempt_id).paper
    token = token_of(client)
    saves = []
    for seq, (key, item) in enumerate(paper["items"].items(), start=1):
        saves.append({"item": key, "response": qtypes.get(item["type"]).sample_response(item, right), "seq": seq})
    r = client.post(f"/mock/attempts/{attempt_id}/answers", json={"answers": saves}, headers={"X-CSRFToken": token})
    assert r.status_code == 200 and not r.json["rejected"]
    return post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")


def test_fail_then_retry_with_a_new_paper_then_pass_gives_the_certificate(app, client, world):
    course_id = _setup(app, retries=1)
    login(client, "worker_a")
    page = client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    assert 'id="start-quiz"' in page and 'id="certificate"' not in page

    first = _start(client, course_id)
    take = client.get(f"/mock/attempts/{first}").get_data(as_text=True)
    with app.app_context():
        paper = db.session.get(Attempt, first).paper
    for item in paper["items"].values():  # nothing of the key or the explanations before submission
        assert item["explanation"] not in take
    assert '"answer"' not in take and "解析" not in take
    assert _start(client, course_id) == first  # starting again resumes the open sitting

    r = _sit(app, client, first, right=False)
    result = client.get(r.location).get_data(as_text=True)
    assert 'id="quiz-outcome"' in result and "解析" in result  # after submission: the explanations
    page = client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    assert 'id="quiz-failed"' in page and "0 分" in page and 'id="certificate"' not in page
    assert "重新测验" in page or "换一套新题" in page

    second = _start(client, course_id)
    assert second != first
    _sit(app, client, second, right=True)
    page = client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    assert 'id="quiz-passed"' in page and 'id="completed"' in page and 'id="certificate"' in page
    with app.app_context():
        enrollment = db.session.scalar(select(Enrollment).where(Enrollment.course_id == course_id,
                                                                Enrollment.user_id == world["worker_a"]))
        assert enrollment.completed_at is not None
        assert len(credits(world["worker_a"], db.session.get(Course, course_id))) == 1
        cert = certificates.for_enrollment(enrollment)
    cert_page = client.get(f"/learn/certificates/{enrollment.id}").get_data(as_text=True)
    assert "完成学习并通过课后测验（成绩 100 分）" in cert_page
    stranger = app.test_client()
    login(stranger, "worker_b")
    assert stranger.get(f"/learn/certificates/{enrollment.id}").status_code == 404
    public = app.test_client().get(f"/learn/verify/{cert.code}").get_data(as_text=True)
    assert "完成学习并通过课后测验（成绩 100 分）" in public and "经考核合格" not in public


def test_retries_exhausted_then_an_office_in_scope_allows_one_more(app, client, world):
    course_id = _setup(app, retries=0)
    login(client, "worker_a")
    _sit(app, client, _start(client, course_id), right=False)
    page = client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    assert 'id="quiz-exhausted"' in page and "培训办" in page and 'id="start-quiz"' not in page
    r = post_form(client, f"/learn/courses/{course_id}/quiz/start", page=f"/learn/courses/{course_id}")
    assert "已用完" in client.get(r.location).get_data(as_text=True)
    with app.app_context():
        enrollment_id = db.session.scalar(select(Enrollment.id).where(Enrollment.course_id == course_id,
                                                                      Enrollment.user_id == world["worker_a"]))
        assert db.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.user_id == world["worker_a"])) == 1

    url = f"/learn/enrollments/{enrollment_id}/quiz/grant"
    page_of_worker = f"/learn/progress/{world['worker_a']}"
    assert post_form(client, url, page=f"/learn/courses/{course_id}").status_code == 403  # the worker
    other = app.test_client()
    login(other, "office_d2")  # another district
    assert post_form(other, url, page="/learn/mine").status_code == 404
    office = app.test_client()
    login(office, "office_d1")
    record = office.get(page_of_worker).get_data(as_text=True)
    assert "grant-attempt" in record and "次机会已用完" in record
    r = post_form(office, url, page=page_of_worker)
    assert r.status_code == 302
    assert "grant-attempt" not in office.get(page_of_worker).get_data(as_text=True)

    page = client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    assert 'id="start-quiz"' in page
    _sit(app, client, _start(client, course_id), right=True)
    assert 'id="certificate"' in client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    # Granting again is refused: the worker has passed.
    post_form(office, url, page=page_of_worker)
    with app.app_context():
        assert db.session.get(Enrollment, enrollment_id).extra_quiz_attempts == 1


def test_a_course_quiz_is_not_a_mock_exam(app, client, world):
    course_id = _setup(app)
    with app.app_context():
        exam_id = db.session.scalar(select(Exam.id).where(Exam.course_id == course_id))
    login(client, "worker_a")
    assert f"/mock/exams/{exam_id}/start" not in client.get("/mock/").get_data(as_text=True)
    assert post_form(client, f"/mock/exams/{exam_id}/start", page="/mock/").status_code == 404
    other = app.test_client()
    login(other, "worker_b")  # not enrolled
    assert (
        post_form(other, f"/learn/courses/{course_id}/quiz/start", page=f"/learn/courses/{course_id}").status_code
        == 404
    )


# --- setting the quiz ------------------------------------------------------------------------------------

def test_a_trainer_sets_the_quiz_in_the_course_editor(app, client, world):
    with app.app_context():
        make_bank()
        make_bank("mid-law", singles=8, multiples=2, judges=1)
        course = make_course(slug="editor-course")
        course.status = "draft"
        course.created_by_id = world["trainer"]
        junior, law = subject().id, subject("mid-law").id
        db.session.commit()
        course_id = course.id
    login(client, "trainer")
    edit = f"/learn/courses/{course_id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'id="quiz-form"' in page and f'value="{junior}|伦理"' in page
    r = post_form(client, f"/learn/courses/{course_id}/quiz", {
        "quiz-enabled": "y", "quiz-topics": [f"{junior}|伦理", f"{law}|伦理"], "quiz-questions": "10",
        "quiz-pass_percent": "60"}, page=edit)
    assert "只能选择同一科目" in r.get_data(as_text=True)
    r = post_form(
        client,
        f"/learn/courses/{course_id}/quiz",
        {"quiz-enabled": "y", "quiz-topics": [f"{junior}|伦理"], "quiz-questions": "45", "quiz-pass_percent": "60"},
        page=edit,
    )
    assert "测验需要 45 道" in r.get_data(as_text=True)
    r = post_form(client, f"/learn/courses/{course_id}/quiz", {
        "quiz-enabled": "y", "quiz-topics": [f"{junior}|伦理", f"{junior}|方法"], "quiz-questions": "12",
        "quiz-pass_percent": "80", "quiz-retries": "2"}, page=edit)
    assert r.status_code == 302
    with app.app_context():
        exam = db.session.scalar(select(Exam).where(Exam.course_id == course_id))
        assert (exam.kind, exam.topics, exam.pass_percent, exam.max_attempts) == ("course", ["伦理", "方法"], 80, 3)
        assert sum(s["count"] for s in exam.sections) == 12
    page = client.get(edit).get_data(as_text=True)
    assert re.search(rf'<option selected value="{junior}\|伦理"|<option value="{junior}\|伦理" selected', page)
    r = post_form(
        client, f"/learn/courses/{course_id}/quiz", {"quiz-questions": "12", "quiz-pass_percent": "80"}, page=edit
    )
    assert r.status_code == 302
    with app.app_context():
        assert quiz.active_quiz(db.session.get(Course, course_id)) is None


def test_course_files_carry_their_quiz_and_a_bad_one_imports_nothing(ctx, tmp_path):
    make_bank()
    folder = tmp_path / "quiz-course"
    folder.mkdir()
    front = "---\ntitle: 伦理课\nsummary: s\ncategory: 政策理论\ncredit_hours: 1\n{quiz}---\n介绍"
    (folder / "01-a.md").write_text("---\ntitle: 第一讲\nminutes: 45\n---\n正文", "utf-8")
    (folder / "course.md").write_text(
        front.format(quiz="quiz:\n  subject: junior-general\n  topics: [不存在]\n"), "utf-8"
    )
    with pytest.raises(CourseFileError, match="quiz"):
        import_courses(tmp_path)
    (folder / "course.md").write_text(front.format(quiz="quiz:\n  subject: junior-general\n  topics: [伦理]\n"
                                                        "  questions: ten\n"), "utf-8")
    with pytest.raises(CourseFileError, match="questions"):
        import_courses(tmp_path)
    (folder / "course.md").write_text(front.format(
        quiz="quiz:\n  subject: 社会工作综合能力(初级)\n  topics: [伦理]\n  questions: 5\n  pass_percent: 80\n"
             "  retries: unlimited\n"), "utf-8")
    assert import_courses(tmp_path).created == 1
    course = db.session.scalar(select(Course).where(Course.slug == "quiz-course"))
    assert quiz.settings_of(course.quiz) == quiz.QuizSettings(subject(), ["伦理"], 5, 80, None)
    assert import_courses(tmp_path).unchanged == 1
    (folder / "course.md").write_text(front.format(quiz=""), "utf-8")
    assert import_courses(tmp_path).updated == 1 and quiz.active_quiz(course) is None


def test_shipped_courses_with_a_quiz_draw_from_the_shipped_bank(ctx):
    from lms.exams.bank_io import import_shipped_bank

    import_shipped_bank()
    import_courses(Path(__file__).resolve().parent.parent / "courses")
    quizzes = db.session.scalars(select(Exam).where(Exam.kind == "course")).all()
    assert len(quizzes) >= 2
    for exam in quizzes:
        for seed in (1, 2, 3):
            paper = attempts.prepare(exam, seed)[1]
            assert len(paper["items"]) == sum(s["count"] for s in exam.sections)
            assert {i["topic"] for i in paper["items"].values()} <= set(exam.topics)


# --- the certificate PDF ---------------------------------------------------------------------------------

@pdftotext
@pytest.mark.parametrize("with_quiz", [True, False])
def test_the_certificate_pdf_says_what_was_assessed_in_an_embedded_font(app, client, world, tmp_path, with_quiz):
    with app.app_context():
        make_bank()
        course = quiz_course() if with_quiz else make_course(slug="plain")
        worker = user("worker_a")
        study_all_lessons(worker, course)
        enrollment = progress.enrollment_for(worker, course)
        if with_quiz:
            attempt = quiz.start(enrollment)
            answer_all(attempt, right=True)
            attempts.finish(attempt)
        db.session.commit()
        enrollment_id = enrollment.id
    login(client, "worker_a")
    r = client.get(f"/learn/certificates/{enrollment_id}.pdf")
    assert r.status_code == 200 and r.data[:5] == b"%PDF-"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(r.data)
    text = "".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "结业证书" in text and "东一一甲同志" in text and "社区伦理实务" in text
    assert "经考核合格" not in text
    if with_quiz:
        assert "完成学习并通过课后测验（成绩100分）" in text
    else:
        assert "完成学习" in text and "课后测验" not in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split() for line in fonts[2:]]
    assert rows and all(row[-5] == "yes" for row in rows), fonts  # the "emb" column: every font embedded
    assert any("WenQuanYi" in row[0] for row in rows)
