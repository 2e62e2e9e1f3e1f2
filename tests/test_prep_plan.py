"""The plan to the exam date (lms/prep/plan.py, plan_views.py): build() on hand-made inputs with known answers,
the form's rules, a plan is the logged-in worker's own, the calendar's studied days from graded answers."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.exams.models import ExamSubject, Question
from lms.extensions import db
from lms.prep import mastery, plan, track
from lms.prep.models import PrepPlan

from .conftest import login, post_form
from .test_mock_exams import make_bank

P = mastery.Params()   # medium questions at logit 0; settled from 5 answers
TARGET = 70


@dataclass
class Given:
    exam_date: date
    minutes_per_day: int


def est(theta: float, evidence: int = 20) -> mastery.Estimate:
    return mastery.Estimate(theta=theta, evidence=evidence, information=evidence * 0.2)


def kinds(day: plan.Day) -> list[str]:
    return [t.kind for t in day.tasks]


LESSON = plan.LessonRef(7, "个案工作的过程", "个案工作基础", 30)


def four_topics():
    # Expected points lost, weight × (1 − σ(theta)):
    #   甲 0.5 × (1 − σ(−1)) = 0.366   weak and heavy
    #   乙 0.1 × (1 − σ(−1.5)) = 0.082 weaker but light
    #   丙 0.3 × 0.5 = 0.150            never answered: the model's 50 %
    #   丁 0.1, theta 2 (88 %) on 20 answers: mastered
    return [plan.TopicInput("甲", 0.5, est(-1.0), (LESSON,)), plan.TopicInput("乙", 0.1, est(-1.5)),
            plan.TopicInput("丙", 0.3, None), plan.TopicInput("丁", 0.1, est(2.0))]


def test_weakest_first_weighted_by_the_exam_and_a_topic_is_its_lessons_then_practice():
    built = plan.build(date(2027, 3, 2), Given(date(2027, 6, 14), 30), four_topics(), {}, None, P, TARGET)
    assert [r.topic.name for r in built.order] == ["甲", "丙", "乙", "丁"]
    assert [r.topic.name for r in built.new_topics] == ["甲", "丙", "乙"]
    assert built.order[0].priority == pytest.approx(0.5 * (1 - mastery.expected(-1.0, 0)))
    assert built.order[-1].mastered and not any(r.mastered for r in built.order[:3])
    study = [(t.kind, t.topic, t.minutes, t.count) for d in built.days for t in d.tasks
             if t.kind in ("lesson", "practice")]
    # 30 minutes a day: the 30-minute lesson of 甲, then its 20 questions (40 minutes) over two days, then 丙, 乙.
    assert study[:3] == [("lesson", "甲", 30, 0), ("practice", "甲", 30, 15), ("practice", "甲", 10, 5)]
    assert [t for _k, t, _m, _c in study[:7]] == ["甲"] * 3 + ["丙"] * 2 + ["乙"] * 2
    # Once every topic has had its turn, further sets of 10 on the topics not mastered, in the same order.
    more = study[7:]
    assert more and [t for _k, t, _m, _c in more[:6]] == ["甲", "丙", "乙"] * 2
    assert all(k == "practice" and 0 < c <= plan.MORE_QUESTIONS for k, _t, _m, c in more)
    assert all(d.minutes == 30 for d in built.days if not d.review_period)   # every study day is used
    assert built.days[2].tasks[0].continued and built.fits and not built.unfinished
    # The mastered topic 丁 is only kept fresh: 5 questions once a week.
    keep = [d.day for d in built.days if "keep" in kinds(d)]
    assert keep and all((b - a).days == plan.KEEP_EVERY for a, b in zip(keep, keep[1:], strict=False))
    assert all(t.count == plan.KEEP_QUESTIONS for d in built.days for t in d.tasks if t.kind == "keep")


@pytest.mark.parametrize("minutes", [10, 25, 30, 45, 120, 240])
def test_never_more_minutes_a_day_than_the_worker_gave(minutes):
    topics = [plan.TopicInput(f"题{i}", 1 / 12, est(-1 + i / 10, 3 + i), (LESSON,) if i % 2 else ()) for i in range(12)]
    reviews = {date(2027, 2, 20): 17, date(2027, 3, 3): 9, date(2027, 4, 1): 40}
    built = plan.build(date(2027, 3, 1), Given(date(2027, 6, 14), minutes), topics, reviews, 120, P, TARGET)
    assert built.days[0].day == date(2027, 3, 1) and built.days[-1].day == date(2027, 6, 13)
    for d in built.days:
        if d.mock and minutes < 120:
            assert kinds(d) == ["mock"]   # a mock exam is one sitting: its day holds it alone
        else:
            assert d.minutes <= minutes, d
    assert built.mock_over_budget == (minutes < 120)
    # Reviews come before new study: the 17 overdue reviews are on the first day(s).
    assert built.days[0].tasks[0].kind in ("mock", "review")


def test_mock_exams_every_two_weeks_and_one_week_before():
    built = plan.build(date(2027, 3, 1), Given(date(2027, 6, 14), 150), four_topics(), {}, 120, P, TARGET)
    got = [d.day for d in built.days if d.mock]
    assert got == [date(2027, 3, 1), date(2027, 3, 15), date(2027, 3, 29), date(2027, 4, 12), date(2027, 4, 26),
                   date(2027, 5, 10), date(2027, 5, 24), date(2027, 6, 7)]
    # The days are counted back from the exam: tomorrow's plan has the same mock days.
    later = plan.build(date(2027, 3, 2), Given(date(2027, 6, 14), 150), four_topics(), {}, 120, P, TARGET)
    assert [d.day for d in later.days if d.mock] == got[1:]
    assert not built.mock_over_budget


def test_the_last_two_weeks_are_review_and_mock_exams_only():
    # 40 topics × (30 + 40 minutes) = 2,800 minutes; 84 study days without a mock exam hold 2,520.
    topics = [plan.TopicInput(f"题{i}", 0.025, None, (LESSON,)) for i in range(40)]
    built = plan.build(date(2027, 3, 1), Given(date(2027, 6, 14), 30), topics, {date(2027, 6, 2): 4}, 120, P, TARGET)
    assert built.study_end == date(2027, 5, 31) == date(2027, 6, 14) - timedelta(days=track.REVIEW_DAYS)
    last = [d for d in built.days if d.day >= built.study_end]
    assert len(last) == 14 and all(d.review_period for d in last)
    assert {k for d in last for k in kinds(d)} == {"mock", "review", "revise"}
    assert not any(d.review_period for d in built.days if d.day < built.study_end)
    assert [(t.kind, t.count) for t in built.days[-12].tasks] == [("review", 4), ("revise", 10), ("revise", 1)]
    # The study of what did not fit never spills into the last two weeks.
    assert built.unfinished and not built.fits


def test_too_little_time_says_so_with_the_minutes_that_would_do():
    # 30 study days (2027-05-01 … 05-30), ten topics without lessons: 10 × 20 questions = 200 questions.
    # 10 minutes a day is 5 questions (150 in all): too few. 15 minutes is 7 a day (210): enough.
    topics = [plan.TopicInput(f"题{i}", 0.1, None) for i in range(10)]
    built = plan.build(date(2027, 5, 1), Given(date(2027, 6, 14), 10), topics, {}, None, P, TARGET)
    assert not built.fits and built.needed_minutes == 15
    assert built.unfinished == ("题7", "题8", "题9")   # 150 questions: seven and a half topics
    assert plan.build(date(2027, 5, 1), Given(date(2027, 6, 14), 15), topics, {}, None, P, TARGET).fits
    # Beyond what a day can hold: no figure, and the page says even the most does not do.
    many = [plan.TopicInput(f"题{i}", 0.01, None) for i in range(400)]
    assert plan.build(date(2027, 5, 1), Given(date(2027, 6, 14), 10), many, {}, None, P, TARGET).needed_minutes is None


def test_a_subject_with_an_empty_bank_has_nothing_to_plan():
    built = plan.build(date(2027, 3, 1), Given(date(2027, 6, 14), 30), [], {}, 120, P, TARGET)
    assert built.order == [] and built.fits and built.mock_minutes is None
    assert len(built.days) == 105 and all(d.tasks == [] for d in built.days)


def test_reviews_due_are_planned_on_their_day_and_wait_when_they_do_not_fit():
    built = plan.build(date(2027, 3, 1), Given(date(2027, 6, 14), 20), [], {date(2027, 2, 27): 8, date(2027, 3, 1): 7,
                                                                             date(2027, 3, 4): 2}, None, P, TARGET)
    reviews = {d.day: sum(t.count for t in d.tasks if t.kind == "review") for d in built.days[:5]}
    # 20 minutes hold 10 reviews: 15 due on the first day (8 overdue), 5 wait for the next.
    assert reviews == {date(2027, 3, 1): 10, date(2027, 3, 2): 5, date(2027, 3, 3): 0, date(2027, 3, 4): 2,
                       date(2027, 3, 5): 0}
    assert built.fits and built.reviews_left == 0


def test_the_default_exam_date_and_the_date_rules():
    assert plan.default_exam_date(date(2026, 6, 1), "06-14") == date(2026, 6, 14)
    assert plan.default_exam_date(date(2026, 6, 7), "06-14") == date(2026, 6, 14)
    assert plan.default_exam_date(date(2026, 6, 8), "06-14") == date(2027, 6, 14)
    today = date(2026, 6, 15)
    for bad in (date(2026, 6, 14), date(2026, 6, 21), date(2028, 6, 16)):
        with pytest.raises(plan.PlanError):
            plan.check_exam_date(today, bad)
    plan.check_exam_date(today, date(2026, 6, 22))
    plan.check_exam_date(today, date(2028, 6, 15))


# --- the pages ---------------------------------------------------------------------------------------------------

def junior(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ExamSubject.id).where(ExamSubject.code == "junior-general"))


@pytest.fixture
def bank(app, tx):
    with app.app_context():
        make_bank()
        db.session.commit()


def plans_of(app, user_id):
    with app.app_context():
        return db.session.scalars(select(PrepPlan).where(PrepPlan.user_id == user_id)).all()


def test_the_form_refuses_bad_dates_and_minutes_with_clear_messages(app, client, world, clock):
    sid = junior(app)
    login(client, "worker_a")
    url = f"/prep/plan/{sid}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2027-06-14"' in page          # today 2026-06-15: the next 14 June at least 7 days away
    cases = [
        ({"exam_date": "2026-06-01", "minutes": "30"}, "考试日期 2026-06-01 已经过去"),
        ({"exam_date": "2026-06-20", "minutes": "30"}, "距离考试不到 7 天"),
        ({"exam_date": "2028-06-16", "minutes": "30"}, "考试日期在 2 年以后"),
        ({"exam_date": "明年六月", "minutes": "30"}, "请按“年-月-日”填写考试日期"),
        ({"exam_date": "2027-02-30", "minutes": "30"}, "请按“年-月-日”填写考试日期"),
        ({"exam_date": "2027-06-14", "minutes": "5"}, "每天学习时间须为 10 到 240 分钟"),
        ({"exam_date": "2027-06-14", "minutes": "300"}, "每天学习时间须为 10 到 240 分钟"),
        ({"exam_date": "2027-06-14", "minutes": "半小时"}, "请用 10 到 240 之间的整数"),
    ]
    for data, message in cases:
        r = post_form(client, url, data)
        assert r.status_code == 200 and message in r.get_data(as_text=True), (data, message)
    assert plans_of(app, world["worker_a"]) == []
    r = post_form(client, url, {"exam_date": "2026-06-22", "minutes": "45"})
    assert r.status_code == 302
    (row,) = plans_of(app, world["worker_a"])
    assert (row.exam_date, row.minutes_per_day) == (date(2026, 6, 22), 45)
    # Saving again changes the one plan of the subject.
    post_form(client, url, {"exam_date": "2027-06-14", "minutes": "30"})
    assert [(r.exam_date, r.minutes_per_day) for r in plans_of(app, world["worker_a"])] == [(date(2027, 6, 14), 30)]


def test_a_plan_is_the_logged_in_workers_own(app, client, world, clock):
    sid = junior(app)
    login(client, "worker_a")
    post_form(client, f"/prep/plan/{sid}", {"exam_date": "2026-12-12", "minutes": "55"})
    client.post("/auth/logout", data={"csrf_token": ""})
    other = app.test_client()
    login(other, "worker_b")
    page = other.get(f"/prep/plan/{sid}", query_string={"user": world["worker_a"]}).get_data(as_text=True)
    assert "2026-12-12" not in page and "55" not in page and 'id="plan-summary-title"' not in page
    assert 'value="2027-06-14"' in page          # worker_b has no plan: the form with the default date
    # Stopping is the logged-in worker's own too: worker_b stopping leaves worker_a's plan alone.
    assert other.get(f"/prep/plan/{sid}/stop").status_code == 302
    post_form(other, f"/prep/plan/{sid}/stop", page=f"/prep/plan/{sid}")
    assert len(plans_of(app, world["worker_a"])) == 1
    assert other.get(f"/prep/plan/{sid + 1000}").status_code == 404


def test_stopping_asks_then_deletes_the_plan_only(app, client, world, clock):
    sid = junior(app)
    login(client, "worker_a")
    post_form(client, f"/prep/plan/{sid}", {"exam_date": "2026-12-12", "minutes": "30"})
    confirm = client.get(f"/prep/plan/{sid}/stop").get_data(as_text=True)
    assert "停止备考" in confirm and "2026-12-12" in confirm
    assert len(plans_of(app, world["worker_a"])) == 1   # asking deletes nothing
    r = post_form(client, f"/prep/plan/{sid}/stop")
    assert r.status_code == 302 and plans_of(app, world["worker_a"]) == []


def test_the_calendar_counts_graded_answers_per_shanghai_day_and_says_whether_on_track(app, client, world, clock, bank):
    sid = junior(app)
    clock.set(datetime(2026, 6, 1, 2, 0))                     # 10:00 on 1 June in Shanghai
    login(client, "worker_a")
    post_form(client, f"/prep/plan/{sid}", {"exam_date": "2026-12-12", "minutes": "30"})
    with app.app_context():
        questions = db.session.scalars(select(Question).where(Question.subject_id == sid)
                                       .order_by(Question.id).limit(3)).all()
        answers = [mastery.Evidence(q.id, sid, q.topic, q.difficulty, 1.0) for q in questions]
        assert len({q.topic for q in questions}) == 3   # two answers on each topic: none settled
        # 2 June 23:30 Shanghai is 15:30 UTC; 3 June 00:30 Shanghai is 16:30 UTC on 2 June.
        mastery.record(world["worker_a"], answers[:2], "practice", now=datetime(2026, 6, 2, 15, 30))
        mastery.record(world["worker_a"], answers[2:], "practice", now=datetime(2026, 6, 2, 16, 30))
        mastery.record(world["worker_a"], answers, "practice", now=datetime(2026, 6, 9, 4, 0))
        db.session.commit()
    clock.set(datetime(2026, 6, 10, 2, 0))
    page = client.get(f"/prep/plan/{sid}").get_data(as_text=True)
    assert 'data-day="2026-06-02" data-answered="2"' in page
    assert 'data-day="2026-06-03" data-answered="1"' in page
    assert 'data-day="2026-06-09" data-answered="3"' in page
    assert 'data-day="2026-06-04">' in page                  # nothing that day
    # On track today by the one rule: 9 of the study period's 180 days gone (5 %), nothing mastered yet.
    assert 'data-on-track="yes"' in page and "到今天应掌握考试权重的 5%，已掌握 0%" in page
    clock.set(datetime(2026, 8, 1, 2, 0))                     # 61 days: 34 % expected, still 0 % mastered
    page = client.get(f"/prep/plan/{sid}").get_data(as_text=True)
    assert 'data-on-track="no"' in page and "到今天应掌握考试权重的 34%，已掌握 0%" in page
    # Earlier months stay reachable from the plan's start; a bad month is a clear 400.
    assert 'data-answered="3"' in client.get(f"/prep/plan/{sid}?month=2026-06").get_data(as_text=True)
    assert client.get(f"/prep/plan/{sid}?month=2026-13").status_code == 400


def test_the_page_shows_the_shortfall_with_its_figure(app, client, world, clock, bank):
    sid = junior(app)
    login(client, "worker_a")
    # Today 2026-06-15, the exam on 07-05: six study days (06-15 … 06-20) before the last two weeks. The bank's
    # three topics need 3 × 20 questions; 10 minutes a day is 5 questions (30 in all), 20 minutes is 10 (60).
    post_form(client, f"/prep/plan/{sid}", {"exam_date": "2026-07-05", "minutes": "10"})
    page = client.get(f"/prep/plan/{sid}").get_data(as_text=True)
    assert "按每天 10 分钟，考前学不完全部知识点，建议每天 20 分钟" in page
    assert 'id="plan-topics"' in page and 'id="today-tasks"' in page
    post_form(client, f"/prep/plan/{sid}", {"exam_date": "2026-07-05", "minutes": "20"})
    assert 'id="plan-shortfall"' not in client.get(f"/prep/plan/{sid}").get_data(as_text=True)


def test_the_page_says_how_the_estimates_moved_in_the_last_seven_days(app, client, world, clock, bank):
    sid = junior(app)
    clock.set(datetime(2026, 6, 1, 2, 0))
    login(client, "worker_a")
    post_form(client, f"/prep/plan/{sid}", {"exam_date": "2026-12-12", "minutes": "30"})
    with app.app_context():
        qs = db.session.scalars(select(Question).where(Question.subject_id == sid, Question.type == "single")
                                .order_by(Question.id)).all()   # 70: 23 or 24 a topic; all taken as medium
        by_topic = {t: [q for q in qs if q.topic == t] for t in ("伦理", "理论", "方法")}
        ev = {t: [mastery.Evidence(q.id, sid, t, 2, 1.0) for q in rows] for t, rows in by_topic.items()}
        wrong = [mastery.Evidence(e.question_id, sid, e.topic, 2, 0.0) for e in ev["伦理"][:6]]
        # Before the week: 伦理 six wrong (settled, low); 理论 two right (not settled); 方法 six right (settled).
        mastery.record(world["worker_a"], wrong + ev["理论"][:2] + ev["方法"][:6], "practice",
                       now=datetime(2026, 6, 1, 3, 0))
        # In the week (from 06-08 00:00 in Shanghai = 06-07 16:00 UTC): 伦理 sixteen right, 理论 four right.
        mastery.record(world["worker_a"], ev["伦理"][6:22] + ev["理论"][2:6], "practice",
                       now=datetime(2026, 6, 7, 16, 30))
        db.session.commit()
        log = [(sid, "伦理", 2, 0.0)] * 6 + [(sid, "伦理", 2, 1.0)] * 16
        before = mastery.percent(mastery.replay(log[:6], P)[(sid, "伦理")].theta, P)
        after = mastery.percent(mastery.replay(log, P)[(sid, "伦理")].theta, P)
        theory = mastery.percent(mastery.replay([(sid, "理论", 2, 1.0)] * 6, P)[(sid, "理论")].theta, P)
    assert before < 30 and after >= 70
    clock.set(datetime(2026, 6, 15, 2, 0))
    page = client.get(f"/prep/plan/{sid}").get_data(as_text=True)
    assert "过去 7 天" in page
    assert f"伦理：掌握度 {before}% → {after}%" in page and "现已掌握" in page
    assert f"理论：掌握度 {theory}%（现在已有足够的答题来判断）" in page
    assert 'data-topic="方法"' not in page.split('id="plan-changes"')[1].split("</ul>")[0]   # no answer in the week
    clock.set(datetime(2026, 6, 16, 2, 0))   # a day later the 06-07 16:30 UTC answers fall out of the window
    assert 'id="plan-changes"' not in client.get(f"/prep/plan/{sid}").get_data(as_text=True)
