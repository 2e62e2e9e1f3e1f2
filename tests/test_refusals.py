"""One answer for each kind of refusal (lms/auth/scope.py), read through HTTP in Chinese:
- a record outside the viewer's scope answers 404, like one that does not exist;
- a page the viewer's role may not open, or an action on a record the viewer sees but may not do,
  answers 403 with a page that says why, who the user is signed in as and what to do, never a bare
  "无权访问".
"""
import re

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.extensions import db
from lms.learning.models import Course, Lesson
from lms.library.models import Expert

from .conftest import login, post_form
from .test_learning import make_course


def _text(r) -> str:
    """The visible text of the page's content (tags stripped, whitespace folded)."""
    html = r.get_data(as_text=True)
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _refusal(r) -> str:
    assert r.status_code == 403
    text = _text(r)
    assert "您的账号不能打开此页面" in text
    assert "无权访问" not in text and "无权打开" not in text, text
    return text


def test_a_page_for_another_role_says_which_roles_who_you_are_and_what_to_do(client):
    login(client, "worker_a")
    text = _refusal(client.get("/accounts/"))
    assert "此页面仅供培训办、系统管理员使用。" in text
    assert "您当前登录的是 东一一甲（账号 worker_a，社区工作者）。" in text
    assert "请联系所在单位的培训办为您的账号开通相应角色" in text and "改用有此权限的账号登录" in text
    html = client.get("/accounts/").get_data(as_text=True)
    assert 'id="error-switch-account"' in html and 'action="/auth/logout"' in html
    assert "返回首页" in html
    # The trainer-only studio names the trainer role too (in the order of the roles' list).
    text = _refusal(client.get("/learn/studio"))
    assert "此页面仅供讲师、培训办、系统管理员使用。" in text


def test_an_office_is_told_why_it_may_not_manage_an_account_it_sees(app, client, world):
    login(client, "office_c")
    assert client.get(f"/accounts/{world['admin']}").status_code == 200  # it sees the account…
    text = _refusal(client.get(f"/accounts/{world['admin']}/edit"))  # …but does not manage it
    assert "系统管理员账号只能由系统管理员管理。" in text and "请联系系统管理员修改。" in text
    assert "您当前登录的是 市培训办（账号 office_c，培训办）。" in text
    text = _refusal(post_form(client, f"/accounts/{world['office_c']}/reset-password", page="/home"))
    assert "不能在账号管理中修改自己的账号。" in text and "修改密码" in text
    # Another district's account is not refused but not found: its existence is not confirmed.
    client = app.test_client()
    login(client, "office_d1")
    r = client.get(f"/accounts/{world['worker_d']}/edit")
    assert r.status_code == 404 and "页面不存在" in _text(r)


def test_a_district_office_is_told_that_city_wide_pools_belong_to_the_city_office(app, client):
    login(client, "office_d1")
    for url in ("/library/experts/new", "/library/experts/import"):
        text = _refusal(client.get(url))
        assert "这个库的记录全市共用，只有市培训办和系统管理员可以添加。" in text, url
        assert "请联系市培训办添加这条记录。" in text
    r = post_form(client, "/library/experts/new", {"name": "越权专家", "active": "y"}, page="/library/")
    assert r.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Expert).where(Expert.name == "越权专家")) is None


@pytest.fixture
def courses(app, tx):
    """A published course by nobody in particular, and two of the trainer's: in review and published."""
    with app.app_context():
        trainer = db.session.scalar(select(User).where(User.username == "trainer"))
        other = make_course(title="他人的课程")
        review = make_course(status="review", title="审核中的课程")
        mine = make_course(title="已发布的自己的课程")
        review.created_by_id = mine.created_by_id = trainer.id
        db.session.commit()
        return {"other": other.id, "review": review.id, "mine": mine.id}


def test_a_trainer_is_told_why_a_course_cannot_be_edited(app, client, courses):
    login(client, "trainer")
    text = _refusal(client.get(f"/learn/courses/{courses['other']}/edit"))
    assert "只有课程作者、培训办和系统管理员可以修改课程。" in text and "把您添加为这门课程的作者" in text
    text = _refusal(client.get(f"/learn/courses/{courses['review']}/edit"))
    assert "课程正在审核中，培训办发布或退回之前不能修改。" in text and "课程被退回后即可再次修改" in text
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.course_id == courses["review"]).limit(1))
    text = _refusal(client.get(f"/learn/lessons/{lesson_id}/edit"))  # its lessons say the same
    assert "课程正在审核中" in text
    r = client.get(f"/learn/courses/{courses['mine']}/edit")  # its own published course: offered a revision
    assert r.status_code == 302 and r.location.endswith(f"/learn/courses/{courses['mine']}#revise")
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.course_id == courses["mine"]).limit(1))
    text = _refusal(client.get(f"/learn/lessons/{lesson_id}/edit"))  # a lesson of it is not edited in place
    assert "课程已发布，学员正在学习，不能直接修改。" in text and "在课程页面发起修订" in text
    text = _refusal(post_form(client, f"/learn/courses/{courses['other']}/revise", page="/learn/studio"))
    assert "只有课程作者、培训办和系统管理员可以修改课程。" in text
    text = _refusal(post_form(client, f"/learn/courses/{courses['review']}/revise", page="/learn/studio"))
    assert "只有已发布的课程才能发起修订。" in text
    # A worker on the same page is told the roles it is for; an office edits it.
    client = app.test_client()
    login(client, "worker_a")
    assert "此页面仅供讲师、培训办、系统管理员使用。" in _refusal(client.get(f"/learn/courses/{courses['mine']}/edit"))
    client = app.test_client()
    login(client, "office_c")
    assert client.get(f"/learn/courses/{courses['mine']}/edit").status_code == 200
    with app.app_context():
        assert db.session.get(Course, courses["mine"]).status == "published"

