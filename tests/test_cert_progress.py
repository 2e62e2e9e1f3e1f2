"""Certificate progress agrees with the profile; a worker's own exam results are pending until an
office in scope verifies them; a verified pass that completes a level raises the profile (audited)."""
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEntry
from lms.auth.models import User
from lms.exams import certification
from lms.exams.models import ExamSubject, RealExamResult
from lms.extensions import db

from .conftest import login, post_form


@pytest.fixture
def now2026(clock):
    """10:00 on 15 June 2026, Beijing time: this exam year is 2026."""
    clock.set(datetime(2026, 6, 15, 2, 0))
    return clock


def subject_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ExamSubject.id).where(ExamSubject.code == code))


def set_level(app, user_id: int, level: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).cert_level = level
        db.session.commit()


def level_of(app, user_id: int) -> str:
    with app.app_context():
        db.session.expire_all()
        return db.session.get(User, user_id).cert_level


def results(app, user_id: int) -> list[tuple[str, int, str]]:
    with app.app_context():
        rows = db.session.scalars(select(RealExamResult).where(RealExamResult.user_id == user_id)
                                  .order_by(RealExamResult.id)).all()
        return [(r.subject.code, r.exam_year, r.status) for r in rows]


def section(page: str, level: str) -> str:
    """The card of one exam level on the progress page."""
    m = re.search(rf'<section class="card mb-3" id="level-{level}".*?</section>', page, re.S)
    assert m, f"no card for {level}"
    return m.group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def enter(client, app, code: str, year, passed="1", score="", url="/mock/progress", verify=None):
    data = {"subject_id": subject_id(app, code), "exam_year": str(year), "score": score, "passed": passed}
    if verify:
        data["verify"] = "y"
    return post_form(client, url, data)


def as_user(app, username: str):
    c = app.test_client()
    login(c, username)
    return c


def result_id(app, user_id: int, code: str, year: int) -> int:
    with app.app_context():
        return db.session.scalar(select(RealExamResult.id).join(ExamSubject).where(
            RealExamResult.user_id == user_id, ExamSubject.code == code, RealExamResult.exam_year == year))


# --- the profile is the register ---------------------------------------------------------------------------

def test_a_profile_level_is_shown_as_held_and_implies_the_levels_below(app, client, world, now2026):
    login(client, "worker_a")
    set_level(app, world["worker_a"], "assistant")
    page = client.get("/mock/progress").get_data(as_text=True)
    junior = text(section(page, "junior"))
    assert "已取得" in junior and "尚未通过" not in junior and "须在" not in junior
    assert "档案记载已取得助理社会工作师，无需再考本级科目。" in junior
    middle = text(section(page, "intermediate"))
    assert "已取得" not in middle and "尚未通过" in middle  # the next level is still ahead
    assert (
        "尚需通过：社会工作综合能力(中级)、社会工作法规与政策(中级)、社会工作实务(中级)。本级全部科目须在两个连续考试年度内通过。"
        in middle
    )

    set_level(app, world["worker_a"], "intermediate")
    page = client.get("/mock/progress").get_data(as_text=True)
    junior, middle, senior = (text(section(page, lv)) for lv in ("junior", "intermediate", "senior"))
    assert "已取得更高等级" in junior and "尚未通过" not in junior and "社会工作师" in junior
    assert "已取得" in middle and "尚未通过" not in middle
    assert "已取得" not in senior and "尚未通过" in senior
    assert "尚需通过：社会工作实务(高级)" in senior and "全部" not in senior  # one subject: no "all subjects" rule

    set_level(app, world["worker_a"], "senior")
    page = client.get("/mock/progress").get_data(as_text=True)
    assert all("尚未通过" not in text(section(page, lv)) for lv in ("junior", "intermediate", "senior"))
    assert "档案中的职业水平： 高级社会工作师" in text(page)


# --- a worker's own result is a claim --------------------------------------------------------------------------

