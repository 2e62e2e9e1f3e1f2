"""Exam preparation, part M (issue 16 points 1–2): the worker's subject page and /prep/, today's
recommendations (lms/prep/recommend.py) on hand-made histories, the exam topics of courses and lessons,
and `prep-rebuild --backfill`."""
import itertools
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import delete, select

from lms.exams import attempts
from lms.exams.bank_io import import_shipped_bank
from lms.exams.models import ExamSubject, Mistake, Question
from lms.extensions import db
from lms.learning import courses as course_domain
from lms.learning import importer, progress
from lms.learning.models import Course, Lesson
from lms.prep import backfill, mastery, readiness, recommend, review
from lms.prep.models import GradedAnswer, PrepPlan, TopicMastery

from .conftest import login, post_form
from .study import complete, make_course, user
from .test_mock_exams import make_bank, right, small_exam, worker

ROOT = Path(__file__).resolve().parent.parent
JUNIOR = "junior-general"
SERIAL = itertools.count(1)
MEDIUM = 2


def junior() -> ExamSubject:
    return db.session.scalar(select(ExamSubject).where(ExamSubject.code == JUNIOR))


def answered(username: str, topic: str, credits: list[float], difficulty: int = MEDIUM, subject=None) -> None:
    """Graded answers on one topic, one at a time, through the model's own record() (the log and the rows)."""
    subject = subject or junior()
    learner = user(username)
    for credit in credits:
        q = Question(external_id=f"hist-{next(SERIAL)}", subject=subject, topic=topic, type="single",
                     status="draft", difficulty=difficulty, stem="历史题",
                     options=[{"key": k, "text": k} for k in "ABCD"], answer=["A"])
        db.session.add(q)
        db.session.flush()
        mastery.record(learner.id, [mastery.Evidence(q.id, subject.id, topic, difficulty, credit)], "practice")


def history(app, username="worker_a"):
    """A hand-made history on the 初级 综合能力: three settled topics and one with two answers."""
    with app.app_context():
        answered(username, "个案工作", [0, 0, 1, 0, 0, 0])          # weak
        answered(username, "小组工作", [1, 1, 1, 0, 1, 1, 1])       # strong
        answered(username, "社区工作", [1, 0, 1, 0, 1])              # middling, just settled
        answered(username, "社会工作理论", [0, 0])                   # two answers: not settled
        db.session.commit()
        return junior().id


def rows_of(html: str, table: str) -> list[dict]:
    body = html.split(f'id="{table}"')[1].split("</table>")[0]
    out = []
    for tr in re.findall(r'<tr data-topic="([^"]+)">(.*?)</tr>', body, re.S):
        cells = dict(re.findall(r'data-col="(\w+)">([^<]*)<', tr[1]))
        out.append({"topic": tr[0], **cells})
    return out


# --- the subject page ---------------------------------------------------------------------------------

def test_the_subject_page_shows_the_settled_topics_weakest_first_with_the_numbers_of_the_rows(app, client, world,
                                                                                              clock):
    clock.set(datetime(2026, 3, 10, 2, 0))
    subject_id = history(app)
    login(client, "worker_a")
    html = client.get(f"/prep/subjects/{subject_id}").get_data(as_text=True)
    table = rows_of(html, "mastery-table")
    with app.app_context():
        params = mastery.Params.from_config()
        kept = mastery.of_user(world["worker_a"], subject_id)
        settled = sorted((m for m in kept.values() if m.evidence >= params.min_evidence), key=lambda m: m.theta)
        expected = []
        for m in settled:
            se = mastery.standard_error(m.information)
            low, high = mastery.percent(m.theta - se, params), mastery.percent(m.theta + se, params)
            expected.append({"topic": m.topic, "percent": f"{mastery.percent(m.theta, params)}%",
                             "band": f"±{round((high - low) / 2)}", "evidence": f"依据 {m.evidence} 题",
                             "last": "2026-03-10"})
    assert [r["topic"] for r in table] == ["个案工作", "社区工作", "小组工作"]
    assert table == expected
    # the chart draws the same bars in the same order, with the same numbers
    chart = html.split('id="mastery-chart"')[1].split("</svg>")[0]
    bars = re.findall(r'<g class="bar" data-label="([^"]+)" data-value="([^"]+)"', chart)
    assert [(label, f"{value}%") for label, value in bars] == [(r["topic"], r["percent"]) for r in expected]
    # a topic with two answers is listed apart, with what would settle it; one never answered too
    unsettled = html.split('id="unsettled"')[1].split("</ul>")[0]
    assert "社会工作理论" in unsettled and "依据 2 题" in unsettled and "再答 3 题即可评估" in unsettled
    assert "社会工作督导" in unsettled and "尚未作答" in unsettled
    assert "社会工作理论" not in html.split('id="mastery-table"')[1].split("</table>")[0]
    # readiness (lms/prep/readiness.py): three topics settled of the subject's many, so no figure, and why
    with app.app_context():
        assessment = readiness.assess(world["worker_a"], db.session.get(ExamSubject, subject_id))
    section = html.split('id="readiness"')[1].split("</section>")[0]
    assert assessment.readiness is None and 'id="readiness-figure"' not in section
    assert str(escape(assessment.reason)) in section


