"""Studying a course (issue 14, point 3): 继续学习 and what remains on the course page, clear
feedback when a lesson or the course completes, one way forward on the lesson page, and the
certificates linked from 我的学习."""
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, text

from lms.database import utcnow
from lms.extensions import db
from lms.learning import courses, progress, quiz
from lms.learning.models import Course, Enrollment, Lesson
from lms.learning.search import ranked_matches, reindex

from .conftest import login, post_form
from .study import complete, make_course, study, user
from .test_course_quiz import subject
from .test_mock_exams import make_bank


def _continue_link(html: str) -> tuple[str, str]:
    """The 继续学习 button of the course page: (its lesson URL, its label)."""
    m = re.search(r'<a class="btn btn-primary" id="continue" href="([^"]+)">\s*([^<]+?)\s*</a>', html)
    assert m, html
    return m.group(1), m.group(2)


def _remaining(html: str) -> str:
    return re.search(r'<span id="remaining">(.*?)</span>', html, re.S).group(1).strip()


def test_continue_leads_to_the_first_incomplete_lesson_after_the_last_one_studied(app, client, world):
    with app.app_context():
        course = make_course(slug="four", lessons=4)  # four lessons of 20 minutes, 16 minutes' study each
        worker = user("worker_a")
        progress.enroll(worker, course)
        db.session.commit()
        cid, lessons = course.id, [lesson.id for lesson in course.lessons]
    login(client, "worker_a")

    page = client.get(f"/learn/courses/{cid}").get_data(as_text=True)
    assert _continue_link(page) == (f"/learn/lessons/{lessons[0]}", "开始学习：第1讲")
    assert _remaining(page) == "还有 4 节未完成，约需学习 80 分钟。"

    with app.app_context():
        worker, course = user("worker_a"), db.session.get(type(course), cid)
        complete(worker, course.lessons[0])
        complete(worker, course.lessons[1])
        study(worker, course.lessons[3], 5 * 60)  # then opened lesson 4 and studied five minutes of it
        db.session.commit()
    page = client.get(f"/learn/courses/{cid}").get_data(as_text=True)
    assert _continue_link(page) == (f"/learn/lessons/{lessons[3]}", "继续学习：第4讲")  # where the learner left off
    assert _remaining(page) == "还有 2 节未完成，约需学习 35 分钟。"  # 20 + (20 - 5)

    with app.app_context():
        worker, course = user("worker_a"), db.session.get(type(course), cid)
        complete(worker, course.lessons[3])
        db.session.commit()
    page = client.get(f"/learn/courses/{cid}").get_data(as_text=True)
    assert _continue_link(page) == (f"/learn/lessons/{lessons[2]}", "继续学习：第3讲")  # after the last: back to 3
    assert _remaining(page) == "还有 1 节未完成，约需学习 20 分钟。"


def test_what_remains_names_the_quiz(app, client, world):
    with app.app_context():
        make_bank()
        course = make_course(slug="with-quiz", lessons=2)
        quiz.set_quiz(course, quiz.QuizSettings(subject=subject(), topics=["伦理"], questions=6, pass_percent=60,
                                                retries=1))
        worker = user("worker_a")
        progress.enroll(worker, course)
        db.session.commit()
        cid = course.id
    login(client, "worker_a")
    page = client.get(f"/learn/courses/{cid}").get_data(as_text=True)
    assert _remaining(page) == "还有 2 节未完成，约需学习 40 分钟，学完后还要参加课后测验。"
    with app.app_context():
        worker, course = user("worker_a"), db.session.get(type(course), cid)
        for lesson in course.lessons:
            complete(worker, lesson)
        db.session.commit()
    page = client.get(f"/learn/courses/{cid}").get_data(as_text=True)
    assert _continue_link(page) == ("#quiz", "去参加课后测验")
    assert _remaining(page) == "必修课节已全部学完，通过课后测验即可完成本课程。"


