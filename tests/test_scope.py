"""Scope: an office sees its own subtree and nothing else, by list, by URL and by export."""
import csv
import io

import pytest
from openpyxl import load_workbook

from .conftest import login, post_form


def _usernames_in_list(client, query=""):
    html = client.get(f"/accounts/?{query}").get_data(as_text=True)
    return {
        u
        for u in ("worker_a", "worker_b", "worker_c", "worker_d", "office_d1", "office_d2", "admin")
        if f"<td>{u}</td>" in html
    }


def test_district_office_lists_only_its_district(client):
    login(client, "office_d1")
    assert _usernames_in_list(client) == {"worker_a", "worker_b", "worker_c", "office_d1"}


def test_street_office_lists_only_its_street(client):
    login(client, "office_s11")
    assert _usernames_in_list(client) == {"worker_a", "worker_b"}


def test_city_office_and_admin_see_everyone(client):
    login(client, "office_c")
    assert _usernames_in_list(client) >= {"worker_a", "worker_d", "office_d2"}


def test_filter_by_unit_of_another_district_shows_nothing(client, world):
    login(client, "office_d1")
    assert _usernames_in_list(client, f"unit={world['D2']}") == set()


def test_district_office_cannot_open_another_districts_worker(client, world):
    login(client, "office_d1")
    assert client.get(f"/accounts/{world['worker_a']}").status_code == 200
    assert client.get(f"/accounts/{world['worker_d']}").status_code == 404
    assert client.get(f"/accounts/{world['worker_d']}/edit").status_code == 404
    r = post_form(client, f"/accounts/{world['worker_d']}/reset-password", page="/accounts/")
    assert r.status_code == 404


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_district_office_export_holds_only_its_district(client, fmt):
    login(client, "office_d1")
    r = client.get(f"/accounts/export.{fmt}")
    assert r.status_code == 200
    if fmt == "xlsx":
        ws = load_workbook(io.BytesIO(r.data)).active
        names = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    else:
        names = [row[0] for row in list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))[1:]]
    assert sorted(names) == ["office_d1", "office_s11", "worker_a", "worker_b", "worker_c"]


def test_learner_cannot_open_management_pages(client, world):
    login(client, "worker_a")
    for url in ("/accounts/", f"/accounts/{world['worker_a']}", "/accounts/export.xlsx", "/orgs/", "/accounts/import"):
        assert client.get(url).status_code == 403, url


def test_office_cannot_manage_an_admin_or_grant_admin(client, world):
    login(client, "office_c")
    assert client.get(f"/accounts/{world['admin']}/edit").status_code == 403
    html = client.get("/accounts/new").get_data(as_text=True)
    assert 'value="admin"' not in html


def test_office_cannot_create_accounts_outside_its_area(app, client, world):
    login(client, "office_d1")
    r = post_form(client, "/accounts/new", {"username": "intruder1", "name": "越界", "org_unit_id": world["C211"],
                                            "roles": "learner", "cert_level": "none", "active": "y"})
    assert r.status_code == 200  # refused: D2's community is not a choice for D1
    from sqlalchemy import select

    from lms.auth.models import User
    from lms.extensions import db
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "intruder1")) is None


def test_office_creates_and_edits_a_worker_in_its_area(app, client, world):
    login(client, "office_d1")
    r = post_form(client, "/accounts/new", {"username": "newworker", "name": "新同事", "org_unit_id": world["C121"],
                                            "roles": "learner", "cert_level": "assistant", "gender": "male",
                                            "birth_year": "1995", "years_in_work": "3", "active": "y"})
    assert r.status_code == 302
    assert "初始密码" in client.get(r.location).get_data(as_text=True)
    user_url = r.location
    user_id = int(user_url.rstrip("/").rsplit("/", 1)[1])
    r = post_form(client, f"/accounts/{user_id}/edit", {"name": "新同事改", "org_unit_id": world["C111"],
                                                       "roles": "learner", "cert_level": "intermediate", "active": "y"})
    assert r.status_code == 302
    page = client.get(f"/accounts/{user_id}").get_data(as_text=True)
    assert "新同事改" in page and "社会工作师" in page and "东一一社区" in page


# --- the one subtree expression (scope.in_subtree / scope.above) ------------------------------------

def _codes(ids_by_code, ids):
    return {code for code, i in ids_by_code.items() if i in set(ids)}


