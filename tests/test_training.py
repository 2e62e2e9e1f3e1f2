"""Tiered training classes: registration, waiting list, check-in, attendance, 学时."""
import io
import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from lms.auth.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.learning.models import Credit
from lms.orgs.models import OrgUnit
from lms.training import rules
from lms.training.models import (Attendance, AttendanceChange, ProxyCheckinFlag, Registration, Training,
                                 TrainingSession)

from .conftest import login, post_form


def unit(code):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def make_training(organiser="D1", audience=None, capacity=10, deadline_days=3, sessions=((-5, 120),), hours="2",
                  cert_levels=""):
    """A class organised by `organiser`; sessions as (minutes from now to the start, length in minutes)."""
    org = unit(organiser)
    training = Training(title="社区议事协商专题培训", level=org.level, org_unit=org, audience_unit=unit(audience or organiser),
                        capacity=capacity, registration_deadline=utcnow() + timedelta(days=deadline_days),
                        status="open", lock_version=0, audience_cert_levels=cert_levels)
    db.session.add(training)
    db.session.flush()
    now = utcnow()
    for start, length in sessions:
        rules.new_session(training, starts_at=now + timedelta(minutes=start),
                          ends_at=now + timedelta(minutes=start + length), credit_hours=Decimal(hours),
                          place_kind="text", place_text="桂香社区党群服务中心")
    return training


# --- classes ------------------------------------------------------------------------------------

def test_a_street_office_cannot_organise_a_city_class(ctx, world):
    office = user("office_s11")
    with pytest.raises(rules.TrainingError):
        rules.check_organiser(office, "city", unit("C"), unit("C"))
    with pytest.raises(rules.TrainingError):
        rules.check_organiser(office, "street", unit("S11"), unit("S12"))  # audience outside its street
    rules.check_organiser(office, "street", unit("S11"), unit("C111"))


def test_office_creates_a_class_at_its_own_level(app, client, world):
    login(client, "office_s11")
    deadline = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    r = post_form(client, "/training/new", {"title": "楼栋长培训", "audience_unit_id": world["S11"], "capacity": "30",
                                            "registration_deadline": deadline, "status": "open", "course_id": "0"})
    assert r.status_code == 302
    tid = int(r.location.rsplit("/", 1)[1])
    with app.app_context():
        t = db.session.get(Training, tid)
        assert (t.level, t.org_unit.code) == ("street", "S11")
    r = post_form(client, "/training/new", {"title": "越界", "audience_unit_id": world["D2"], "capacity": "30",
                                            "registration_deadline": deadline, "status": "open", "course_id": "0"})
    assert r.status_code == 200  # D2 is no choice for a street office of D1


def test_weekly_series_and_session_import(app, client, world):
    with app.app_context():
        t = make_training(sessions=())
        db.session.commit()
        tid = t.id
    login(client, "office_d1")
    r = post_form(client, f"/training/{tid}/sessions/new", {"date": "2026-12-01", "start": "14:00", "end": "16:30",
                                                            "credit_hours": "2.5", "place_kind": "text",
                                                            "place_text": "街道会议室", "weeks": "3", "base_id": "0"})
    assert r.status_code == 302
    with app.app_context():
        starts = db.session.scalars(select(TrainingSession.starts_at).where(TrainingSession.training_id == tid)
                                    .order_by(TrainingSession.starts_at)).all()
    assert [s.isoformat() for s in starts] == ["2026-12-01T06:00:00", "2026-12-08T06:00:00", "2026-12-15T06:00:00"]
    bad = "日期,开始时间,结束时间,学时,地点类型,基地名称,地点,线上链接\n2026-12-20,09:00,08:00,2,其他,,会议室,\n2026-12-21,09:00,11:00,abc,基地,不存在的基地,,\n2026-12-22,09:00,11:00,2,线上,,,ftp://x\n"
    r = post_form(client, f"/training/{tid}/sessions/import", {"file": (io.BytesIO(bad.encode()), "s.csv")},
                  content_type="multipart/form-data")
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", r.get_data(as_text=True))
    assert {(int(a), b) for a, b in rows} == {(2, "结束时间"), (3, "学时"), (3, "培训基地"), (4, "线上链接")}
    good = "日期,开始时间,结束时间,学时,地点类型,基地名称,地点,线上链接\n2026-12-20,09:00,11:00,2,其他,,会议室,\n2026-12-22,09:00,11:00,2,线上,,,https://meet.example.org/1\n"
    r = post_form(client, f"/training/{tid}/sessions/import", {"file": (io.BytesIO(good.encode()), "s.csv")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrainingSession).where(TrainingSession.training_id == tid)) == 5