def test_a_workers_own_results_are_pending_and_do_not_count(app, client, world, now2026):
    login(client, "worker_a")
    for code in ("junior-general", "junior-practice"):
        r = enter(client, app, code, 2026, score="72")
        assert r.status_code == 302
    assert results(app, world["worker_a"]) == [
        ("junior-general", 2026, "pending"),
        ("junior-practice", 2026, "pending"),
    ]
    page = client.get("/mock/progress").get_data(as_text=True)
    junior = text(section(page, "junior"))
    assert junior.count("待核验 2026 年通过") == 2
    assert "全部科目已于" not in junior and "已取得" not in junior
    assert "尚需通过：社会工作综合能力(初级)、社会工作实务(初级)。" in junior  # pending passes are not counted
    assert "已登记为通过、等待培训办核验：社会工作综合能力(初级)、社会工作实务(初级)" in junior
    assert "有 2 条成绩正等待培训办核验" in text(page)
    assert level_of(app, world["worker_a"]) == "none"
    # a worker may not verify their own result, even by posting the field
    enter(client, app, "junior-general", 2026, score="80", verify=True)
    assert results(app, world["worker_a"])[0][2] == "pending"


def test_the_office_verifies_a_level_is_raised_and_audited(app, client, world, now2026):
    login(client, "worker_a")
    enter(client, app, "junior-general", 2026, score="72")
    enter(client, app, "junior-practice", 2026, score="65.5")
    office = as_user(app, "office_d1")
    queue = office.get("/mock/results").get_data(as_text=True)
    assert "东一一甲" in queue and "共 2 条待核验" in queue
    general = result_id(app, world["worker_a"], "junior-general", 2026)
    practice = result_id(app, world["worker_a"], "junior-practice", 2026)

    r = post_form(office, f"/mock/results/{general}/verify", page="/mock/results")
    assert r.status_code == 302
    assert level_of(app, world["worker_a"]) == "none"  # one subject does not make the level
    r = post_form(office, f"/mock/results/{practice}/verify", page="/mock/results", follow_redirects=True)
    assert "东一一甲 已取得助理社会工作师" in r.get_data(as_text=True)
    assert level_of(app, world["worker_a"]) == "assistant"
    assert "暂无待核验的成绩" in office.get("/mock/results").get_data(as_text=True)
    assert "档案中的职业水平： 助理社会工作师" in text(
        office.get(f"/mock/progress/{world['worker_a']}").get_data(as_text=True)
    )

    with app.app_context():
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "user",
                                                            AuditEntry.entity_id == str(world["worker_a"]))).all()
        assert [(a.actor_name, a.action, a.changes) for a in audit] == \
            [("东区培训办", "update", {"cert_level": ["none", "assistant"]})]
        reviewed = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "real_exam_result")).all()
        assert {a.entity_id for a in reviewed} == {str(general), str(practice)}
        assert all(a.changes["status"] == ["pending", "verified"] for a in reviewed)

    page = client.get("/mock/progress").get_data(as_text=True)
    junior = text(section(page, "junior"))
    assert "已取得" in junior and "尚未通过" not in junior and "待核验" not in junior


def test_intermediate_needs_three_verified_passes_within_two_years_and_levels_only_rise(app, tx, world, now2026):
    office = as_user(app, "office_d1")
    url = f"/mock/progress/{world['worker_b']}"
    enter(office, app, "mid-general", 2024, url=url, verify=True)
    enter(office, app, "mid-law", 2025, url=url, verify=True)
    enter(office, app, "mid-practice", 2026, url=url, verify=True)
    assert level_of(app, world["worker_b"]) == "none"  # 2024–2026 is three years: no level
    enter(office, app, "mid-general", 2026, url=url, verify=True)
    assert level_of(app, world["worker_b"]) == "intermediate"
    assert {s for _c, _y, s in results(app, world["worker_b"])} == {"verified"}
    # only upward: a later junior pass never lowers 社会工作师
    enter(office, app, "junior-general", 2026, url=url, verify=True)
    enter(office, app, "junior-practice", 2026, url=url, verify=True)
    assert level_of(app, world["worker_b"]) == "intermediate"
    # an office that does not tick "verify" leaves the result pending
    enter(office, app, "senior-practice", 2026, url=url)
    assert results(app, world["worker_b"])[-1] == ("senior-practice", 2026, "pending")


def test_a_verified_senior_pass_changes_no_level(app, tx, world, now2026):
    set_level(app, world["worker_b"], "intermediate")
    office = as_user(app, "office_d1")
    enter(office, app, "senior-practice", 2026, url=f"/mock/progress/{world['worker_b']}", verify=True)
    assert level_of(app, world["worker_b"]) == "intermediate"
    page = office.get(f"/mock/progress/{world['worker_b']}").get_data(as_text=True)
    assert "考评结合" in text(section(page, "senior"))