def test_a_worker_sees_only_their_own_estimates(app, client, world, clock):
    subject_id = history(app, "worker_b")   # worker_b's history; worker_a has none
    login(client, "worker_a")
    html = client.get(f"/prep/subjects/{subject_id}").get_data(as_text=True)
    assert 'id="mastery-table"' not in html and 'id="no-settled"' in html and "依据 6 题" not in html
    index = client.get("/prep/").get_data(as_text=True)
    assert "还没有已评分的作答" in index.split(f'id="prep-subject-{subject_id}"')[1].split("</div>\n  </div>")[0]
    assert client.get("/prep/subjects/999999").status_code == 404
    client = app.test_client()
    login(client, "worker_b")
    mine = client.get(f"/prep/subjects/{subject_id}").get_data(as_text=True)
    assert [r["topic"] for r in rows_of(mine, "mastery-table")] == ["个案工作", "社区工作", "小组工作"]
    index = client.get("/prep/").get_data(as_text=True)
    assert "已掌握 1 / 3 个知识点，另有 1 个证据不足；依据 20 题。" in index and "最弱：个案工作" in index


def test_the_prep_pages_need_a_login(client, world):
    assert client.get("/prep/").status_code == 302
    assert client.get("/prep/subjects/1").status_code == 302


# --- what to do next ------------------------------------------------------------------------------------

def questions(subject: ExamSubject, topic: str, n: int) -> list[Question]:
    made = [Question(external_id=f"rec-{topic}-{i}", subject=subject, topic=topic, type="single", difficulty=2,
                     stem=f"{topic}练习题{i}", status="active", options=[{"key": k, "text": k} for k in "ABCD"],
                     answer=["A"], explanation="解析") for i in range(n)]
    db.session.add_all(made)
    db.session.flush()
    return made


def prepare(app, world, username="worker_a"):
    """worker_a prepares for the 初级 综合能力 and has the hand-made history; the bank has questions on
    the three settled topics; one course teaches 个案工作 (its second lesson names it), one 小组工作."""
    subject_id = history(app, username)
    with app.app_context():
        subject = db.session.get(ExamSubject, subject_id)
        db.session.add(PrepPlan(user_id=world[username], subject_id=subject_id, exam_date=date(2026, 11, 7)))
        questions(subject, "个案工作", 3)
        questions(subject, "小组工作", 30)
        questions(subject, "社区工作", 12)
        casework = make_course(slug="rec-casework", title="个案工作入门", lessons=3)
        casework.topics = ["个案工作"]
        casework.lessons[1].topics = ["个案工作"]
        groups = make_course(slug="rec-groups", title="小组工作入门", lessons=1)
        groups.topics = ["小组工作"]
        db.session.commit()
        return subject_id, [lesson.id for lesson in casework.lessons]