# --- registration ----------------------------------------------------------------------------------

def test_capacity_waiting_list_and_deadline(ctx, world):
    t = make_training(capacity=1)
    a, b, c = user("worker_a"), user("worker_b"), user("worker_c")
    assert rules.register(t, a).status == "registered"
    assert rules.register(t, b).status == "waitlisted"
    assert rules.register(t, c).status == "waitlisted"
    assert rules.register(t, a).status == "registered"  # twice changes nothing
    moved = rules.cancel(t, a)
    assert moved.user_id == b.id and moved.status == "registered"
    with pytest.raises(rules.TrainingError):
        rules.register(t, user("worker_d"))  # another district: not in the audience
    t.registration_deadline = utcnow() - timedelta(minutes=1)
    with pytest.raises(rules.TrainingError):
        rules.register(t, a)


def test_certificate_level_narrows_the_audience(ctx, world):
    t = make_training(cert_levels="assistant,intermediate")
    with pytest.raises(rules.TrainingError):
        rules.register(t, user("worker_a"))  # cert level none
    user("worker_a").cert_level = "assistant"
    assert rules.register(t, user("worker_a")).status == "registered"


def test_two_workers_racing_for_the_last_seat(app, world):
    """Real concurrent transactions: exactly one gets the seat, the other waits."""
    with app.app_context():
        t = make_training(organiser="C", capacity=1)
        db.session.commit()
        tid = t.id
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def register(username):
        try:
            with app.app_context():
                u = user(username)
                training = db.session.get(Training, tid)
                db.session.commit()
                barrier.wait()
                rules.lock_training(tid)
                results[username] = rules.register(training, u).status
                db.session.commit()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(n,)) for n in ("worker_a", "worker_d")]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert not errors, errors
        assert sorted(results.values()) == ["registered", "waitlisted"]
        with app.app_context():
            assert rules.seats_taken(db.session.get(Training, tid)) == 1
    finally:
        with app.app_context():
            db.session.execute(delete(Registration).where(Registration.training_id == tid))
            db.session.execute(delete(TrainingSession).where(TrainingSession.training_id == tid))
            db.session.execute(delete(Training).where(Training.id == tid))
            db.session.commit()


# --- check-in ------------------------------------------------------------------------------------

def _checkin_setup(app, **kw):
    with app.app_context():
        t = make_training(**kw)
        for name in ("worker_a", "worker_b", "worker_c"):
            rules.register(t, user(name))
        db.session.commit()
        return t.id, t.sessions[0].id


def _code(app, sid, delta=0):
    with app.app_context():
        return rules.code_at(db.session.get(TrainingSession, sid), utcnow() - timedelta(seconds=delta))


def checkin(client, sid, code, page="/training/checkin"):
    return post_form(client, "/training/checkin", {"session_id": sid, "code": code, "method": "code"}, page=page)


def test_checkin_with_the_current_code(app, client, world):
    tid, sid = _checkin_setup(app)
    login(client, "worker_a")
    r = checkin(client, sid, _code(app, sid))
    assert "签到成功" in r.get_data(as_text=True)
    with app.app_context():
        a = db.session.scalar(select(Attendance).where(Attendance.session_id == sid))
        assert (a.status, a.method) == ("present", "code")
        assert db.session.scalar(select(Credit.hours).where(Credit.source == "session", Credit.source_id == sid)) == Decimal("2.0")
    r = checkin(client, sid, _code(app, sid))
    assert "您已签到" in r.get_data(as_text=True)