def test_in_subtree_selects_the_unit_and_everything_below_it(ctx, world):
    from sqlalchemy import select

    from lms.auth.scope import in_subtree
    from lms.extensions import db
    from lms.orgs.models import OrgUnit

    units = {code: world[code] for code in ("C", "D1", "D2", "S11", "S12", "S21", "C111", "C112", "C121", "C211")}
    d1 = db.session.get(OrgUnit, world["D1"])
    by_unit = db.session.scalars(select(OrgUnit.id).where(in_subtree(OrgUnit.path, d1))).all()
    by_path = db.session.scalars(select(OrgUnit.id).where(in_subtree(OrgUnit.path, d1.path))).all()
    assert _codes(units, by_unit) == _codes(units, by_path) == {"D1", "S11", "S12", "C111", "C112", "C121"}


def test_in_subtree_between_two_columns_pairs_each_unit_with_its_ancestors(ctx, world):
    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased

    from lms.auth.scope import in_subtree
    from lms.extensions import db
    from lms.orgs.models import OrgUnit

    member, ancestor = aliased(OrgUnit), aliased(OrgUnit)
    counts = dict(db.session.execute(
        select(ancestor.id, func.count()).select_from(member)
        .join(ancestor, in_subtree(member.path, ancestor.path)).group_by(ancestor.id)).all())
    assert counts[world["C"]] == 10 and counts[world["D1"]] == 6 and counts[world["S21"]] == 2
    assert counts[world["C111"]] == 1


def test_above_selects_the_unit_and_the_units_over_it(ctx, world):
    from sqlalchemy import select

    from lms.auth.scope import above
    from lms.extensions import db
    from lms.orgs.models import OrgUnit

    units = {code: world[code] for code in ("C", "D1", "D2", "S11", "S12", "S21", "C111", "C112", "C121", "C211")}
    c111 = db.session.get(OrgUnit, world["C111"])
    assert _codes(units, db.session.scalars(select(OrgUnit.id).where(above(c111))).all()) == {"C", "D1", "S11", "C111"}
    assert _codes(units, db.session.scalars(select(OrgUnit.id).where(above(c111.path))).all()) == {
        "C",
        "D1",
        "S11",
        "C111",
    }


# --- scope rules moved out of the views --------------------------------------------------------------

def test_can_see_attempt_candidate_and_staff_of_their_area_only(ctx, world):
    from lms.auth.models import User
    from lms.auth.scope import can_see_attempt
    from lms.exams.models import Attempt
    from lms.extensions import db

    users = {name: db.session.get(User, world[name])
             for name in ("worker_a", "worker_b", "worker_d", "office_d1", "office_d2", "trainer", "admin")}
    attempt = Attempt(user_id=users["worker_a"].id)
    attempt.user = users["worker_a"]
    assert {name for name, u in users.items() if can_see_attempt(u, attempt)} == {"worker_a", "office_d1", "admin"}


def test_question_reviewers_are_offices_and_admins(ctx, world):
    from lms.auth.models import User
    from lms.auth.scope import can_review_questions
    from lms.extensions import db

    names = ("worker_a", "office_d1", "trainer", "admin")
    assert {n for n in names if can_review_questions(db.session.get(User, world[n]))} == {"office_d1", "admin"}


def test_authored_courses_filter_agrees_with_is_course_author(ctx, world):
    from sqlalchemy import select

    from lms.auth.models import User
    from lms.auth.scope import authored_courses_filter, is_course_author
    from lms.extensions import db
    from lms.learning.models import Course

    trainer, office = db.session.get(User, world["trainer"]), db.session.get(User, world["office_d1"])
    mine = Course(slug="scope-mine", title="Mine", category="policy", created_by=trainer)
    other = Course(slug="scope-other", title="Other", category="policy", created_by=office)
    db.session.add_all([mine, other])
    db.session.flush()
    found = set(db.session.scalars(
        select(Course.id).where(authored_courses_filter(trainer), Course.id.in_([mine.id, other.id]))))
    assert found == {mine.id}
    assert is_course_author(trainer, mine) and not is_course_author(trainer, other)


def test_visible_ancestors_stop_at_the_viewers_scope_root(ctx, world):
    from lms.auth.models import User
    from lms.auth.scope import visible_ancestors
    from lms.extensions import db
    from lms.orgs.models import OrgUnit

    c111 = db.session.get(OrgUnit, world["C111"])
    office_d1, admin = db.session.get(User, world["office_d1"]), db.session.get(User, world["admin"])
    assert [u.id for u in visible_ancestors(office_d1, c111)] == [world["D1"], world["S11"]]
    assert [u.id for u in visible_ancestors(admin, c111)] == [world["C"], world["D1"], world["S11"]]