def test_the_weakest_settled_topic_comes_first_and_unsettled_ones_never(app, world, clock, tx):
    clock.set(datetime(2026, 3, 10, 2, 0))
    subject_id, lessons = prepare(app, world)
    with app.app_context():
        recs = recommend.today(world["worker_a"])
        assert [(r.kind, r.standing.topic if r.standing else None) for r in recs] == [
            ("lesson", "个案工作"), ("practice", "个案工作"), ("practice", "社区工作")]
        lesson, practice, nxt = recs
        assert lesson.lesson_id == lessons[1] and lesson.course_title == "个案工作入门"  # the lesson naming it
        assert lesson.standing.evidence == 6 and lesson.standing.percent == mastery.percent(
            mastery.of_user(world["worker_a"], subject_id)["个案工作"].theta, mastery.Params.from_config())
        assert practice.questions == 3 and nxt.questions == 10   # what the bank has, at most PREP_PRACTICE_QUESTIONS
        assert all(r.standing.topic != "社会工作理论" for r in recs if r.standing)  # 2 answers: never recommended
        assert recommend.today(world["worker_a"]) == recs  # the same all day
        # the worker's own course comes first; a completed lesson is skipped
        other = make_course(slug="rec-casework-2", title="个案工作进阶", lessons=2)
        other.topics = ["个案工作"]
        db.session.flush()
        assert recommend.today(world["worker_a"])[0].lesson_id == lessons[1]
        progress.enroll(user("worker_a"), other)
        assert recommend.today(world["worker_a"])[0].lesson_id == other.lessons[0].id
        casework = db.session.get(Lesson, lessons[1])
        progress.enroll(user("worker_a"), casework.course)
        complete(user("worker_a"), casework)
        assert recommend.today(world["worker_a"])[0].lesson_id == lessons[0]
        # without a plan: nothing
        db.session.execute(delete(PrepPlan).where(PrepPlan.user_id == world["worker_a"]))
        assert recommend.today(world["worker_a"]) == []


def test_mistakes_due_today_are_recommended(app, world, clock, tx):
    clock.set(datetime(2026, 3, 10, 2, 0))   # 10:00 in Shanghai
    subject_id, _lessons = prepare(app, world)
    with app.app_context():
        q1, q2, q3 = db.session.scalars(select(Question).where(Question.topic == "小组工作",
                                                               Question.status == "active").limit(3))
        due_tonight = datetime(2026, 3, 10, 15, 30)      # 23:30 in Shanghai: due today
        tomorrow = datetime(2026, 3, 10, 16, 30)         # 00:30 tomorrow in Shanghai
        q4 = db.session.scalars(select(Question).where(Question.topic == "社区工作",
                                                       Question.status == "active").limit(1)).one()
        wrong = datetime(2026, 3, 5)
        db.session.add_all([
            Mistake(user_id=world["worker_a"], question_id=q1.id, wrong_count=1, due_at=due_tonight,
                    last_wrong_at=wrong),
            Mistake(user_id=world["worker_a"], question_id=q2.id, wrong_count=1, due_at=tomorrow, last_wrong_at=wrong),
            Mistake(user_id=world["worker_a"], question_id=q3.id, wrong_count=1, due_at=datetime(2026, 3, 1),
                    cleared_at=datetime(2026, 3, 2), last_wrong_at=wrong),
            # answered wrong an hour ago: due, but today's review does not show it again before 20 hours
            Mistake(user_id=world["worker_a"], question_id=q4.id, wrong_count=1, due_at=due_tonight,
                    last_wrong_at=datetime(2026, 3, 10, 1, 0)),
            Mistake(user_id=world["worker_b"], question_id=q1.id, wrong_count=1, due_at=due_tonight,
                    last_wrong_at=wrong)])
        db.session.flush()
        recs = recommend.today(world["worker_a"])
        assert [r.kind for r in recs] == ["lesson", "practice", "review"]
        assert recs[2].questions == 1 and recs[2].subject.id == subject_id
        assert recs[2].questions == len(review.due(world["worker_a"], subject_id))   # what the session shows
        clock.set(datetime(2026, 3, 11, 0, 30))       # 08:30 the next day in Shanghai: the other two are due too
        assert recommend.today(world["worker_a"])[2].questions == 3 == len(review.due(world["worker_a"], subject_id))


