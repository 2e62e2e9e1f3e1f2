"""学时 only for study that happened: minimum active time, idle and hidden time, no double counting
across tabs and devices, video coverage, the per-lesson minimum, and what offices see."""
import json
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from lms.auth.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.learning import progress
from lms.learning.importer import CourseFileError, load_folder
from lms.learning.models import Course, Enrollment, Lesson, LessonProgress, StudyClock

from .conftest import login, post_form
from .study import beat_over_http, study
from .test_learning import make_course


def worker(world, name="worker_a") -> User:
    return db.session.get(User, world[name])


def page_token(client, url) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def enrolled_course(app, world, name="worker_a", **kwargs) -> tuple[int, list[int]]:
    with app.app_context():
        course = make_course(**kwargs)
        progress.enroll(worker(world, name), course)
        db.session.commit()
        return course.id, [lesson.id for lesson in course.lessons]


# --- the minimum ----------------------------------------------------------------------------------

def test_a_lesson_refuses_completion_before_its_minimum_and_accepts_after(ctx, world, clock):
    user = worker(world)
    course = make_course(lessons=1)  # 30 minutes: 24 minutes of active study by default
    progress.enroll(user, course)
    lesson = course.lessons[0]
    assert progress.required_seconds(lesson) == 24 * 60
    t = study(user, lesson, 24 * 60 - 1)
    with pytest.raises(progress.NotYetError) as exc:
        progress.complete_lesson(user, lesson, t)
    assert exc.value.standing.remaining == 1
    assert db.session.scalar(select(Enrollment.completed_at).where(Enrollment.user_id == user.id)) is None
    progress.heartbeat(user, lesson, t + timedelta(seconds=1))
    assert progress.complete_lesson(user, lesson, t + timedelta(seconds=1)) is True


def test_the_minimum_follows_the_setting(app, ctx, world, monkeypatch):
    course = make_course(lessons=1)
    monkeypatch.setitem(app.config, "STUDY_MIN_PERCENT", 50)
    assert progress.required_seconds(course.lessons[0]) == 15 * 60


