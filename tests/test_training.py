"""Tiered training classes: registration, waiting list, check-in, attendance, 学时."""
import io
import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from itsdangerous import URLSafeSerializer
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from lms.auth.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.learning.models import Credit
from lms.orgs.models import OrgUnit
from lms.training import rules
from lms.training.models import Attendance, AttendanceChange, ProxyCheckinFlag, Registration, Training, TrainingSession

from .conftest import PASSWORD, csrf_token, login, post_form


def unit(code):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def make_training(organiser="D1", audience=None, capacity=10, deadline_days=3, sessions=((-5, 120),), hours="2",
                  cert_levels=""):
    """A class organised by `organiser`; sessions as (minutes from now to the start, length in minutes)."""
    org = unit(organiser)
    training = Training(
        title="社区议事协商专题培训",
        level=org.level,
        org_unit=org,
        audience_unit=unit(audience or organiser),
        capacity=capacity,
        registration_deadline=utcnow() + timedelta(days=deadline_days),
        status="open",
        lock_version=0,
        audience_cert_levels=cert_levels,
    )
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
        assert (
            db.session.scalar(
                select(func.count()).select_from(TrainingSession).where(TrainingSession.training_id == tid)
            )
            == 5
        )


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
# Every check-in test holds the clock still (the `clock` fixture): the code changes every 30 s, so a
# test reading the wall clock fails whenever a change falls inside it.

def _checkin_setup(app, **kw):
    with app.app_context():
        t = make_training(**kw)
        for name in ("worker_a", "worker_b", "worker_c"):
            rules.register(t, user(name))
        db.session.commit()
        return t.id, t.sessions[0].id


def _code(app, sid, at=None):
    """The code the screen showed at `at` (default: the clock's now)."""
    with app.app_context():
        return rules.code_at(db.session.get(TrainingSession, sid), at or utcnow())


def checkin(client, sid, code, page="/training/checkin"):
    return post_form(client, "/training/checkin", {"session_id": sid, "code": code}, page=page)


def _attendance(app, sid):
    with app.app_context():
        return {
            u: (s, at)
            for u, s, at in db.session.execute(
                select(User.username, Attendance.status, Attendance.checked_in_at)
                .join(Attendance, Attendance.user_id == User.id)
                .where(Attendance.session_id == sid)
            ).all()
        }


def _worker(app, username):
    """A worker on their own phone (a client of its own: its own device cookie)."""
    c = app.test_client()
    login(c, username)
    return c


def test_checkin_with_the_current_code(app, client, world, clock):
    tid, sid = _checkin_setup(app)
    login(client, "worker_a")
    r = checkin(client, sid, _code(app, sid))
    html = r.get_data(as_text=True)
    assert "签到成功" in html and 'data-status="present"' in html and "迟到" not in html
    assert _attendance(app, sid) == {"worker_a": ("present", clock.at)}
    with app.app_context():
        a = db.session.scalar(select(Attendance).where(Attendance.session_id == sid))
        assert a.method == "code"
        assert db.session.scalar(
            select(Credit.hours).where(Credit.source == "session", Credit.source_id == sid)
        ) == Decimal("2.0")
    clock.advance(minutes=20)  # again, later and past the late mark: already recorded, nothing changes
    html = checkin(client, sid, _code(app, sid)).get_data(as_text=True)
    assert "您已签到" in html and "本次未作改动" in html and 'data-already="yes"' in html
    assert _attendance(app, sid) == {"worker_a": ("present", clock.at - timedelta(minutes=20))}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttendanceChange)) == 1


