"""Certificate allowances and one-time rewards (lms/allowances, docs/ALLOWANCES.md): policies inherited down the
tree with effective dates, awards only from office verification, the monthly roster (month rule, level change,
leaving), rewards once, closed months fixed and corrected by adjustments, scope, and the export = the page."""
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.allowances import policy as policies
from lms.allowances.models import AllowanceAward, AllowanceLine, AllowancePolicy
from lms.audit.models import AuditEntry
from lms.auth.models import User
from lms.exams.models import ExamSubject, RealExamResult
from lms.extensions import db
from lms.orgs.models import OrgUnit

from .conftest import login, post_form

ROW = re.compile(r'<tr class="roster-row" data-kind="(\w+)" data-username="(\w+)" data-amount="(-?\d+)" '
                 r'data-paid="(\d)">')


@pytest.fixture
def aug2026(clock):
    """10:00 on 15 August 2026, Beijing time."""
    clock.set(datetime(2026, 8, 15, 2, 0))
    return clock


def as_user(app, username: str):
    c = app.test_client()
    login(c, username)
    return c


def add_policy(app, world, unit: str, start: date, end: date | None = None, monthly=(100, 300, 500),
               reward=(1000, 2000, 3000), mode="full") -> int:
    with app.app_context():
        v = AllowancePolicy(org_unit_id=world[unit], effective_from=start, effective_to=end, upgrade_reward=mode,
                            monthly_assistant=monthly[0], monthly_intermediate=monthly[1], monthly_senior=monthly[2],
                            reward_assistant=reward[0], reward_intermediate=reward[1], reward_senior=reward[2])
        db.session.add(v)
        db.session.commit()
        return v.id


def add_award(app, world, username: str, level: str, earned_on: date) -> int:
    with app.app_context():
        a = AllowanceAward(user_id=world[username], level=level, earned_on=earned_on, source="office",
                           reference=f"CERT-{username}-{level}")
        db.session.add(a)
        db.session.commit()
        return a.id


def rows(client, world, unit: str, month: str) -> list[tuple[str, str, int, bool]]:
    r = client.get(f"/allowances/?unit={world[unit]}&month={month}")
    assert r.status_code == 200
    return [(k, u, int(a), p == "1") for k, u, a, p in ROW.findall(r.get_data(as_text=True))]


def awards(app, world, username: str) -> list[tuple[str, date, int | None]]:
    with app.app_context():
        return [(a.level, a.earned_on, a.result_id) for a in db.session.scalars(
            select(AllowanceAward).where(AllowanceAward.user_id == world[username]).order_by(AllowanceAward.id))]


# --- policies: inheritance and effective dates -----------------------------------------------------------------

def test_a_unit_follows_the_nearest_policy_in_force_on_its_way_up(app, ctx, world):
    city = add_policy(app, world, "C", date(2026, 1, 1))
    d1 = add_policy(app, world, "D1", date(2026, 6, 10), monthly=(150, 400, 600))
    ended = add_policy(app, world, "S21", date(2026, 1, 1), date(2026, 5, 31), monthly=(90, 90, 90))
    unit = {code: db.session.get(OrgUnit, world[code]) for code in ("C", "D1", "D2", "S12", "C121", "S21")}
    # a street and a community without a policy use their district's, from the district's own date
    assert policies.in_force(unit["S12"], date(2026, 6, 9)).id == city
    assert policies.in_force(unit["S12"], date(2026, 6, 10)).id == d1
    assert policies.in_force(unit["C121"], date(2026, 7, 1)).id == d1
    assert policies.in_force(unit["D2"], date(2026, 7, 1)).id == city
    # a version that ended gives way to the one above; before any version, nothing
    assert policies.in_force(unit["S21"], date(2026, 5, 31)).id == ended
    assert policies.in_force(unit["S21"], date(2026, 6, 1)).id == city
    assert policies.in_force(unit["C"], date(2025, 12, 31)) is None