def test_completing_says_what_was_credited_and_what_is_next(app, client, world):
    with app.app_context():
        course = make_course(slug="feedback", lessons=2, hours="0.5")
        progress.enroll(user("worker_a"), course)
        db.session.commit()
        cid, lessons = course.id, [lesson.id for lesson in course.lessons]
    login(client, "worker_a")

    # Before completing: one button completes; the next lesson is a plain link named by its title.
    page = client.get(f"/learn/lessons/{lessons[0]}").get_data(as_text=True)
    assert re.search(r'<button class="btn btn-success" id="complete">完成本节，学习下一节</button>', page)
    assert re.search(r'<a class="link-secondary" id="next-lesson" [^>]*>下一节：第2讲 ›</a>', page)
    nav = page[page.index('id="lesson-nav"'):page.index("<dialog")]
    assert nav.count('class="btn') == 1

    with app.app_context():
        study(user("worker_a"), db.session.get(type(course), cid).lessons[0])
        db.session.commit()
    r = post_form(client, f"/learn/lessons/{lessons[0]}/complete", page=f"/learn/lessons/{lessons[0]}")
    assert r.location == f"/learn/lessons/{lessons[1]}"
    page = client.get(r.location).get_data(as_text=True)
    assert "已学完“第1讲”。接下来学习“第2讲”。" in page

    # A completed lesson has no complete button; going on is the one primary button.
    page = client.get(f"/learn/lessons/{lessons[0]}").get_data(as_text=True)
    assert 'id="complete"' not in page and 'id="lesson-done"' in page
    assert re.search(r'<a class="btn btn-primary" id="next-lesson" [^>]*>下一节：第2讲 ›</a>', page)

    # The last lesson completes the course: the message names the 学时 and links to the certificate.
    with app.app_context():
        study(user("worker_a"), db.session.get(type(course), cid).lessons[1])
        db.session.commit()
        enrollment_id = db.session.scalar(select(Enrollment.id).where(Enrollment.course_id == cid))
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = client.post(f"/learn/lessons/{lessons[1]}/complete", headers={"X-CSRFToken": token,
                                                                       "Accept": "application/json"})
    assert r.json["course_completed"] is True
    assert r.json["certificate_url"] == f"/learn/certificates/{enrollment_id}"
    assert "0.5 学时已计入您" in r.json["message"] and "结业证书已颁发" in r.json["message"]


def test_the_course_completing_page_flash_links_to_the_certificate(app, client, world):
    with app.app_context():
        course = make_course(slug="flash", lessons=1, hours="0.5")
        progress.enroll(user("worker_a"), course)
        study(user("worker_a"), course.lessons[0])
        db.session.commit()
        cid, lesson_id = course.id, course.lessons[0].id
    login(client, "worker_a")
    r = post_form(client, f"/learn/lessons/{lesson_id}/complete", page=f"/learn/lessons/{lesson_id}")
    assert r.location == f"/learn/courses/{cid}"
    page = client.get(r.location).get_data(as_text=True)
    with app.app_context():
        enrollment_id = db.session.scalar(select(Enrollment.id).where(Enrollment.course_id == cid))
    assert re.search(r'role="alert">恭喜，课程已完成！0.5 学时已计入您 \d{4} 年的学时，结业证书已颁发。 '
                     rf'<a class="alert-link" href="/learn/certificates/{enrollment_id}">查看结业证书</a>', page)
    # Completing it again (the page's own report of reaching the end may have been first) says the same.
    r = post_form(client, f"/learn/lessons/{lesson_id}/complete", page=f"/learn/lessons/{lesson_id}")
    page = client.get(r.location).get_data(as_text=True)
    assert re.search(r'role="alert">已学完“第1讲”。本课程已完成，0.5 学时已计入您的学时记录。 '
                     rf'<a class="alert-link" href="/learn/certificates/{enrollment_id}">查看结业证书</a>', page)


