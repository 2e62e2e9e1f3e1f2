"""The course library: authoring → review → publish → find → study → 学时 → certificate."""
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.auth.models import User
from lms.database import utcnow
from lms.exams.bank_io import import_shipped_bank
from lms.extensions import db
from lms.learning import courses, progress
from lms.learning.importer import CourseFileError, import_courses
from lms.learning.models import Course, Credit, Enrollment, Lesson

from .conftest import login, post_form
from .study import beat_over_http, complete

COURSES = Path(__file__).resolve().parent.parent / "courses"


def make_course(
    status="published", title="社区养老服务入门", body="本节讨论居家养老与助餐服务。", lessons=2, hours="2"
):
    course = Course(slug=f"t-{title}", title=title, summary="简介", category="service", level="beginner",
                    credit_hours=Decimal(hours), status=status, published_at=utcnow())
    for i in range(1, lessons + 1):
        course.lessons.append(Lesson(slug=f"l{i}", position=i, title=f"第{i}讲", body=body, minutes=30))
    from lms.learning.search import reindex

    reindex(course)
    db.session.add(course)
    db.session.flush()
    return course


def ids_in(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'/learn/courses/(\d+)"', html)}


# --- the shipped library -------------------------------------------------------------------

def test_shipped_courses_import_and_reimport_changes_nothing(ctx):
    import_shipped_bank()  # the courses' quizzes draw from it
    first = import_courses(COURSES)
    assert first.created >= 12
    lessons = db.session.scalar(select(func.count()).select_from(Lesson))
    assert lessons >= 3 * first.created
    for course in db.session.scalars(select(Course)):
        assert len(course.lessons) >= 3 and course.status == "published" and course.search_tokens
    snapshot = [
        (c.slug, c.title, c.search_tokens, [lesson.body for lesson in c.lessons])
        for c in db.session.scalars(select(Course).order_by(Course.slug))
    ]
    second = import_courses(COURSES)
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)
    assert db.session.scalar(select(func.count()).select_from(Lesson)) == lessons
    assert snapshot == [
        (c.slug, c.title, c.search_tokens, [lesson.body for lesson in c.lessons])
        for c in db.session.scalars(select(Course).order_by(Course.slug))
    ]


def test_a_bad_course_folder_imports_nothing(ctx, tmp_path):
    good = tmp_path / "good-course"
    good.mkdir()
    (good / "course.md").write_text(
        "---\ntitle: 好课\nsummary: s\ncategory: 社区治理\ncredit_hours: 1\n---\n介绍", "utf-8"
    )
    (good / "01-a.md").write_text("---\ntitle: 第一讲\nminutes: 45\n---\n正文", "utf-8")
    bad = tmp_path / "bad-course"
    bad.mkdir()
    (bad / "course.md").write_text("---\ntitle: 坏课\ncategory: 不存在的类别\n---\n", "utf-8")
    with pytest.raises(CourseFileError) as exc:
        import_courses(tmp_path)
    assert "bad-course" in str(exc.value) and "summary" in str(exc.value) and "category" in str(exc.value)
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_a_course_credits_no_more_than_its_lessons_take(app, ctx, tmp_path):
    """学时 are for study that happened: 1 学时 is CREDIT_HOUR_MINUTES (45) of required lessons."""
    folder = tmp_path / "generous"
    folder.mkdir()
    (folder / "course.md").write_text(
        "---\ntitle: 慷慨的课\nsummary: s\ncategory: 社区治理\ncredit_hours: 2\n---\n介绍", "utf-8"
    )
    (folder / "01-a.md").write_text("---\ntitle: 第一讲\nminutes: 45\n---\n正文", "utf-8")
    (folder / "02-b.md").write_text("---\ntitle: 选学\nminutes: 60\nrequired: false\n---\n正文", "utf-8")
    with pytest.raises(CourseFileError) as exc:
        import_courses(tmp_path)
    assert "generous" in str(exc.value) and "45" in str(exc.value)
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0
    (folder / "course.md").write_text(
        "---\ntitle: 慷慨的课\nsummary: s\ncategory: 社区治理\ncredit_hours: 1\n---\n介绍", "utf-8"
    )
    assert import_courses(tmp_path).created == 1  # 45 required minutes make exactly one 学时

    draft = make_course(status="draft", hours="2", lessons=2)  # two lessons of 30 minutes: 1.33 学时 at most
    with pytest.raises(courses.CourseError) as exc:
        courses.submit_for_review(draft)
    assert "60" in str(exc.value)
    with pytest.raises(courses.CourseError):
        courses.publish_course(draft, db.session.get(User, 1))
    draft.credit_hours = Decimal("1.3")
    courses.submit_for_review(draft)
    assert draft.status == "review"