def test_the_month_rule_across_a_boundary_and_a_level_change(app, tx, world, aug2026):
    add_policy(app, world, "C", date(2026, 1, 1))
    add_policy(app, world, "D1", date(2026, 6, 10), monthly=(150, 400, 600))
    add_award(app, world, "worker_a", "assistant", date(2026, 5, 20))
    add_award(app, world, "worker_a", "intermediate", date(2026, 7, 31))
    office = as_user(app, "office_d1")
    monthly = lambda m: [(u, a) for k, u, a, _p in rows(office, world, "D1", m) if k == "monthly"]  # noqa: E731
    assert monthly("2026-05") == []                        # earned in May: paid from June
    assert monthly("2026-06") == [("worker_a", 100)]       # D1's version began 10 June: June is the city's amount
    assert monthly("2026-07") == [("worker_a", 150)]       # D1's own amount from July
    assert monthly("2026-08") == [("worker_a", 400)]       # 社会工作师 earned on 31 July: from August


def test_leaving_ends_the_allowance_after_the_month_of_the_leave_date(app, tx, world, aug2026):
    add_policy(app, world, "C", date(2026, 1, 1), reward=(0, 0, 0))
    add_award(app, world, "worker_a", "assistant", date(2026, 3, 1))
    add_award(app, world, "worker_b", "assistant", date(2026, 3, 1))
    office = as_user(app, "office_d1")
    r = post_form(office, f"/allowances/workers/{world['worker_a']}/departure", {"left_on": "2026-07-10"},
                  page=f"/allowances/workers/{world['worker_a']}")
    assert r.status_code == 302
    assert ("monthly", "worker_a", 100, False) in rows(office, world, "D1", "2026-07")
    assert [u for _k, u, _a, _p in rows(office, world, "D1", "2026-08")] == ["worker_b"]
    # an inactive account with no leave date: nothing in an open month
    with app.app_context():
        db.session.get(User, world["worker_b"]).active = False
        db.session.commit()
    assert rows(office, world, "D1", "2026-08") == []
    # a leave date in the future is refused with a message
    r = post_form(office, f"/allowances/workers/{world['worker_a']}/departure", {"left_on": "2026-09-01"},
                  page=f"/allowances/workers/{world['worker_a']}", follow_redirects=True)
    assert "离职日期不能晚于今天" in r.get_data(as_text=True)


# --- awards come only from an office's verification ------------------------------------------------------------

def _subject(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ExamSubject.id).where(ExamSubject.code == code))


def _result(app, world, username: str, code: str, year: int) -> int:
    with app.app_context():
        return db.session.scalar(select(RealExamResult.id).join(ExamSubject).where(
            RealExamResult.user_id == world[username], ExamSubject.code == code, RealExamResult.exam_year == year))


def test_a_verified_result_that_completes_a_level_is_the_award_and_pays_once(app, client, world, aug2026):
    add_policy(app, world, "C", date(2026, 1, 1))
    login(client, "worker_a")
    for code in ("junior-general", "junior-practice"):
        post_form(client, "/mock/progress", {"subject_id": _subject(app, code), "exam_year": "2026", "score": "70",
                                             "passed": "1"})
    assert awards(app, world, "worker_a") == []            # the worker's own claim earns nothing
    office = as_user(app, "office_d1")
    for code in ("junior-general", "junior-practice"):
        post_form(office, f"/mock/results/{_result(app, world, 'worker_a', code, 2026)}/verify", page="/mock/results")
    practice = _result(app, world, "worker_a", "junior-practice", 2026)
    assert awards(app, world, "worker_a") == [("assistant", date(2026, 8, 15), practice)]
    # the row traces to the result behind it
    page = office.get(f"/allowances/?unit={world['D1']}&month=2026-09").get_data(as_text=True)
    assert f"社会工作实务(初级) 2026 #{practice}" in page
    assert ("reward", "worker_a", 1000, False) in rows(office, world, "D1", "2026-09")
    # a correction re-verified, a second result of the same level: no second award
    url = f"/mock/progress/{world['worker_a']}"
    post_form(office, url, {"subject_id": _subject(app, "junior-practice"), "exam_year": "2026", "score": "75",
                            "passed": "1", "verify": "y"})
    post_form(office, url, {"subject_id": _subject(app, "junior-general"), "exam_year": "2025", "score": "75",
                            "passed": "1", "verify": "y"})
    assert awards(app, world, "worker_a") == [("assistant", date(2026, 8, 15), practice)]
    with app.app_context():  # the audit trail records the award with the verifying office
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "allowance_award"))
        assert entry.actor_name == "东区培训办" and entry.changes["level"] == [None, "assistant"]