def test_the_home_page_shows_the_recommendations_to_a_preparing_worker_only(app, client, world, clock):
    clock.set(datetime(2026, 3, 10, 2, 0))
    _subject_id, lessons = prepare(app, world)
    login(client, "worker_a")
    home = client.get("/home").get_data(as_text=True)
    card = home.split('id="recommendations"')[1].split("</section>")[0]
    assert home.index('id="recommendations"') < home.index('id="my-study"')
    first = card.split('id="rec-1"')[1].split("</li>")[0]
    assert first.startswith(' data-kind="lesson" data-topic="个案工作"')
    with app.app_context():
        course_id = db.session.get(Lesson, lessons[1]).course_id
    # not enrolled: the course page, at the lesson, to enrol first (and land on it: tests/test_enrol_landing.py)
    assert f'href="/learn/courses/{course_id}?lesson={lessons[1]}#lesson-{lessons[1]}"' in first
    assert "学习《第2讲》" in first
    assert "所属课程：个案工作入门（请先报名）" in first
    reason = "个案工作 掌握度"
    assert reason in first and "（依据 6 题）" in first
    second = card.split('id="rec-2"')[1].split("</li>")[0]
    assert "练习“个案工作”3 题" in second and "/mock/practice?subject=" in second
    # enrolled: the lesson itself; the subject page shows the same
    post_form(client, f"/learn/courses/{course_id}/enroll", page=f"/learn/courses/{course_id}")
    first = client.get("/home").get_data(as_text=True).split('id="rec-1"')[1].split("</li>")[0]
    assert f'href="/learn/lessons/{lessons[1]}"' in first and "请先报名" not in first
    page = client.get(f"/prep/subjects/{_subject_id}").get_data(as_text=True)
    assert f"/learn/lessons/{lessons[1]}" in page.split('id="recommendations"')[1].split("</section>")[0]
    client = app.test_client()
    login(client, "worker_b")   # no plan
    assert 'id="recommendations"' not in client.get("/home").get_data(as_text=True)


# --- topics of courses and lessons -------------------------------------------------------------------------

def write_course(root: Path, course_topics: str, lesson_topics: str = "") -> Path:
    folder = root / "topic-course"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.md").write_text(
        "---\ntitle: 测试课程\nsummary: 简介\ncategory: 专业方法\ncredit_hours: 0.5\n"
        + course_topics + "\n---\n介绍\n", "utf-8")
    (folder / "01-one.md").write_text("---\ntitle: 第一讲\nminutes: 30\n" + lesson_topics + "\n---\n正文\n", "utf-8")
    return root


def test_front_matter_topics_are_checked_against_the_vocabulary(ctx, tmp_path):
    with pytest.raises(importer.CourseFileError) as bad:
        importer.load_folder(write_course(tmp_path / "a", "topics: [个案工作, 个案辅导]"))
    message = str(bad.value)
    assert "course.md: topics: “个案辅导”不是题库中的知识点。可用的知识点有：" in message
    assert "个案工作、小组工作" in message and "老年社会工作" in message   # the valid ones, of every subject
    with pytest.raises(importer.CourseFileError, match="01-one.md: topics: “养老”不是题库中的知识点"):
        importer.load_folder(write_course(tmp_path / "b", "", "topics: [养老]"))
    # a listed name of any subject, or an alias, is taken under its listed name
    [course] = importer.load_folder(write_course(tmp_path / "c", "topics: [个案工作方法, 老年社会工作]",
                                                 "topics: 社会救助社会工作"))
    assert course["fields"]["topics"] == ["个案工作", "老年社会工作"]
    assert course["lessons"][0]["topics"] == ["社会救助社会工作"]


def test_the_shipped_courses_carry_topics_and_import_them(ctx):
    courses = {c["slug"]: c for c in importer.load_folder(ROOT / "courses")}
    assert courses["casework-basics"]["fields"]["topics"][0] == "个案工作"
    assert courses["groupwork-practice"]["lessons"][0]["topics"] == ["小组工作"]
    assert courses["community-emergency"]["fields"]["topics"] == []   # teaches no exam topic
    import_shipped_bank()  # the courses' quizzes draw from it
    importer.import_courses(ROOT / "courses")
    imported = db.session.scalar(select(Course).where(Course.slug == "casework-basics"))
    assert "个案工作" in imported.topics and all("个案工作" in lesson.topics for lesson in imported.lessons)