def test_search_finds_a_two_character_chinese_word(app, client):
    with app.app_context():
        import_shipped_bank()
        import_courses(COURSES)
        db.session.commit()
        elderly = db.session.scalar(select(Course.id).where(Course.slug == "elderly-care-services"))
        deliberation = db.session.scalar(select(Course.id).where(Course.slug == "community-deliberation"))
        total = db.session.scalar(select(func.count()).select_from(Course))
    login(client, "worker_a")
    found = ids_in(client.get("/learn/?q=养老").get_data(as_text=True))
    assert elderly in found and len(found) < total
    found = ids_in(client.get("/learn/?q=议事协商").get_data(as_text=True))
    assert deliberation in found and elderly not in found
    assert ids_in(client.get("/learn/?q=量子力学").get_data(as_text=True)) == set()
    assert len(ids_in(client.get("/learn/?featured=1").get_data(as_text=True))) >= 3


# --- authoring and review ----------------------------------------------------------------------

def test_trainer_writes_office_returns_then_publishes(app, client, world):
    login(client, "trainer")
    r = post_form(client, "/learn/studio/new", {"title": "居民议事会的组织", "summary": "如何开好议事会",
                                                "description": "## 目标\n学会组织议事会", "category": "governance",
                                                "level": "beginner", "credit_hours": "1.5", "tags": "议事, 协商"})
    assert r.status_code == 302
    course_id = int(re.search(r"/courses/(\d+)/edit", r.location).group(1))
    r = post_form(client, f"/learn/courses/{course_id}/submit", page=f"/learn/courses/{course_id}/edit")
    assert "请至少添加一个课节再提交" in client.get(r.location).get_data(as_text=True)
    for n in (1, 2):
        r = post_form(client, f"/learn/courses/{course_id}/lessons/new",
                      {"title": f"第{n}讲", "body": f"议事会第{n}步：听取居民意见。", "minutes": "35", "required": "y"})
        assert r.status_code == 302
    post_form(client, f"/learn/courses/{course_id}/submit", page=f"/learn/courses/{course_id}/edit")

    worker = app.test_client()
    login(worker, "worker_a")
    assert worker.get(f"/learn/courses/{course_id}").status_code == 404  # not published yet
    assert course_id not in ids_in(worker.get("/learn/?q=议事会").get_data(as_text=True))

    office = app.test_client()
    login(office, "office_d1")
    assert f"/learn/courses/{course_id}" in office.get("/learn/review").get_data(as_text=True)
    r = post_form(
        office,
        f"/learn/courses/{course_id}/review",
        {"action": "return", "comment": ""},
        page=f"/learn/courses/{course_id}",
    )
    assert "退回时审核意见必填" in office.get(r.location).get_data(as_text=True)
    post_form(
        office,
        f"/learn/courses/{course_id}/review",
        {"action": "return", "comment": "请补充案例"},
        page=f"/learn/courses/{course_id}",
    )

    page = client.get(f"/learn/courses/{course_id}/edit").get_data(as_text=True)
    assert "请补充案例" in page and "已退回" in page
    lesson_id = db_lesson_id(app, course_id)
    post_form(
        client,
        f"/learn/lessons/{lesson_id}/edit",
        {"title": "第1讲", "body": "案例：桂香社区议事会。", "minutes": "35", "required": "y"},
    )
    post_form(client, f"/learn/courses/{course_id}/submit", page=f"/learn/courses/{course_id}/edit")
    assert client.get(f"/learn/courses/{course_id}/edit").status_code == 403  # in review: the trainer waits

    post_form(
        office,
        f"/learn/courses/{course_id}/review",
        {"action": "publish", "comment": ""},
        page=f"/learn/courses/{course_id}",
    )
    assert course_id in ids_in(worker.get("/learn/?q=议事会").get_data(as_text=True))
    assert worker.get(f"/learn/courses/{course_id}").status_code == 200