def test_a_profile_level_typed_in_earns_nothing_until_an_office_confirms_it(app, tx, world, aug2026):
    add_policy(app, world, "C", date(2026, 1, 1))
    with app.app_context():
        db.session.get(User, world["worker_b"]).cert_level = "intermediate"
        db.session.commit()
    office = as_user(app, "office_s11")
    assert rows(office, world, "S11", "2026-09") == []
    page = f"/allowances/workers/{world['worker_b']}"
    r = post_form(office, f"{page}/confirm", {"reference": "  "}, page=page, follow_redirects=True)
    assert "请填写证书编号" in r.get_data(as_text=True)
    assert awards(app, world, "worker_b") == []
    post_form(office, f"{page}/confirm", {"reference": "20260001234"}, page=page)
    assert awards(app, world, "worker_b") == [("intermediate", date(2026, 8, 15), None)]
    assert rows(office, world, "S11", "2026-08") == []    # paid from the month after
    assert sorted(rows(office, world, "S11", "2026-09")) == [("monthly", "worker_b", 300, False),
                                                              ("reward", "worker_b", 2000, False)]
    assert "20260001234" in office.get(f"/allowances/?unit={world['S11']}&month=2026-09").get_data(as_text=True)
    # never twice
    r = post_form(office, f"{page}/confirm", {"reference": "X"}, page=page, follow_redirects=True)
    assert "已获认定" in r.get_data(as_text=True)
    # the worker's own office is needed: not the worker, not another district
    assert as_user(app, "office_d2").get(page).status_code == 404
    assert as_user(app, "worker_b").get(page).status_code == 403


# --- no double payment ---------------------------------------------------------------------------------------

def test_a_reward_is_paid_once_and_an_upgrade_pays_by_the_policy(app, tx, world, aug2026):
    city = add_policy(app, world, "C", date(2026, 1, 1), mode="difference")
    add_award(app, world, "worker_a", "assistant", date(2026, 6, 5))
    add_award(app, world, "worker_c", "assistant", date(2026, 6, 5))
    add_award(app, world, "worker_c", "intermediate", date(2026, 6, 20))   # both unpaid: difference counts both
    office = as_user(app, "office_d1")
    july = rows(office, world, "D1", "2026-07")
    assert sorted(r for r in july if r[0] == "reward") == [
        ("reward", "worker_a", 1000, False), ("reward", "worker_c", 1000, False), ("reward", "worker_c", 1000, False)]
    post_form(office, "/allowances/close", {"unit": world["D1"], "month": "2026-07"},
              page=f"/allowances/?unit={world['D1']}&month=2026-07")
    assert all(p for _k, _u, _a, p in rows(office, world, "D1", "2026-07"))
    # a policy change after payment: no second reward, no reward adjustment
    with app.app_context():
        db.session.get(AllowancePolicy, city).reward_assistant = 1500
        db.session.commit()
    assert [r for r in rows(office, world, "D1", "2026-08") if r[0] == "reward"] == []
    # an upgrade after the assistant reward was paid: the difference (this policy), or the full amount
    add_award(app, world, "worker_a", "intermediate", date(2026, 8, 1))
    assert ("reward", "worker_a", 1000, False) in rows(office, world, "D1", "2026-09")   # 2000 − the 1000 paid
    with app.app_context():
        db.session.get(AllowancePolicy, city).upgrade_reward = "full"
        db.session.commit()
    assert ("reward", "worker_a", 2000, False) in rows(office, world, "D1", "2026-09")
    with app.app_context():  # the unique slot: a second reward line for the same level cannot be stored
        assert db.session.scalar(select(func.count()).select_from(AllowanceLine).where(
            AllowanceLine.user_id == world["worker_a"], AllowanceLine.slot == "r:assistant")) == 1