def test_a_code_is_accepted_for_a_grace_after_it_changes(app, tx, world, clock):
    """The code of the period ending at `change` is still good `grace` seconds after it, not one more."""
    change = clock.at + timedelta(minutes=1)  # the default clock sits on a 30-s boundary
    assert app.config["CHECKIN_CODE_GRACE_SECONDS"] == 10
    tid, sid = _checkin_setup(app)
    old = _code(app, sid, change - timedelta(seconds=1))
    assert old != _code(app, sid, change)
    phones = {name: _worker(app, name) for name in ("worker_a", "worker_b", "worker_c")}
    clock.set(change - timedelta(seconds=1))
    assert "签到成功" in checkin(phones["worker_a"], sid, old).get_data(as_text=True)
    clock.set(change + timedelta(seconds=10))
    assert "签到成功" in checkin(phones["worker_b"], sid, old).get_data(as_text=True)
    clock.set(change + timedelta(seconds=11))
    html = checkin(phones["worker_c"], sid, old).get_data(as_text=True)
    assert "签到码已更新，请输入屏幕上的新签到码" in html
    assert "签到成功" in checkin(phones["worker_c"], sid, _code(app, sid)).get_data(as_text=True)
    attended = _attendance(app, sid)
    assert attended == {"worker_a": ("present", change - timedelta(seconds=1)),
                        "worker_b": ("present", change + timedelta(seconds=10)),
                        "worker_c": ("present", change + timedelta(seconds=11))}


def test_old_codes_and_codes_of_other_sessions_are_refused(app, client, world, clock):
    tid, sid = _checkin_setup(app)
    with app.app_context():
        other = make_training(organiser="D1")
        db.session.commit()
        other_sid = other.sessions[0].id
    login(client, "worker_a")
    r = checkin(client, sid, _code(app, sid, clock.at - timedelta(seconds=61)))
    assert "签到码已更新" in r.get_data(as_text=True)
    r = checkin(client, sid, _code(app, other_sid))
    assert "属于另一场次" in r.get_data(as_text=True)
    wrong = next(c for c in ("000000", "111111", "222222") if c != _code(app, sid) and c != _code(app, other_sid))
    assert "签到码不正确" in checkin(client, sid, wrong).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_present_or_late_by_the_servers_clock_at_the_request(app, tx, world, clock):
    tid, sid = _checkin_setup(app, sessions=((-5, 120),))
    start = clock.at - timedelta(minutes=5)
    late_mark = start + timedelta(minutes=app.config["CHECKIN_LATE_AFTER_MINUTES"])
    a, b = _worker(app, "worker_a"), _worker(app, "worker_b")
    clock.set(late_mark)
    assert "签到成功" in checkin(a, sid, _code(app, sid)).get_data(as_text=True)
    clock.set(late_mark + timedelta(seconds=1))
    html = checkin(b, sid, _code(app, sid)).get_data(as_text=True)
    assert "已签到（迟到）" in html and "签到成功" not in html and 'data-status="late"' in html
    assert {u: s for u, (s, _) in _attendance(app, sid).items()} == {"worker_a": "present", "worker_b": "late"}


def test_outside_audience_and_outside_window_are_refused(app, client, world, clock):
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


def test_one_phone_cannot_check_in_two_workers(app, client, world, clock):
    tid, sid = _checkin_setup(app)
    login(client, "worker_a")
    checkin(client, sid, _code(app, sid))
    post_form(client, "/auth/logout", page="/home")
    login(client, "worker_b")  # same browser, same device cookie
    html = checkin(client, sid, _code(app, sid)).get_data(as_text=True)
    assert "此设备已为另一位学员（东***）签到本场次" in html
    assert "东一一甲" not in html  # the first worker's name is not shown to the second
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(User.username, Attendance.status).join(Attendance, Attendance.user_id == User.id)
            ).all()
        )
        assert statuses == {"worker_a": "present"}
        flag = db.session.scalar(select(ProxyCheckinFlag))
        assert (flag.first_user.username, flag.attempted_user.username) == ("worker_a", "worker_b")
    office = app.test_client()
    login(office, "office_d1")
    flags = office.get("/training/flags").get_data(as_text=True)
    assert "东一一甲" in flags and "东一二乙" in flags  # the office sees both names


def test_mask_name():
    assert [rules.mask_name(n) for n in ("张三", "欧阳娜娜", "李", "")] == ["张*", "欧***", "李*", "*"]