def db_lesson_id(app, course_id):
    with app.app_context():
        return db.session.scalar(select(Lesson.id).where(Lesson.course_id == course_id).order_by(Lesson.position))


def test_learner_cannot_author_or_review(client, app):
    login(client, "worker_a")
    assert client.get("/learn/studio").status_code == 403
    assert client.get("/learn/studio/new").status_code == 403
    assert client.get("/learn/review").status_code == 403
    with app.app_context():
        course = make_course()
        db.session.commit()
        cid = course.id
    assert client.get(f"/learn/courses/{cid}/edit").status_code == 403
    assert post_form(client, f"/learn/courses/{cid}/review", {"action": "unpublish"}, page="/home").status_code == 403


# --- studying -----------------------------------------------------------------------------------

def test_heartbeat_counts_time_but_not_idle_time(ctx, world):
    user = db.session.get(User, world["worker_a"])
    course = make_course()
    lesson = course.lessons[0]
    with pytest.raises(progress.StudyError):
        progress.heartbeat(user, lesson)
    progress.enroll(user, course)
    t0 = utcnow()
    progress.heartbeat(user, lesson, t0)
    progress.heartbeat(user, lesson, t0 + timedelta(seconds=30))
    row = progress.heartbeat(user, lesson, t0 + timedelta(seconds=60))
    assert row.seconds_spent == 60
    row = progress.heartbeat(user, lesson, t0 + timedelta(hours=3))  # an idle tab came back
    assert row.seconds_spent == 60 + progress.MAX_CREDIT_PER_BEAT


def test_course_completes_and_credits_once(ctx, world):
    user = db.session.get(User, world["worker_a"])
    course = make_course(hours="2.5", lessons=3)
    course.lessons[2].required = False
    progress.enroll(user, course)
    assert complete(user, course.lessons[0]) is False
    assert complete(user, course.lessons[1]) is True  # the optional one is not needed
    assert progress.complete_lesson(user, course.lessons[1]) is False
    assert complete(user, course.lessons[2]) is False
    credits = db.session.scalars(select(Credit).where(Credit.user_id == user.id)).all()
    assert [(c.source, c.source_id, c.hours) for c in credits] == [("course", course.id, Decimal("2.5"))]
    assert progress.hours_in_year(user.id, utcnow().year) == Decimal("2.5")