def test_a_closed_month_is_fixed_and_a_correction_is_an_adjustment_next_month(app, tx, world, aug2026):
    city = add_policy(app, world, "C", date(2026, 1, 1), reward=(0, 0, 0))
    add_award(app, world, "worker_a", "assistant", date(2026, 5, 1))
    office = as_user(app, "office_d1")
    roster = f"/allowances/?unit={world['D1']}&month=2026-07"
    r = post_form(office, "/allowances/close", {"unit": world["D1"], "month": "2026-07"}, page=roster,
                  follow_redirects=True)
    assert "2026-07 已为 东区 结算" in r.get_data(as_text=True)
    assert rows(office, world, "D1", "2026-07") == [("monthly", "worker_a", 100, True)]
    # the city office raises the amount retroactively from 1 July
    city_office = as_user(app, "office_c")
    edit = f"/allowances/policies/{city}/edit"
    data = {"effective_from": "2026-01-01", "effective_to": "", "monthly_assistant": "100",
            "monthly_intermediate": "300", "monthly_senior": "500", "reward_assistant": "0",
            "reward_intermediate": "0", "reward_senior": "0", "upgrade_reward": "full", "note": ""}
    post_form(city_office, edit, {**data, "effective_to": "2026-06-30"})
    post_form(city_office, "/allowances/policies/new?unit=" + str(world["C"]),
              {**data, "effective_from": "2026-07-01", "monthly_assistant": "120"})
    assert rows(office, world, "D1", "2026-07") == [("monthly", "worker_a", 100, True)]   # not rewritten
    assert rows(office, world, "D1", "2026-08") == [("monthly", "worker_a", 120, False),
                                                     ("adjustment", "worker_a", 20, False)]
    # a second closing of July, by the district or a street below: refused, nothing paid twice
    r = post_form(office, "/allowances/close", {"unit": world["D1"], "month": "2026-07"}, page=roster,
                  follow_redirects=True)
    assert "已于" in r.get_data(as_text=True)
    street = as_user(app, "office_s11")
    post_form(street, "/allowances/close", {"unit": world["S11"], "month": "2026-07"},
              page=f"/allowances/?unit={world['S11']}&month=2026-07")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AllowanceLine)) == 1
    post_form(office, "/allowances/close", {"unit": world["D1"], "month": "2026-08"},
              page=f"/allowances/?unit={world['D1']}&month=2026-08")
    # August closed with its adjustment: September pays the new amount, no further correction
    add_policy(app, world, "C", date(2026, 9, 1), monthly=(120, 300, 500), reward=(0, 0, 0))
    assert rows(office, world, "D1", "2026-09") == [("monthly", "worker_a", 120, False)]
    # a future month cannot be closed
    r = post_form(office, "/allowances/close", {"unit": world["D1"], "month": "2026-09"},
                  page=f"/allowances/?unit={world['D1']}&month=2026-09", follow_redirects=True)
    assert "尚未开始" in r.get_data(as_text=True)
    with app.app_context():  # the audit trail holds the policy edits and the closings
        entities = {e for (e,) in db.session.execute(select(AuditEntry.entity).distinct())}
        assert {"allowance_policy", "allowance_closing", "allowance_line"} <= entities


def test_a_leave_date_recorded_late_is_taken_back_by_an_adjustment(app, tx, world, aug2026):
    add_policy(app, world, "C", date(2026, 1, 1), reward=(0, 0, 0))
    add_award(app, world, "worker_a", "assistant", date(2026, 5, 1))
    office = as_user(app, "office_d1")
    post_form(office, "/allowances/close", {"unit": world["D1"], "month": "2026-07"},
              page=f"/allowances/?unit={world['D1']}&month=2026-07")
    post_form(office, f"/allowances/workers/{world['worker_a']}/departure", {"left_on": "2026-06-20"},
              page=f"/allowances/workers/{world['worker_a']}")
    assert rows(office, world, "D1", "2026-08") == [("adjustment", "worker_a", -100, False)]


# --- scope, policy editing, validation --------------------------------------------------------------------------