# --- QR scans: a signed ticket on the phone that scanned ----------------------------------------------

def scan(client, sid, code):
    """Open the QR code's link, as the phone's camera does."""
    return client.get(f"/training/checkin?s={sid}&c={code}")


def finish_scan(client):
    """Open the check-in page as the browser does after a scan; the page sends the waiting scan back
    (a POST: nothing is written on the GET)."""
    page = client.get("/training/checkin")
    html = page.get_data(as_text=True)
    if 'id="redeem-form"' not in html:
        return client.get("/training/checkin") if page.status_code == 302 else page
    return post_form(client, "/training/checkin/scan", page="/training/checkin")


def log_in_after_scan(client, r, username):
    """The scan sent a logged-out phone to the login page; log in there and follow it back."""
    assert r.status_code == 302 and r.location.startswith("/auth/login?next=")
    token = csrf_token(client, r.location)
    r = client.post(r.location, data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and r.location == "/training/checkin"
    return finish_scan(client)


def test_logged_out_scan_then_login_checks_in_as_at_the_scan(app, tx, world, clock):
    tid, sid = _checkin_setup(app, sessions=((-5, 120),))
    start = clock.at - timedelta(minutes=5)
    late_mark = start + timedelta(minutes=app.config["CHECKIN_LATE_AFTER_MINUTES"])
    on_time, late = app.test_client(), app.test_client()

    clock.set(late_mark - timedelta(seconds=20))  # scanned in time
    r = scan(on_time, sid, _code(app, sid))
    assert on_time.get_cookie("lms_checkin") is not None and on_time.get_cookie("lms_device") is not None
    clock.advance(minutes=4)  # logs in four minutes later: the code changed eight times, the worker is late by then
    html = log_in_after_scan(on_time, r, "worker_a").get_data(as_text=True)
    assert "签到成功" in html and 'data-status="present"' in html
    assert on_time.get_cookie("lms_checkin") is None  # the ticket is spent

    clock.set(late_mark + timedelta(seconds=40))  # scanned after the late mark
    r = scan(late, sid, _code(app, sid))
    clock.advance(minutes=1)
    html = log_in_after_scan(late, r, "worker_b").get_data(as_text=True)
    assert "已签到（迟到）" in html
    assert _attendance(app, sid) == {"worker_a": ("present", late_mark - timedelta(seconds=20)),
                                     "worker_b": ("late", late_mark + timedelta(seconds=40))}
    with app.app_context():
        assert set(db.session.scalars(select(Attendance.method).where(Attendance.session_id == sid))) == {"qr"}
    mine = on_time.get("/training/mine").get_data(as_text=True)
    assert f'data-session="{sid}"' in mine and 'data-state="present"' in mine


def test_a_logged_in_scan_checks_in_at_once(app, tx, world, clock):
    tid, sid = _checkin_setup(app)
    phone = _worker(app, "worker_a")
    r = scan(phone, sid, _code(app, sid))
    assert r.status_code == 302 and r.location == "/training/checkin"
    waiting = phone.get(r.location).get_data(as_text=True)
    assert 'id="redeem-form"' in waiting and _attendance(app, sid) == {}  # a GET writes nothing
    assert "签到成功" in finish_scan(phone).get_data(as_text=True)
    assert set(_attendance(app, sid)) == {"worker_a"}


def test_an_expired_scan_is_refused(app, tx, world, clock):
    tid, sid = _checkin_setup(app)
    life = timedelta(minutes=app.config["CHECKIN_TICKET_MINUTES"])
    just_in_time, too_late = app.test_client(), app.test_client()
    r1 = scan(just_in_time, sid, _code(app, sid))
    r2 = scan(too_late, sid, _code(app, sid))
    clock.advance(seconds=life.total_seconds())
    assert "签到成功" in log_in_after_scan(just_in_time, r1, "worker_a").get_data(as_text=True)
    clock.advance(seconds=1)
    html = log_in_after_scan(too_late, r2, "worker_b").get_data(as_text=True)
    assert "已超过 5 分钟，请重新扫描屏幕上的二维码" in html
    assert set(_attendance(app, sid)) == {"worker_a"}


def test_a_stale_code_in_the_scan_link_is_refused_at_the_scan(app, tx, world, clock):
    tid, sid = _checkin_setup(app)
    phone = app.test_client()
    r = scan(phone, sid, _code(app, sid, clock.at - timedelta(minutes=2)))  # a photo of the QR sent on
    assert phone.get_cookie("lms_checkin") is None
    html = phone.get(r.location).get_data(as_text=True)
    assert "签到码已更新" in html


def test_a_ticket_cannot_be_replayed(app, tx, world, clock):
    tid, sid = _checkin_setup(app)
    with app.app_context():
        other = make_training()
        rules.register(other, user("worker_b"))
        db.session.commit()
        other_sid = other.sessions[0].id
    scanner = app.test_client()
    scan(scanner, sid, _code(app, sid))
    ticket = scanner.get_cookie("lms_checkin").value

    friend = _worker(app, "worker_b")  # another phone: its own device cookie
    friend.set_cookie("lms_checkin", ticket)
    assert "这次扫码是在另一部手机上完成的" in finish_scan(friend).get_data(as_text=True)
    assert friend.get_cookie("lms_checkin") is None

    # The session is inside the signed ticket: pointing it at another session breaks the signature.
    with app.app_context():
        forged = URLSafeSerializer("guessed-key", salt="lms.training.checkin-ticket").dumps(
            {"s": other_sid, "d": scanner.get_cookie("lms_device").value, "t": clock.at.isoformat()})
    scanner.set_cookie("lms_checkin", forged)
    login(scanner, "worker_b")
    assert "这次扫码无效" in finish_scan(scanner).get_data(as_text=True)
    assert _attendance(app, sid) == {} and _attendance(app, other_sid) == {}

    # Used once on the scanning phone, the same ticket cannot check in a second worker there.
    post_form(scanner, "/auth/logout", page="/home")
    scanner.set_cookie("lms_checkin", ticket)
    login(scanner, "worker_a")
    assert "签到成功" in finish_scan(scanner).get_data(as_text=True)
    post_form(scanner, "/auth/logout", page="/home")
    scanner.set_cookie("lms_checkin", ticket)
    login(scanner, "worker_c")
    html = finish_scan(scanner).get_data(as_text=True)
    assert "此设备已为另一位学员（东***）签到本场次" in html
    assert set(_attendance(app, sid)) == {"worker_a"}


def test_late_after_the_grace_period(ctx, world, clock):
    t = make_training(sessions=((-30, 120),))
    rules.register(t, user("worker_a"))
    s = t.sessions[0]
    result = rules.check_in(s, user("worker_a"), rules.code_at(s, clock.at), "device-1")
    assert result.status == "late" and not result.already


def test_unmarked_workers_become_absent_when_the_session_ends(ctx, world):
    t = make_training(sessions=((-180, 60),))
    for name in ("worker_a", "worker_b"):
        rules.register(t, user(name))
    s = t.sessions[0]
    rules.set_status(s, user("worker_a"), "present", method="roster", by=user("office_d1"))
    assert rules.close_ended_sessions() == 1
    rows = dict(
        db.session.execute(
            select(User.username, Attendance.status).join(Attendance, Attendance.user_id == User.id)
        ).all()
    )
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
    for url in (
        f"/training/{tid}",
        f"/training/{tid}/export.xlsx",
        f"/training/{tid}/edit",
        f"/training/sessions/{sid}/roster",
        f"/training/sessions/{sid}/screen",
        f"/training/sessions/{sid}/code.json",
    ):
        assert client.get(url).status_code == 404, url
    r = post_form(client, f"/training/sessions/{sid}/roster", {"bulk_status": "present"}, page="/training/")
    assert r.status_code == 404
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


def test_checkin_screen_is_a_kiosk_with_the_countdown_in_a_whole_sentence(app, client, world, clock):
    """The projector's page has no site menu and says when the code changes in a sentence, in the
    reader's language; the page carries the sentence for one and for many seconds for its script."""
    tid, sid = _checkin_setup(app)
    login(client, "office_d1")
    period = clock.at.replace(second=0)  # codes change on the minute and the half minute
    clock.set(period + timedelta(seconds=22))
    page = client.get(f"/training/sessions/{sid}/screen").get_data(as_text=True)
    assert 'id="site-nav"' not in page and 'id="logout"' not in page  # no site menu on the projector
    assert 'class="kiosk"' in page and f'href="/training/{tid}"' in page  # the office can go back
    assert re.search(r'id="checkin-next">签到码将在 8 秒后更新</p>', page)
    assert 'data-left="8" data-one="签到码将在 {n} 秒后更新" data-other="签到码将在 {n} 秒后更新"' in page
    assert " s</span>" not in page
    assert '已签到 <strong id="checkin-count">0</strong> 人' in page
    client.get("/auth/lang/en")
    clock.set(period + timedelta(seconds=29))
    page = client.get(f"/training/sessions/{sid}/screen").get_data(as_text=True)
    assert 'id="checkin-next">The check-in code changes in 1 second</p>' in page
    assert 'data-other="The check-in code changes in {n} seconds"' in page


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


# --- attendance figures and the worker's page -------------------------------------------------------

def test_low_attendance_is_flagged_only_for_sessions_that_have_ended(app, client, world, clock):
    with app.app_context():
        t = make_training(sessions=((-180, 60), (-5, 120), (24 * 60, 120)))  # ended, under way, tomorrow
        for name in ("worker_a", "worker_b"):
            rules.register(t, user(name))
        ended, now_on, tomorrow = sorted(t.sessions, key=lambda s: s.starts_at)
        rules.set_status(ended, user("worker_a"), "present", method="roster", by=user("office_d1"))
        db.session.commit()
        tid, ended_id = t.id, ended.id
    login(client, "office_d1")
    html = client.get(f"/training/{tid}").get_data(as_text=True)
    alert = re.search(r'id="below-threshold">(.*?)</div>', html, re.S).group(1)
    assert "东一二乙" in alert and "东一一甲" not in alert  # 1 of 1 ended session: not flagged while one is under way
    ws = load_workbook(io.BytesIO(client.get(f"/training/{tid}/export.xlsx").data)).active
    rates = {row[1]: row[-1] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rates == {"worker_a": 1.0, "worker_b": 0.0}
    with app.app_context():
        regs = db.session.scalars(select(Registration).where(Registration.training_id == tid)).all()
        summary = rules.attendance_summary(db.session.get(Training, tid), regs)
        assert sorted(r.user.username for r in summary.below) == ["worker_b"] and summary.overall == 0.5
        # Before any session has ended nobody is flagged, whatever is under way.
        db.session.get(TrainingSession, ended_id).starts_at += timedelta(days=2)
        db.session.get(TrainingSession, ended_id).ends_at += timedelta(days=2)
        db.session.flush()
        summary = rules.attendance_summary(db.session.get(Training, tid), regs)
        assert summary.below == [] and summary.overall is None
        db.session.commit()
    assert 'id="below-threshold"' not in client.get(f"/training/{tid}").get_data(as_text=True)


def test_my_classes_shows_attended_absent_and_upcoming(app, client, world, clock):
    with app.app_context():
        t = make_training(sessions=((-180, 60), (-5, 120), (24 * 60, 120)))
        rules.register(t, user("worker_a"))
        ended, now_on, tomorrow = sorted(t.sessions, key=lambda s: s.starts_at)
        db.session.commit()
        ids = {"ended": ended.id, "now": now_on.id, "tomorrow": tomorrow.id, "training": t.id}

    def states(html):
        return {int(s): st for s, st in re.findall(r'data-session="(\d+)".*?data-state="(\w+)"', html, re.S)}

    login(client, "worker_a")
    assert states(client.get("/training/mine").get_data(as_text=True)) == {
        ids["ended"]: "absent", ids["now"]: "in_progress", ids["tomorrow"]: "upcoming"}
    assert "进行中，未签到" in client.get("/training/mine").get_data(as_text=True)
    assert "签到成功" in checkin(client, ids["now"], _code(app, ids["now"])).get_data(as_text=True)
    html = client.get("/training/mine").get_data(as_text=True)
    assert states(html) == {ids["ended"]: "absent", ids["now"]: "present", ids["tomorrow"]: "upcoming"}
    assert re.search(rf'id="upcoming">.*data-session="{ids["now"]}".*出勤.*</ul>\s*<h2', html, re.S)
    assert "缺勤" in html and "未开始" in html
    assert client.get("/training/mine").get_data(as_text=True).count('data-state="present"') == 1
    assert re.search(r'id="training-hours">2(\.0)?<', html)
    detail = client.get(f"/training/{ids['training']}").get_data(as_text=True)
    assert set(re.findall(r'data-state="(\w+)"', detail)) == {"absent", "present", "upcoming"}


def test_a_session_with_attendance_records_cannot_be_deleted(ctx, world):
    t = make_training(sessions=((-180, 60), (60, 60)))
    held, later = t.sessions
    rules.register(t, user("worker_a"))
    rules.set_status(held, user("worker_a"), "present", method="roster", by=user("office_d1"))
    with pytest.raises(rules.TrainingError):
        rules.delete_session(held)
    assert db.session.get(TrainingSession, held.id) is not None
    later_id = later.id
    rules.delete_session(later)
    assert db.session.get(TrainingSession, later_id) is None


def test_the_delete_session_view_refuses_a_session_with_attendance(app, client, world):
    with app.app_context():
        t = make_training(sessions=((-180, 60), (60, 60)))
        held, later = t.sessions
        rules.register(t, user("worker_a"))
        rules.set_status(held, user("worker_a"), "present", method="roster", by=user("office_d1"))
        db.session.commit()
        tid, held_id, later_id = t.id, held.id, later.id
    login(client, "office_d1")
    assert post_form(client, f"/training/sessions/{held_id}/delete", page=f"/training/{tid}").status_code == 302
    assert post_form(client, f"/training/sessions/{later_id}/delete", page=f"/training/{tid}").status_code == 302
    with app.app_context():
        left = db.session.scalars(select(TrainingSession.id).where(TrainingSession.training_id == tid)).all()
    assert left == [held_id]


def test_assignees_by_unit_and_username_with_audience_problems(ctx, world):
    t = make_training(organiser="D1", audience="S11")
    users, problems = rules.assignees(t, None, "  worker_b  nobody\nworker_c ")
    assert [u.username for u in users] == ["worker_b"]
    assert len(problems) == 2 and "nobody" in problems[0] and "worker_c" in problems[1]
    users, problems = rules.assignees(t, unit("C111"), "")
    assert [u.username for u in users] == ["worker_a"] and problems == []
    assert rules.assignees(t, None, None) == ([], [])


def test_the_assign_view_registers_named_workers_and_refuses_outsiders(app, client, world):
    with app.app_context():
        t = make_training(organiser="D1", audience="D1")
        db.session.commit()
        tid = t.id
    login(client, "office_d1")
    r = post_form(client, f"/training/{tid}/assign", {"unit_id": "0", "usernames": "worker_a worker_d"})
    assert r.status_code == 200 and "西一一丁（worker_d）不在该培训班的培训对象范围内" in r.get_data(as_text=True)
    r = post_form(client, f"/training/{tid}/assign", {"unit_id": "0", "usernames": "worker_a"})
    assert r.status_code == 302
    with app.app_context():
        names = db.session.scalars(select(User.username).join(Registration, Registration.user_id == User.id)
                                   .where(Registration.training_id == tid)).all()
    assert names == ["worker_a"]