def test_study_journey_through_http(app, client, world, clock):
    with app.app_context():
        course = make_course(hours="2")
        db.session.commit()
        cid, lessons = course.id, [lesson.id for lesson in course.lessons]
    login(client, "worker_a")
    assert client.get(f"/learn/lessons/{lessons[0]}").status_code == 302  # enrol first
    r = post_form(client, f"/learn/courses/{cid}/enroll", page=f"/learn/courses/{cid}")
    assert r.location.endswith(f"/learn/lessons/{lessons[0]}")
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get(r.location).get_data(as_text=True)).group(1)
    beat = client.post(f"/learn/lessons/{lessons[0]}/beat", headers={"X-CSRFToken": token})
    assert beat.status_code == 200 and beat.json["seconds"] == 0
    r = client.post(
        f"/learn/lessons/{lessons[0]}/complete", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )
    assert r.status_code == 409 and r.json["remaining"] == 24 * 60  # 80 % of 30 minutes
    assert beat_over_http(client, lessons[0], 24 * 60, clock, token)["can_complete"] is True
    r = client.post(
        f"/learn/lessons/{lessons[0]}/complete", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )
    assert r.json["completed"] is True and r.json["course_completed"] is False
    assert r.json["next_url"] == f"/learn/lessons/{lessons[1]}" and "第1讲" in r.json["message"]
    assert "50%" in client.get("/learn/mine").get_data(as_text=True)
    beat_over_http(client, lessons[1], 24 * 60, clock, token)
    r = post_form(client, f"/learn/lessons/{lessons[1]}/complete", page=f"/learn/lessons/{lessons[1]}")
    page = client.get(r.location).get_data(as_text=True)
    assert "计入 2.0 学时" in page
    mine = client.get("/learn/mine").get_data(as_text=True)
    assert "100%" in mine and '<strong id="hours-total">2.0</strong>' in mine
    with app.app_context():
        enrollment_id = db.session.scalar(select(Enrollment.id).where(Enrollment.course_id == cid))
    pdf = client.get(f"/learn/certificates/{enrollment_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    code = re.search(rb"certificate-(\w+)\.pdf", pdf.headers["Content-Disposition"].encode()).group(1).decode()
    again = client.get(f"/learn/certificates/{enrollment_id}.pdf")
    assert code.encode() in again.headers["Content-Disposition"].encode()  # issued once
    public = app.test_client()
    page = public.get(f"/learn/verify/{code}").get_data(as_text=True)
    assert "该证书真实有效" in page and "东一一甲" in page and "社区养老服务入门" in page
    assert "没有验证码为" in public.get("/learn/verify/NOSUCHCODE").get_data(as_text=True)
    # Rating after completion.
    post_form(
        client, f"/learn/courses/{cid}/rate", {"stars": "4", "comment": "案例很实用"}, page=f"/learn/courses/{cid}"
    )
    trainer = app.test_client()
    login(trainer, "office_c")
    assert "案例很实用" in trainer.get(f"/learn/courses/{cid}").get_data(as_text=True)


def test_rating_needs_completion(app, client):
    with app.app_context():
        course = make_course()
        db.session.commit()
        cid = course.id
    login(client, "worker_a")
    post_form(client, f"/learn/courses/{cid}/enroll", page=f"/learn/courses/{cid}")
    r = post_form(client, f"/learn/courses/{cid}/rate", {"stars": "5"}, page=f"/learn/courses/{cid}")
    assert "完成课程后才能评价" in client.get(r.location).get_data(as_text=True)


def test_progress_and_certificates_stay_private(app, client, world):
    with app.app_context():
        course = make_course(lessons=1)
        user = db.session.get(User, world["worker_a"])
        progress.enroll(user, course)
        complete(user, course.lessons[0])
        db.session.commit()
        eid = db.session.scalar(select(Enrollment.id).where(Enrollment.user_id == user.id))
    other = app.test_client()
    login(other, "worker_b")
    assert other.get(f"/learn/progress/{world['worker_a']}").status_code == 404
    assert other.get(f"/learn/certificates/{eid}.pdf").status_code == 404
    office_d2 = app.test_client()
    login(office_d2, "office_d2")
    assert office_d2.get(f"/learn/progress/{world['worker_a']}").status_code == 404
    office_d1 = app.test_client()
    login(office_d1, "office_d1")
    assert "东一一甲" in office_d1.get(f"/learn/progress/{world['worker_a']}").get_data(as_text=True)


def test_learner_cannot_open_an_unpublished_course_or_its_lessons(app, client):
    with app.app_context():
        course = make_course(status="draft")
        db.session.commit()
        cid, lid = course.id, course.lessons[0].id
    login(client, "worker_a")
    assert client.get(f"/learn/courses/{cid}").status_code == 404
    assert client.get(f"/learn/lessons/{lid}").status_code == 404
    assert post_form(client, f"/learn/courses/{cid}/enroll", page="/home").status_code == 404


def test_office_assigns_a_course_to_its_street(app, client, world):
    with app.app_context():
        course = make_course()
        db.session.commit()
        cid = course.id
    login(client, "office_d1")
    r = post_form(client, f"/learn/courses/{cid}/assign", {"org_unit_id": world["S11"], "cert_level": ""})
    assert r.status_code == 302
    with app.app_context():
        enrolled = set(db.session.scalars(select(User.username).join(Enrollment, Enrollment.user_id == User.id)
                                          .where(Enrollment.course_id == cid)))
    assert enrolled == {"worker_a", "worker_b"}
    r = post_form(client, f"/learn/courses/{cid}/assign", {"org_unit_id": world["D2"], "cert_level": ""})
    assert r.status_code == 200  # D2 is not a choice for D1's office


XSS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(2)">',
    "[click](javascript:alert(3))",
    '<a href="JaVaScRiPt:alert(4)">x</a>',
    '<svg onload="alert(5)"><circle/></svg>',
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(6))">s</p>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(7)>',
]