def test_scope_of_the_roster_the_export_and_the_policies(app, tx, world, aug2026):
    city = add_policy(app, world, "C", date(2026, 1, 1))
    d1 = add_policy(app, world, "D1", date(2026, 6, 1))
    add_award(app, world, "worker_a", "assistant", date(2026, 5, 1))
    add_award(app, world, "worker_d", "assistant", date(2026, 5, 1))
    d2 = as_user(app, "office_d2")
    for url in (f"/allowances/?unit={world['D1']}", f"/allowances/roster.xlsx?unit={world['D1']}",
                f"/allowances/policies?unit={world['D1']}", f"/allowances/policies/{d1}/edit",
                f"/allowances/workers/{world['worker_a']}"):
        assert d2.get(url).status_code == 404, url
    assert {u for _k, u, _a, _p in rows(d2, world, "D2", "2026-07")} == {"worker_d"}
    assert d2.get(f"/allowances/policies/{city}/edit").status_code == 403   # sees the city's, may not change it
    # the city office sees the district's override but does not edit it; the district does; an admin may
    city_office = as_user(app, "office_c")
    assert city_office.get(f"/allowances/policies/{d1}/edit").status_code == 403
    assert f'id="edit-{d1}"' not in city_office.get(f"/allowances/policies?unit={world['D1']}").get_data(as_text=True)
    assert as_user(app, "office_d1").get(f"/allowances/policies/{d1}/edit").status_code == 200
    assert as_user(app, "admin").get(f"/allowances/policies/{d1}/edit").status_code == 200
    assert as_user(app, "worker_a").get("/allowances/").status_code == 403
    r = post_form(d2, "/allowances/close", {"unit": world["D1"], "month": "2026-07"},
                  page=f"/allowances/?unit={world['D2']}")
    assert r.status_code == 404


def test_bad_policy_input_gets_a_clear_message(app, tx, world, aug2026):
    office = as_user(app, "office_d1")
    url = f"/allowances/policies/new?unit={world['D1']}"
    data = {"effective_from": "2026-09-01", "effective_to": "", "monthly_assistant": "-100",
            "monthly_intermediate": "3OO", "monthly_senior": "", "reward_assistant": "1000",
            "reward_intermediate": "2000", "reward_senior": "3000", "upgrade_reward": "full", "note": ""}
    page = post_form(office, url, data).get_data(as_text=True)
    assert "“-100”不是 0 到 1000000 之间的整元金额" in page and "“3OO”不是" in page
    page = post_form(office, url, {**data, "monthly_assistant": "100", "monthly_intermediate": "300",
                                   "effective_from": "2026-13-01"}).get_data(as_text=True)
    assert "不是有效日期" in page
    page = post_form(office, url, {**data, "monthly_assistant": "100", "monthly_intermediate": "300",
                                   "effective_to": "2026-08-01"}, follow_redirects=True).get_data(as_text=True)
    assert "早于" in page
    assert as_user(app, "office_d1").get("/allowances/?month=2026-13").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AllowancePolicy)) == 0
    r = post_form(office, url, {**data, "monthly_assistant": "100", "monthly_intermediate": "300"})
    assert r.status_code == 302
    with app.app_context():
        v = db.session.scalar(select(AllowancePolicy))
        assert (v.org_unit_id, v.monthly_assistant, v.monthly_senior) == (world["D1"], 100, 0)


# --- the export is the page ---------------------------------------------------------------------------------

def test_the_export_rows_are_the_page_rows_with_totals(app, tx, world, aug2026):
    add_policy(app, world, "C", date(2026, 1, 1))
    add_award(app, world, "worker_a", "assistant", date(2026, 5, 1))
    add_award(app, world, "worker_b", "intermediate", date(2026, 7, 3))
    add_award(app, world, "worker_d", "assistant", date(2026, 7, 3))
    office = as_user(app, "office_c")
    shown = rows(office, world, "C", "2026-08")
    assert len(shown) == 6   # three allowances, three rewards (worker_a's, earned in May, is still unpaid)
    r = office.get(f"/allowances/roster.xlsx?unit={world['C']}&month=2026-08")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(r.data)).worksheets[0]
    data = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    lines = [row for row in data if row[2]]
    kinds = {"月度津贴": "monthly", "一次性奖励": "reward", "补差": "adjustment"}
    assert sorted((kinds[k], u, a, s == "已发放") for k, _n, u, _unit, _l, a, _c, _p, _ref, s in lines) == sorted(shown)
    totals = {row[0]: row[5] for row in data if row[0] and not row[2]}
    assert totals["合计"] == sum(a for _k, _u, a, _p in shown) == 100 + 1000 + 300 + 2000 + 100 + 1000
    assert all(row[7] for row in lines) and all(row[8] for row in lines)   # policy version and certificate per row