def test_my_learning_links_to_each_certificate(app, client, world):
    with app.app_context():
        worker = user("worker_a")
        done, doing = make_course(slug="done", title="已学完的课", lessons=1), make_course(slug="doing", lessons=2)
        progress.enroll(worker, doing)
        progress.enroll(worker, done)
        complete(worker, done.lessons[0])
        db.session.commit()
        ids = {e.course_id: e.id for e in db.session.scalars(select(Enrollment))}
        done_id, doing_id = ids[done.id], ids[doing.id]
    login(client, "worker_a")
    mine = client.get("/learn/mine").get_data(as_text=True)
    assert f'href="/learn/certificates/{done_id}"' in mine and f'href="/learn/certificates/{done_id}.pdf"' in mine
    assert f"/learn/certificates/{doing_id}" not in mine
    assert client.get(f"/learn/certificates/{done_id}").status_code == 200
    # An office in scope sees the same links on the worker's record.
    office = app.test_client()
    login(office, "office_c")
    with app.app_context():
        worker_id = user("worker_a").id
    assert f'href="/learn/certificates/{done_id}"' in office.get(f"/learn/progress/{worker_id}").get_data(as_text=True)



# --- search ranks by relevance ------------------------------------------------------------------------

def _published(slug: str, title: str, body: str, featured=False, days_ago=0) -> Course:
    course = Course(slug=slug, title=title, summary="简介", category="service", level="beginner",
                    credit_hours=Decimal("1"), status="published", featured=featured,
                    published_at=utcnow() - timedelta(days=days_ago))
    course.lessons.append(Lesson(slug="l1", position=1, title="第一讲", body=body, minutes=45))
    reindex(course)
    db.session.add(course)
    db.session.flush()
    return course


def _ids_in_order(html: str) -> list[int]:
    return list(dict.fromkeys(int(i) for i in re.findall(r'/learn/courses/(\d+)"', html)))


def test_search_ranks_a_title_match_above_a_text_match_and_a_featured_course(app, client):
    body = "邻里之间互相照应。居家养老离不开邻里，助餐、探访都是养老服务的一部分，养老也是社区的大事。"
    with app.app_context():
        in_title = _published("in-title", "社区养老服务入门", "本讲介绍服务的对象和流程。", days_ago=30)
        featured = _published("featured", "邻里互助实务", body, featured=True, days_ago=20)
        plain = _published("plain", "邻里互助实务", body, days_ago=1)  # newer: without the tie-break, first
        elsewhere = _published("elsewhere", "社区议事规则", "议事协商的程序。", featured=True)
        db.session.commit()
        expected = [in_title.id, featured.id, plain.id]
        default_order = [elsewhere.id, featured.id, plain.id, in_title.id]
    login(client, "worker_a")
    assert _ids_in_order(client.get("/learn/?q=养老").get_data(as_text=True)) == expected
    # Without a query the catalog keeps its order: featured first, then the newest.
    assert _ids_in_order(client.get("/learn/").get_data(as_text=True)) == default_order


def test_the_search_index_follows_a_course_edit_in_the_same_transaction(ctx, world):
    course = _published("renamed", "社区议事规则", "议事协商的程序。")
    other = _published("other", "邻里互助实务", "居家养老与议事。")

    def found(q: str) -> list[int]:
        matches = ranked_matches(q)
        return list(db.session.scalars(select(matches.c.id).order_by(matches.c.rank.desc())))

    assert found("养老") == [other.id]
    courses.update_course(course, title="社区养老议事", summary=course.summary, description="", series=None,
                          category=course.category, level=course.level, tags="", credit_hours=course.credit_hours)
    db.session.flush()  # not committed: the index is written by the same transaction
    assert found("养老") == [course.id, other.id]  # now in its title: first
    assert found("规则") == []


def test_search_uses_its_index(app, ctx):
    """PostgreSQL: the ranked query's tsvector is the indexed expression of the migration, word for
    word (the GIN index is used). SQLite: the query reads the FTS5 table course_fts."""
    if db.engine.dialect.name == "postgresql":
        sql = select(ranked_matches("养老").c.id).compile(db.engine, compile_kwargs={"literal_binds": True})
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {sql}")))
        assert "ix_course_search" in plan, plan
    else:
        query = select(ranked_matches("养老").c.id).compile(db.engine)
        params = tuple(query.params[name] for name in query.positiontup or ())
        plan = "\n".join(str(row) for row in db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {query}", params))
        assert "course_fts" in plan, plan