def test_pressing_complete_early_says_how_long_remains(app, client, world, clock):
    cid, lessons = enrolled_course(app, world, lessons=2)
    login(client, "worker_a")
    url = f"/learn/lessons/{lessons[0]}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="study-status"' in page and "至少需有效学习 24 分钟" in page and "还需学习 24 分钟" in page
    token = page_token(client, url)
    beat_over_http(client, lessons[0], 10 * 60, clock, token)
    r = post_form(client, f"{url}/complete", page=url)
    assert r.status_code == 302 and r.location.endswith(url)  # stays on the lesson
    page = client.get(r.location).get_data(as_text=True)
    assert "本节至少需要有效学习 24 分钟，您已学习 10 分钟，还需 14 分钟。" in page
    assert "还需学习 14 分钟" in page
    r = client.post(f"{url}/complete", headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert r.status_code == 409 and r.json["remaining"] == 14 * 60 and "还需 14 分钟" in r.json["error"]
    state = beat_over_http(client, lessons[0], 14 * 60, clock, token)
    assert state["can_complete"] is True and state["remaining"] == 0
    assert "已达到最低学习时长" in client.get(url).get_data(as_text=True)
    r = post_form(client, f"{url}/complete", page=url)
    assert r.location.endswith(f"/learn/lessons/{lessons[1]}")  # on to the next lesson


# --- only active, visible time --------------------------------------------------------------------

def test_idle_and_hidden_time_does_not_count(ctx, world, clock):
    user = worker(world)
    course = make_course(lessons=1)
    progress.enroll(user, course)
    lesson = course.lessons[0]
    t0 = utcnow()
    progress.heartbeat(user, lesson, t0, start=True)
    progress.heartbeat(user, lesson, t0 + timedelta(seconds=30))
    assert progress.heartbeat(user, lesson, t0 + timedelta(seconds=60)).seconds_spent == 60
    # The page was hidden (or the learner idle) for 20 minutes, so no beats came; a late beat
    # earns at most one cap, never the gap.
    row = progress.heartbeat(user, lesson, t0 + timedelta(minutes=21))
    assert row.seconds_spent == 60 + progress.MAX_CREDIT_PER_BEAT
    # The page itself starts a new stretch when it comes back (start): nothing for the gap.
    row = progress.heartbeat(user, lesson, t0 + timedelta(minutes=50), start=True)
    assert row.seconds_spent == 60 + progress.MAX_CREDIT_PER_BEAT
    assert progress.heartbeat(user, lesson, t0 + timedelta(minutes=50, seconds=30)).seconds_spent == 150
    # Beats faster than real time earn real time only (under a second: nothing yet).
    for ms in (200, 400, 600, 800):
        row = progress.heartbeat(user, lesson, t0 + timedelta(minutes=50, seconds=30, milliseconds=ms))
    assert row.seconds_spent == 150
    assert (
        progress.heartbeat(user, lesson, t0 + timedelta(minutes=50, seconds=31, milliseconds=500)).seconds_spent == 151
    )


# --- never double -----------------------------------------------------------------------------------

def test_two_lessons_beating_alternately_never_count_double(ctx, world, clock):
    user = worker(world)
    course = make_course(lessons=2)
    progress.enroll(user, course)
    a, b = course.lessons
    t0 = utcnow()
    progress.heartbeat(user, a, t0, start=True)
    progress.heartbeat(user, b, t0 + timedelta(seconds=15), start=True)
    for k in range(1, 21):  # two tabs, each beating every 30 s, 15 s apart, for ten minutes
        progress.heartbeat(user, a, t0 + timedelta(seconds=30 * k))
        progress.heartbeat(user, b, t0 + timedelta(seconds=30 * k + 15))
    end = t0 + timedelta(seconds=30 * 20 + 15)
    spent = {r.lesson_id: r.seconds_spent for r in db.session.scalars(select(LessonProgress).where(
        LessonProgress.user_id == user.id))}
    assert sum(spent.values()) == (end - t0).total_seconds() - 15 == 600  # wall time, once
    assert spent[a.id] == 300 and spent[b.id] == 300


def test_two_devices_on_the_same_lesson_never_count_double(app, client, world, clock):
    cid, lessons = enrolled_course(app, world, lessons=1)
    phone, desk = client, app.test_client()
    for device in (phone, desk):
        login(device, "worker_a")
    url = f"/learn/lessons/{lessons[0]}"
    tokens = {device: page_token(device, url) for device in (phone, desk)}

    def beat(device, **body):
        r = device.post(f"{url}/beat", json=body, headers={"X-CSRFToken": tokens[device], "Accept": "application/json"})
        assert r.status_code == 200
        return r.json["seconds"]

    beat(phone, start=True)
    clock.advance(seconds=10)
    beat(desk, start=True)
    for _k in range(10):  # five minutes on both devices at once
        clock.advance(seconds=20)
        beat(phone)
        clock.advance(seconds=10)
        seconds = beat(desk)
    assert seconds == 300  # ten beats a device, yet five minutes


def test_two_beats_at_the_same_moment_credit_once(app, world):
    """Real concurrent transactions (no rolled-back test transaction): while one beat holds the
    learner's study clock, a beat from another tab waits for it, then finds the seconds credited.
    (Without the lock the second beat reads the old clock and credits the same 30 seconds again.)"""
    cid, lessons = enrolled_course(app, world, name="worker_b", lessons=2)
    uid = world["worker_b"]
    t0 = utcnow().replace(microsecond=0)
    with app.app_context():
        user = db.session.get(User, uid)
        for lid in lessons:
            progress.heartbeat(user, db.session.get(Lesson, lid), t0, start=True)
        db.session.commit()
    first_credited, second_done = threading.Event(), threading.Event()
    errors = []

    def beat(lid, first):
        try:
            with app.app_context():
                user, lesson = db.session.get(User, uid), db.session.get(Lesson, lid)
                db.session.commit()
                if not first:
                    first_credited.wait(10)
                progress.heartbeat(user, lesson, t0 + timedelta(seconds=30))
                if first:
                    first_credited.set()
                    second_done.wait(2)  # the second beat cannot finish while this one holds the clock
                db.session.commit()
                if not first:
                    second_done.set()
        except Exception as exc:  # surfaced below
            errors.append(exc)
            first_credited.set()

    threads = [threading.Thread(target=beat, args=(lid, i == 0)) for i, lid in enumerate(lessons)]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert not errors, errors
        with app.app_context():
            spent = db.session.scalars(select(LessonProgress.seconds_spent).where(LessonProgress.user_id == uid)).all()
            assert sorted(spent) == [0, 30]
    finally:
        with app.app_context():
            db.session.execute(delete(LessonProgress).where(LessonProgress.user_id == uid))
            db.session.execute(delete(StudyClock).where(StudyClock.user_id == uid))
            db.session.execute(delete(Enrollment).where(Enrollment.course_id == cid))
            db.session.execute(delete(Course).where(Course.id == cid))
            db.session.commit()


# --- video ------------------------------------------------------------------------------------------

def test_a_video_lesson_counts_what_was_watched(ctx, world, clock):
    user = worker(world)
    course = make_course(lessons=1)
    lesson = course.lessons[0]
    lesson.video_url, lesson.min_minutes = "https://video.example.cn/a.mp4", 2  # active time is not the point here
    progress.enroll(user, course)
    t = utcnow()
    progress.heartbeat(user, lesson, t, start=True, duration=300)
    # Skipping to the end and claiming it watched: one 30-s beat covers at most 60 s of video.
    t += timedelta(seconds=30)
    row = progress.heartbeat(user, lesson, t, ranges=[[0, 10], [200, 300]], duration=300)
    assert row.video_seconds == 60 and json.loads(row.video_ranges) == [[0, 10], [200, 250]]
    t = study(user, lesson, 120, at=t)
    assert progress.standing(lesson, row).remaining == 0
    state = progress.standing(lesson, row)
    assert (state.video_required, state.can_complete) == (240, False)  # 80 % of 300 s
    with pytest.raises(progress.NotYetError) as exc:
        progress.complete_lesson(user, lesson, t)
    assert exc.value.standing.video_remaining == 180
    # Watching from the start at normal speed: what is new counts, what was watched counts once.
    for k in range(1, 9):
        t += timedelta(seconds=30)
        row = progress.heartbeat(user, lesson, t, ranges=[[0, 10 + 30 * k], [200, 250]], duration=300)
    assert row.video_seconds == 250 - 10 + 10 - 0 and json.loads(row.video_ranges) == [[0, 250]]
    assert progress.complete_lesson(user, lesson, t) is True


def test_a_video_never_played_cannot_be_completed(app, client, world, clock):
    cid, lessons = enrolled_course(app, world, lessons=1)
    with app.app_context():
        lesson = db.session.get(Lesson, lessons[0])
        lesson.video_url, lesson.min_minutes = "https://video.example.cn/a.mp4", 1
        db.session.commit()
    login(client, "worker_a")
    url = f"/learn/lessons/{lessons[0]}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="lesson-video"' in page and "不能跳到尚未观看的部分" in page
    token = page_token(client, url)
    assert beat_over_http(client, lessons[0], 60, clock, token)["video_required"] is None
    r = client.post(f"{url}/complete", headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert r.status_code == 409 and "请先观看视频" in r.json["error"]
    bad = client.post(f"{url}/beat", json={"ranges": [["a", 1]]}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "刷新" in bad.json["error"]


# --- the per-lesson minimum ---------------------------------------------------------------------

def test_a_short_text_sets_its_own_minimum_in_the_editor(app, client, world, clock):
    with app.app_context():
        course = make_course(status="draft", lessons=1)
        course.created_by_id = world["trainer"]
        db.session.commit()
        _cid, lid = course.id, course.lessons[0].id
    login(client, "trainer")
    form = {"title": "第1讲", "body": "一页纸的短文。", "minutes": "30", "required": "y"}
    r = post_form(client, f"/learn/lessons/{lid}/edit", {**form, "min_minutes": "40"})
    assert r.status_code == 200 and "最低学习时长不能超过预计学习时长" in r.get_data(as_text=True)
    r = post_form(client, f"/learn/lessons/{lid}/edit", {**form, "min_minutes": "3"})
    assert r.status_code == 302
    assert 'value="3"' in client.get(f"/learn/lessons/{lid}/edit").get_data(as_text=True)
    with app.app_context():
        lesson = db.session.get(Lesson, lid)
        assert (lesson.min_minutes, progress.required_seconds(lesson)) == (3, 180)
    post_form(client, f"/learn/lessons/{lid}/edit", {**form, "min_minutes": ""})
    with app.app_context():
        assert db.session.get(Lesson, lid).min_minutes is None  # back to 80 % of the minutes


def test_course_files_set_a_lesson_minimum(tmp_path):
    folder = tmp_path / "short-course"
    folder.mkdir()
    (folder / "course.md").write_text(
        "---\ntitle: 短课\nsummary: s\ncategory: 社区治理\ncredit_hours: 1\n---\n介绍", "utf-8"
    )
    (folder / "01-a.md").write_text("---\ntitle: 第一讲\nminutes: 20\nmin_minutes: 5\n---\n正文", "utf-8")
    (folder / "02-b.md").write_text("---\ntitle: 第二讲\nminutes: 25\n---\n正文", "utf-8")
    lessons = load_folder(tmp_path)[0]["lessons"]
    assert [(d["minutes"], d["min_minutes"]) for d in lessons] == [(20, 5), (25, None)]
    (folder / "02-b.md").write_text("---\ntitle: 第二讲\nminutes: 25\nmin_minutes: 30\n---\n正文", "utf-8")
    other = tmp_path / "other-course"
    other.mkdir()
    (other / "course.md").write_text((folder / "course.md").read_text("utf-8"), "utf-8")
    (other / "01-c.md").write_text("---\ntitle: 第三讲\nmin_minutes: 十分钟\n---\n正文", "utf-8")
    with pytest.raises(CourseFileError) as exc:
        load_folder(tmp_path)
    assert "02-b.md: 'min_minutes' (30) cannot exceed 'minutes' (25)" in str(exc.value)
    assert "01-c.md: 'min_minutes' must be a whole number" in str(exc.value)


def test_the_shipped_courses_ask_for_real_study():
    courses = load_folder(Path(__file__).resolve().parent.parent / "courses")
    for course in courses:
        for lesson in course["lessons"]:
            assert lesson["minutes"] >= 10, (course["slug"], lesson["slug"])
            assert lesson["min_minutes"] is None or 1 <= lesson["min_minutes"] <= lesson["minutes"]


# --- what offices see -----------------------------------------------------------------------------

def test_an_office_sees_active_time_per_lesson_in_its_area_only(app, client, world, clock):
    cid, lessons = enrolled_course(app, world, lessons=2)
    with app.app_context():
        user = worker(world)
        study(user, db.session.get(Lesson, lessons[0]), 5 * 60 + 30)
        db.session.commit()
    login(client, "office_d1")
    page = client.get(f"/learn/progress/{world['worker_a']}").get_data(as_text=True)
    table = page[page.index(f'id="lesson-times-{cid}"'):]
    assert f'<tr data-lesson="{lessons[0]}" data-seconds="330">' in table
    assert f'<tr data-lesson="{lessons[1]}" data-seconds="0">' in table
    assert "5 分 30 秒" in table and "24 分钟" in table and "还需 18 分 30 秒" in table
    other = app.test_client()
    login(other, "office_d2")  # another district
    assert other.get(f"/learn/progress/{world['worker_a']}").status_code == 404
    mine = app.test_client()
    login(mine, "worker_a")  # the worker sees the same figures
    assert 'data-seconds="330"' in mine.get("/learn/mine").get_data(as_text=True)