def test_old_codes_and_codes_of_other_sessions_are_refused(app, client, world):
    tid, sid = _checkin_setup(app)
    with app.app_context():
        other = make_training(organiser="D1")
        db.session.commit()
        other_sid = other.sessions[0].id
    login(client, "worker_a")
    r = checkin(client, sid, _code(app, sid, delta=31))
    assert "签到码错误或已过期" in r.get_data(as_text=True)
    r = checkin(client, sid, _code(app, other_sid))
    assert "属于另一场次" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_outside_audience_and_outside_window_are_refused(app, client, world):
    tid, sid = _checkin_setup(app)
    login(client, "worker_d")  # another district
    r = checkin(client, sid, _code(app, sid))
    assert "该培训班不面向您" in r.get_data(as_text=True)
    with app.app_context():
        later = make_training(sessions=((120, 60),))
        rules.register(later, user("worker_a"))
        db.session.commit()
        later_sid = later.sessions[0].id
    worker = app.test_client()
    login(worker, "worker_a")
    assert "签到将于" in checkin(worker, later_sid, _code(app, later_sid)).get_data(as_text=True)


def test_one_phone_cannot_check_in_two_workers(app, client, world):
    tid, sid = _checkin_setup(app)
    login(client, "worker_a")
    checkin(client, sid, _code(app, sid))
    post_form(client, "/auth/logout", page="/home")
    login(client, "worker_b")  # same browser, same device cookie
    r = checkin(client, sid, _code(app, sid))
    assert "这部手机已为" in r.get_data(as_text=True)
    with app.app_context():
        statuses = dict(db.session.execute(select(User.username, Attendance.status).join(Attendance, Attendance.user_id == User.id)).all())
        assert statuses == {"worker_a": "present"}
        flag = db.session.scalar(select(ProxyCheckinFlag))
        assert (flag.first_user.username, flag.attempted_user.username) == ("worker_a", "worker_b")
    office = app.test_client()
    login(office, "office_d1")
    assert "东一二乙" in office.get("/training/flags").get_data(as_text=True)


def test_late_after_the_grace_period(ctx, world):
    t = make_training(sessions=((-30, 120),))
    rules.register(t, user("worker_a"))
    s = t.sessions[0]
    now = utcnow()
    result = rules.check_in(s, user("worker_a"), rules.code_at(s, now), "device-1", now=now)
    assert result.status == "late"


def test_unmarked_workers_become_absent_when_the_session_ends(ctx, world):
    t = make_training(sessions=((-180, 60),))
    for name in ("worker_a", "worker_b"):
        rules.register(t, user(name))
    s = t.sessions[0]
    rules.set_status(s, user("worker_a"), "present", method="roster", by=user("office_d1"))
    assert rules.close_ended_sessions() == 1
    rows = dict(db.session.execute(select(User.username, Attendance.status).join(Attendance, Attendance.user_id == User.id)).all())
    assert rows == {"worker_a": "present", "worker_b": "absent"}
    assert rules.close_ended_sessions() == 0


def test_credit_once_and_corrected_by_the_office(ctx, world):
    t = make_training(hours="3")
    worker, office = user("worker_a"), user("office_d1")
    rules.register(t, worker)
    s = t.sessions[0]

    def hours():
        return db.session.scalars(select(Credit.hours).where(Credit.user_id == worker.id)).all()

    rules.set_status(s, worker, "present", method="roster", by=office)
    rules.set_status(s, worker, "late", method="roster", by=office)
    assert hours() == [Decimal("3.0")]
    rules.set_status(s, worker, "absent", method="roster", by=office)
    assert hours() == [Decimal("0.0")]
    rules.set_status(s, worker, "present", method="roster", by=office)
    assert hours() == [Decimal("3.0")]
    trail = db.session.execute(select(AttendanceChange.old_status, AttendanceChange.new_status)
                               .order_by(AttendanceChange.id)).all()
    assert trail == [(None, "present"), ("present", "late"), ("late", "absent"), ("absent", "present")]