def assert_inert(html: str):
    lowered = html.lower()
    for bad in ("<script>alert", "onerror=", "onload=", "javascript:", "<svg", "<iframe", "<style>body", "<math"):
        assert bad not in lowered, bad


def test_xss_in_course_and_lesson_markdown_is_inert(app, client):
    payload = "\n\n".join(XSS)
    with app.app_context():
        course = make_course(body=payload)
        course.description = payload
        db.session.commit()
        cid, lid = course.id, course.lessons[0].id
    login(client, "worker_a")
    assert_inert(client.get(f"/learn/courses/{cid}").get_data(as_text=True))
    post_form(client, f"/learn/courses/{cid}/enroll", page=f"/learn/courses/{cid}")
    assert_inert(client.get(f"/learn/lessons/{lid}").get_data(as_text=True))
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/home").get_data(as_text=True)).group(1)
    preview = client.post("/markdown/preview", data={"text": payload}, headers={"X-CSRFToken": token})
    assert_inert(preview.json["html"])


def test_uploads_are_checked_by_content(app, client, world, tmp_path):
    import io

    login(client, "trainer")
    r = post_form(client, "/learn/studio/new", {"title": "上传测试", "summary": "s", "category": "methods",
                                                "level": "beginner", "credit_hours": "1"})
    cid = int(re.search(r"/courses/(\d+)/edit", r.location).group(1))
    fake = io.BytesIO(b"<html><script>alert(1)</script></html>")
    r = post_form(client, f"/learn/courses/{cid}/lessons/new", {"title": "L", "body": "b", "minutes": "10",
                                                                 "image": (fake, "photo.png")},
                  content_type="multipart/form-data")
    assert r.status_code == 200 and "不是允许的文件类型" in r.get_data(as_text=True)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = post_form(client, f"/learn/courses/{cid}/lessons/new", {"title": "L", "body": "b", "minutes": "10",
                                                                 "image": (io.BytesIO(png), "photo.png")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context():
        body = db.session.scalar(select(Lesson.body).where(Lesson.course_id == cid))
    url = re.search(r"\((/files/\w+)\)", body).group(1)
    served = client.get(url)
    assert served.data == png and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get(url).status_code == 302  # login required


def test_rate_creates_then_replaces_the_users_one_rating(ctx, world):
    """progress.rate (the upsert the rate view calls): one row per user and course, the last word kept."""
    from sqlalchemy import func, select

    from lms.auth.models import User
    from lms.extensions import db
    from lms.learning import progress
    from lms.learning.models import Course, CourseRating

    course = Course(slug="rate-upsert", title="Rate upsert", category="policy")
    db.session.add(course)
    db.session.flush()
    worker_a, worker_b = db.session.get(User, world["worker_a"]), db.session.get(User, world["worker_b"])
    first = progress.rate(worker_a, course, "3", "  ok  ")
    assert (first.stars, first.comment) == (3, "ok")
    again = progress.rate(worker_a, course, 5, "")
    progress.rate(worker_b, course, 4, None)
    assert again.id == first.id and (again.stars, again.comment) == (5, "")
    assert db.session.scalar(select(func.count()).select_from(CourseRating)
                             .where(CourseRating.course_id == course.id)) == 2