def test_a_rejected_result_shows_the_reason_to_the_worker(app, client, world, now2026):
    login(client, "worker_a")
    enter(client, app, "junior-general", 2025, score="58", passed="1")
    rid = result_id(app, world["worker_a"], "junior-general", 2025)
    office = as_user(app, "office_s11")
    r = post_form(office, f"/mock/results/{rid}/reject", {"reason": "  "}, page="/mock/results", follow_redirects=True)
    assert "请填写不予认可的原因" in r.get_data(as_text=True)
    assert results(app, world["worker_a"]) == [("junior-general", 2025, "pending")]
    r = post_form(
        office, f"/mock/results/{rid}/reject", {"reason": "成绩单显示 58 分，未达合格线"}, page="/mock/results"
    )
    assert r.status_code == 302
    assert results(app, world["worker_a"]) == [("junior-general", 2025, "rejected")]
    page = text(client.get("/mock/progress").get_data(as_text=True))
    assert "未予认可" in page and "原因：成绩单显示 58 分，未达合格线" in page and "请更正后重新登记" in page
    # a second review of the same result is refused, not applied twice
    r = post_form(office, f"/mock/results/{rid}/verify", page="/mock/results", follow_redirects=True)
    assert "这条成绩已经处理过了。" in r.get_data(as_text=True)
    assert results(app, world["worker_a"])[0][2] == "rejected"
    # the worker corrects it: pending again, reason gone
    enter(client, app, "junior-general", 2025, score="58", passed="0")
    assert results(app, world["worker_a"]) == [("junior-general", 2025, "pending")]
    assert "原因：" not in text(client.get("/mock/progress").get_data(as_text=True))


def test_a_worker_cannot_change_a_verified_result(app, client, world, now2026):
    office = as_user(app, "office_d1")
    enter(office, app, "junior-general", 2026, score="75", url=f"/mock/progress/{world['worker_a']}", verify=True)
    login(client, "worker_a")
    r = enter(client, app, "junior-general", 2026, score="95")
    assert r.status_code == 200 and "已由培训办核验；如需更正，请联系培训办" in r.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(RealExamResult, result_id(app, world["worker_a"], "junior-general", 2026))
        assert (row.status, str(row.score)) == ("verified", "75.0")


def test_an_office_reviews_from_the_workers_page_and_returns_there(app, client, world, now2026):
    login(client, "worker_a")
    enter(client, app, "junior-general", 2026)
    rid = result_id(app, world["worker_a"], "junior-general", 2026)
    office = as_user(app, "office_d1")
    url = f"/mock/progress/{world['worker_a']}"
    assert f'id="verify-{rid}"' in office.get(url).get_data(as_text=True)
    assert f'id="verify-{rid}"' not in client.get("/mock/progress").get_data(as_text=True)  # not on the worker's own
    r = post_form(office, f"/mock/results/{rid}/verify", {"next": url}, page=url)
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    assert results(app, world["worker_a"]) == [("junior-general", 2026, "verified")]


# --- scope ------------------------------------------------------------------------------------------------------

def test_offices_review_only_results_in_their_area(app, client, world, now2026):
    login(client, "worker_a")  # 东一一社区, in 东区 / 东一街道
    enter(client, app, "junior-general", 2026)
    rid = result_id(app, world["worker_a"], "junior-general", 2026)
    other = as_user(app, "office_d2")  # 西区
    assert "东一一甲" not in other.get("/mock/results").get_data(as_text=True)
    assert post_form(other, f"/mock/results/{rid}/verify", page="/mock/results").status_code == 404
    assert post_form(other, f"/mock/results/{rid}/reject", {"reason": "x"}, page="/mock/results").status_code == 404
    assert other.get(f"/mock/progress/{world['worker_a']}").status_code == 404
    assert results(app, world["worker_a"]) == [("junior-general", 2026, "pending")]
    # a street office sees its own street only
    c_worker = as_user(app, "worker_c")  # 东二街道
    enter(c_worker, app, "junior-general", 2026)
    street = as_user(app, "office_s11")
    queue = street.get("/mock/results").get_data(as_text=True)
    assert "东一一甲" in queue and "东二一丙" not in queue
    rid_c = result_id(app, world["worker_c"], "junior-general", 2026)
    assert post_form(street, f"/mock/results/{rid_c}/verify", page="/mock/results").status_code == 404
    # nobody verifies their own result; workers have no queue
    own = as_user(app, "office_d1")
    enter(own, app, "junior-general", 2026)
    rid_own = result_id(app, world["office_d1"], "junior-general", 2026)
    assert "东区培训办" not in re.sub(r"<nav.*?</nav>", "", own.get("/mock/results").get_data(as_text=True), flags=re.S)
    assert post_form(own, f"/mock/results/{rid_own}/verify", page="/mock/results").status_code == 404
    assert client.get("/mock/results").status_code == 403
    assert post_form(own, "/mock/results/99999999999/verify", page="/mock/results").status_code == 404


