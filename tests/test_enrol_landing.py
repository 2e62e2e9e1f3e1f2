"""A recommended lesson lands on itself (issue 16): the home page recommends a lesson of a course the worker is not
enrolled in; its link opens the course page with `?lesson=<id>`, the enrol form carries it, and enrolling lands on
that lesson when (and only when) it is a lesson of that course; anything else lands as usual, never elsewhere."""
from datetime import datetime
from html import unescape

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.learning.models import Enrollment

from .conftest import login, post_form
from .study import make_course
from .test_prep_pages import prepare


@pytest.fixture
def courses(app, world, tx):
    """Two published courses: three lessons in the first, one in the other (ids)."""
    with app.app_context():
        first = make_course(slug="landing-a", title="走访入门", lessons=3)
        other = make_course(slug="landing-b", title="小组入门", lessons=1)
        db.session.commit()
        return first.id, [x.id for x in first.lessons], other.lessons[0].id


def enrol(client, course_id: int, lesson=None):
    page = f"/learn/courses/{course_id}" + (f"?lesson={lesson}" if lesson is not None else "")
    return post_form(client, f"/learn/courses/{course_id}/enroll", {} if lesson is None else {"lesson": lesson},
                     page=page)


def test_the_course_page_carries_a_lesson_of_its_own_into_the_enrol_form(client, courses):
    course_id, lessons, elsewhere = courses
    login(client, "worker_a")
    html = client.get(f"/learn/courses/{course_id}?lesson={lessons[2]}").get_data(as_text=True)
    form = html.split(f'action="/learn/courses/{course_id}/enroll"')[1].split("</form>")[0]
    assert f'<input type="hidden" name="lesson" value="{lessons[2]}">' in form
    assert "报名后将直接进入课节《第3讲》" in unescape(form.split('id="enroll-landing"')[1])
    for other in (elsewhere, "abc", "-1", "0", "", "99999999999999999999", f"{lessons[2]}x"):
        page = client.get(f"/learn/courses/{course_id}?lesson={other}")
        assert page.status_code == 200, other
        assert 'name="lesson"' not in page.get_data(as_text=True), other


def test_enrolling_lands_on_the_lesson_of_that_course(client, courses):
    course_id, lessons, _elsewhere = courses
    login(client, "worker_a")
    r = enrol(client, course_id, lessons[2])
    assert r.status_code == 302 and r.headers["Location"] == f"/learn/lessons/{lessons[2]}"
    lesson = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "报名成功，开始学习《第3讲》吧。" in unescape(lesson)
    # enrolled already (the form sent again): the same lesson, the one enrolment
    assert enrol(client, course_id, lessons[1]).headers["Location"] == f"/learn/lessons/{lessons[1]}"


@pytest.mark.parametrize("sent", ["elsewhere", "abc", "-1", "", "99999999999999999999", "https://evil.example/",
                                  "//evil.example/learn/lessons/1", "/learn/lessons/{first}", "{first} "])
def test_anything_else_lands_as_usual_and_never_elsewhere(app, client, world, courses, sent):
    course_id, lessons, elsewhere = courses
    login(client, "worker_a")
    value = str(elsewhere) if sent == "elsewhere" else sent.format(first=lessons[0])
    r = enrol(client, course_id, value)
    assert r.status_code == 302 and r.headers["Location"] == f"/learn/lessons/{lessons[0]}", value
    with app.app_context():
        assert db.session.scalar(select(Enrollment.id).where(Enrollment.user_id == world["worker_a"],
                                                             Enrollment.course_id == course_id)) is not None


def test_the_recommended_lesson_is_where_the_worker_lands_after_enrolling(app, client, world, clock):
    clock.set(datetime(2026, 3, 10, 2, 0))
    _subject_id, lessons = prepare(app, world)       # the recommended lesson is the course's second
    login(client, "worker_a")
    first = client.get("/home").get_data(as_text=True).split('id="rec-1"')[1].split("</li>")[0]
    href = unescape(first.split('class="fw-semibold rec-link" href="')[1].split('"')[0])
    assert href.endswith(f"?lesson={lessons[1]}#lesson-{lessons[1]}")
    course_page = href.split("#")[0]
    html = client.get(course_page).get_data(as_text=True)
    assert f'name="lesson" value="{lessons[1]}"' in html
    course_id = int(course_page.split("/learn/courses/")[1].split("?")[0])
    r = post_form(client, f"/learn/courses/{course_id}/enroll", {"lesson": lessons[1]}, page=course_page)
    assert r.headers["Location"] == f"/learn/lessons/{lessons[1]}"          # not the first lesson
    assert client.get(r.headers["Location"]).status_code == 200