def test_hours_are_dated_by_the_local_day_of_the_session(ctx, world):
    """A class at 07:30 on 1 January in Beijing is 23:30 on 31 December in UTC: its 学时 count for
    the new year, as every statistic and the continuing-education year read them."""
    t = make_training(hours="2")
    s = t.sessions[0]
    s.starts_at, s.ends_at = datetime(2025, 12, 31, 23, 30), datetime(2026, 1, 1, 1, 30)  # UTC
    worker = user("worker_a")
    rules.register(t, worker)
    rules.set_status(s, worker, "present", method="roster", by=user("office_d1"))
    assert db.session.scalar(select(Credit.earned_on).where(Credit.user_id == worker.id)) == date(2026, 1, 1)


def test_office_marks_the_roster_and_exports(app, client, world):
    tid, sid = _checkin_setup(app)
    login(client, "office_d1")
    with app.app_context():
        ids = {u: user(u).id for u in ("worker_a", "worker_b", "worker_c")}
    r = post_form(client, f"/training/sessions/{sid}/roster",
                  {f"status-{ids['worker_a']}": "present", f"status-{ids['worker_b']}": "",
                   "selected": [str(ids["worker_b"]), str(ids["worker_c"])], "bulk_status": "excused"})
    assert r.status_code == 302
    history = client.get(f"/training/sessions/{sid}/history").get_data(as_text=True)
    assert "东区培训办" in history and "请假" in history
    xlsx = client.get(f"/training/{tid}/export.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = {row[1]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["worker_a"][4] == "出勤" and rows["worker_b"][4] == "请假" and rows["worker_c"][4] == "请假"


def test_another_district_cannot_open_mark_or_export(app, client, world):
    tid, sid = _checkin_setup(app)
    login(client, "office_d2")
    for url in (f"/training/{tid}", f"/training/{tid}/export.xlsx", f"/training/{tid}/edit",
                f"/training/sessions/{sid}/roster", f"/training/sessions/{sid}/screen", f"/training/sessions/{sid}/code.json"):
        assert client.get(url).status_code in (403, 404), url
    r = post_form(client, f"/training/sessions/{sid}/roster", {"bulk_status": "present"}, page="/training/")
    assert r.status_code in (403, 404)
    listing = client.get("/training/").get_data(as_text=True)
    assert f"/training/{tid}\"" not in listing


def test_checkin_screen_shows_a_qr_and_the_code(app, client, world):
    tid, sid = _checkin_setup(app)
    login(client, "office_d1")
    data = client.get(f"/training/sessions/{sid}/code.json").json
    assert data["open"] and len(data["code"]) == 6 and data["qr"].startswith("data:image/svg+xml")
    assert f"s={sid}" in data["link"] and f"c={data['code']}" in data["link"]
    page = client.get(f"/training/sessions/{sid}/screen").get_data(as_text=True)
    assert 'id="checkin-qr"' in page and data["code"] in page


def test_trainer_and_base_pages_list_their_classes(app, client, world):
    from lms.library.models import Trainer, TrainingBase

    with app.app_context():
        t = make_training(sessions=())
        trainer = Trainer(name="周讲师", kind="practitioner")
        base = TrainingBase(name="桂香社区实训基地", kind="demo_community", org_unit=unit("C111"))
        db.session.add_all([trainer, base])
        t.trainers = [trainer]
        now = utcnow()
        rules.new_session(t, starts_at=now, ends_at=now + timedelta(hours=2), credit_hours=Decimal("2"),
                          place_kind="base", base=base)
        db.session.commit()
        trainer_id, base_id = trainer.id, base.id
    login(client, "office_d1")
    for url in (f"/library/trainers/{trainer_id}", f"/library/bases/{base_id}"):
        assert "社区议事协商专题培训" in client.get(url).get_data(as_text=True), url