# --- wording -----------------------------------------------------------------------------------------------------

def test_the_window_reads_naturally_for_one_and_two_years(app, tx, clock, world):
    office = as_user(app, "office_d1")
    url = f"/mock/progress/{world['worker_a']}"
    clock.set(datetime(2025, 6, 15, 2, 0))
    enter(office, app, "junior-general", 2025, url=url, verify=True)
    enter(office, app, "mid-general", 2025, url=url, verify=True)
    page = office.get(url).get_data(as_text=True)
    assert "2025–2025" not in page and "2026–2026" not in page
    assert "须在 2025 年度内通过：社会工作实务(初级)" in text(section(page, "junior"))
    middle = text(section(page, "intermediate"))
    assert "须在 2025–2026 两个连续考试年度内通过：" in middle
    assert "2025 年通过，有效期至 2026 年度" in middle
    # a year later the 2025 pass can be combined only with 2026 results
    clock.set(datetime(2026, 6, 15, 2, 0))
    page = office.get(url).get_data(as_text=True)
    assert "须在 2026 年度内通过：" in text(section(page, "intermediate"))
    assert "2025 年通过，已过有效期" in text(section(page, "junior"))
    assert "尚需通过：社会工作综合能力(初级)、社会工作实务(初级)。本级全部科目须在同一考试年度内通过。" \
        in text(section(page, "junior"))


def test_level_progress_window():
    mid = ["mid-general", "mid-practice", "mid-law"]
    assert certification.level_progress("intermediate", mid, [], 2026, 2).window is None
    assert certification.level_progress("intermediate", mid, [("mid-law", 2025)], 2026, 2).window == (2026, 2026)
    assert certification.level_progress("intermediate", mid, [("mid-law", 2026)], 2026, 2).window == (2026, 2027)
    p = certification.level_progress(
        "junior", ["junior-general", "junior-practice"], [("junior-general", 2026)], 2026, 1
    )
    assert p.window == (2026, 2026) and p.valid_until("junior-general") == 2026


# --- the form -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ({"subject_id": "", "exam_year": "2026", "passed": "1"}, "请从列表中选择考试科目。"),
    ({"subject_id": "999999", "exam_year": "2026", "passed": "1"}, "请从列表中选择考试科目。"),
    ({"exam_year": "二〇二六", "passed": "1"}, "考试年度请填写四位数字年份，例如 2026。"),
    ({"exam_year": "", "passed": "1"}, "考试年度请填写四位数字年份，例如 2026。"),
    ({"exam_year": "2007", "passed": "1"}, "考试年度须在 2008 至 2026 年之间。"),
    ({"exam_year": "2027", "passed": "1"}, "考试年度须在 2008 至 2026 年之间。"),
    ({"exam_year": "2026", "score": "101", "passed": "1"}, "成绩须是 0 到 100 之间的数字，最多保留一位小数"),
    ({"exam_year": "2026", "score": "72.25", "passed": "1"}, "成绩须是 0 到 100 之间的数字，最多保留一位小数"),
    ({"exam_year": "2026", "score": "NaN", "passed": "1"}, "成绩须是 0 到 100 之间的数字，最多保留一位小数"),
    ({"exam_year": "2026", "score": "七十", "passed": "1"}, "成绩须是 0 到 100 之间的数字，最多保留一位小数"),
    ({"exam_year": "2026", "passed": "maybe"}, "请选择该科目是否通过。"),
])
def test_bad_input_gets_a_clear_message_and_saves_nothing(app, client, world, now2026, data, message):
    login(client, "worker_a")
    data = dict(data)
    data.setdefault("subject_id", subject_id(app, "junior-general"))
    r = post_form(client, "/mock/progress", data)
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RealExamResult)) == 0