def test_the_editors_take_topics_of_the_vocabulary_only(app, client, world):
    login(client, "office_c")
    data = {"title": "新课程", "summary": "简介", "category": "methods", "level": "beginner", "credit_hours": "1",
            "series": "", "description": "", "tags": "", "topics": ["个案工作", "不存在的知识点"]}
    html = post_form(client, "/learn/studio/new", data, follow_redirects=True).get_data(as_text=True)
    assert "“不存在的知识点”不是题库中的知识点。可用的知识点有：" in html
    with app.app_context():
        assert db.session.scalar(select(Course).where(Course.title == "新课程")) is None
    data["topics"] = ["个案工作", "老年社会工作"]
    r = post_form(client, "/learn/studio/new", data, page="/learn/studio/new")
    assert r.status_code == 302
    course_id = int(re.search(r"/courses/(\d+)/edit", r.location).group(1))
    form = client.get(f"/learn/courses/{course_id}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="老年社会工作">|<option value="老年社会工作" selected', form)
    lesson = {"title": "第一讲", "body": "正文", "minutes": "45", "required": "y", "topics": ["小组工作方法"]}
    r = post_form(client, f"/learn/courses/{course_id}/lessons/new", lesson)
    assert r.status_code == 302
    lesson["topics"] = ["乱写"]
    bad = post_form(client, f"/learn/courses/{course_id}/lessons/new", lesson).get_data(as_text=True)
    assert "“乱写”不是题库中的知识点" in bad
    with app.app_context():
        course = db.session.get(Course, course_id)
        assert course.topics == ["个案工作", "老年社会工作"]
        assert [x.topics for x in course.lessons] == [["小组工作"]]   # the alias under its listed name
        course_domain.publish_course(course, user("office_c"))
        db.session.commit()
    page = client.get(f"/learn/courses/{course_id}").get_data(as_text=True)
    assert "个案工作" in page.split('id="course-topics"')[1].split("</p>")[0]


def test_a_revision_carries_the_topics(app, world, tx):
    with app.app_context():
        live = make_course(slug="topics-rev", title="伦理课", lessons=2, hours="0.5")
        live.topics = ["社会工作价值观与专业伦理"]
        live.lessons[0].topics = ["社会工作价值观与专业伦理"]
        db.session.flush()
        draft = course_domain.start_revision(live, user("office_c"))
        assert draft.topics == live.topics and draft.lessons[0].topics == ["社会工作价值观与专业伦理"]
        course_domain.update_course(draft, topics=["个案工作", "社会工作价值观与专业伦理"], category="methods",
                                    level="beginner")
        draft.lessons[1].topics = ["个案工作"]
        course_domain.approve_revision(draft, user("office_c"))
        assert live.topics == ["个案工作", "社会工作价值观与专业伦理"] and live.lessons[1].topics == ["个案工作"]


# --- the backfill -----------------------------------------------------------------------------------------

def logged(user_id: int) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(
        select(GradedAnswer.question_id, GradedAnswer.subject_id, GradedAnswer.topic, GradedAnswer.difficulty,
               GradedAnswer.source, GradedAnswer.attempt_id, GradedAnswer.credit, GradedAnswer.answered_at)
        .where(GradedAnswer.user_id == user_id).order_by(GradedAnswer.id))]


def kept(user_id: int) -> dict:
    return {(m.subject_id, m.topic): (m.theta, m.evidence, m.information, m.last_answer_at)
            for m in db.session.scalars(select(TopicMastery).where(TopicMastery.user_id == user_id))}


def test_the_backfill_logs_what_live_grading_logs(app, world, clock, tx):
    clock.set(datetime(2026, 3, 2, 1, 0))
    with app.app_context():
        make_bank()
        learner = worker()
        exam = small_exam()
        for n in range(2):
            attempt = attempts.start(learner, exam)
            items = attempt.paper["items"]
            for i, key in enumerate(list(items)[: 4 + 2 * n]):
                attempts.save(attempt, key, right(items[key]) if i % 2 == 0 else "A", 1)
            clock.advance(minutes=20)
            attempts.finish(attempt)
            clock.advance(days=1)
        live_log, live_rows = logged(learner.id), kept(learner.id)
        assert len(live_log) == 16 and {r[4] for r in live_log} == {"mock"}
        # a database upgraded with its history: the attempts are there, the log and the estimates are not
        db.session.execute(delete(GradedAnswer).where(GradedAnswer.user_id == learner.id))
        db.session.execute(delete(TopicMastery).where(TopicMastery.user_id == learner.id))
        runner = app.test_cli_runner()
        result = runner.invoke(args=["prep-rebuild", "--backfill"])
        assert result.exit_code == 0, result.output
        assert "2 graded attempts logged" in result.output
        assert logged(learner.id) == live_log
        rebuilt = kept(learner.id)
        assert rebuilt.keys() == live_rows.keys()
        for key, (theta, evidence, information, last) in live_rows.items():
            assert rebuilt[key][0] == pytest.approx(theta, abs=1e-9)
            assert rebuilt[key][1:] == (evidence, pytest.approx(information, abs=1e-9), last)
        # run again: nothing more to log, the same estimates
        assert backfill.backfill() == 0
        assert backfill.rebuild_all()[1] >= len(rebuilt) and kept(learner.id).keys() == rebuilt.keys()
        assert timedelta(0) <= live_log[-1][7] - live_log[0][7]
