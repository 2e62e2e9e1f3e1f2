"""Training classes, their sessions, registrations, attendance and its 学时 (tables training,
training_session, registration, attendance, credit)."""
import math
import secrets
from datetime import timedelta
from decimal import Decimal

from lms.util import utc_to_local

from .bulk import Run
from .learning import DAYS_BACK
from .people import City

SESSIONS_PER_TRAINING = 4
ROSTER = 50  # registrants per class: each gets one attendance record per session
STATUS_WEIGHTS = {"present": 78, "late": 8, "excused": 5, "absent": 9}
SESSION_HOURS = (Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("3"))


def build(run: Run, city: City, attendance_records: int) -> None:
    w, rng, now = run.writer, run.rng, run.now
    n_trainings = max(1, round(attendance_records / (SESSIONS_PER_TRAINING * ROSTER)))
    t_id, s_id = w.next_id("training"), w.next_id("training_session")
    r_id, a_id = w.next_id("registration"), w.next_id("attendance")
    trainings, sessions, registrations, attendance, session_credits = [], [], [], [], []
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    remaining = attendance_records
    for t in range(n_trainings):
        level = rng.choices(("city", "district", "street"), (10, 30, 60))[0]
        if level == "city":
            org, lo, hi = city.city_id, city.first_user, city.worker_hi
        elif level == "district":
            di = rng.randrange(len(city.districts))
            org, (lo, hi) = city.districts[di][0], city.district_range[di]
        else:
            si = rng.randrange(len(city.streets))
            org, (lo, hi) = city.streets[si][0], city.street_range[si]
        n_sessions = SESSIONS_PER_TRAINING if t < n_trainings - 1 else max(1, math.ceil(remaining / ROSTER))
        roster = rng.sample(range(lo, hi), min(ROSTER, hi - lo, max(1, remaining)))
        first = now - timedelta(days=rng.random() * (DAYS_BACK - 7 * n_sessions) + 7 * n_sessions)
        first = first.replace(minute=0, second=0)
        deadline = first - timedelta(days=3)
        trainings.append((t_id, f"规模测试培训班{t + 1}", level, org, org, "", "", max(len(roster), 1), deadline,
                          "closed", 0, now))
        for user_id in roster:
            registrations.append((r_id, t_id, user_id, "registered", "assigned", deadline, deadline))
            r_id += 1
        for k in range(n_sessions):
            if remaining <= 0:
                break
            start = first + timedelta(weeks=k)
            hours = rng.choice(SESSION_HOURS)
            sessions.append((s_id, t_id, start, start + timedelta(hours=2), "text", "社区党群服务中心", hours,
                             secrets.token_hex(32), start + timedelta(hours=2)))
            for user_id in roster[:remaining]:
                status = rng.choices(statuses, weights)[0]
                # the session's start and the class's level are copied onto each record (training/models.py)
                attendance.append((a_id, s_id, user_id, status, "roster", start, start, start, level))
                a_id += 1
                if status in ("present", "late"):
                    session_credits.append(
                        (run.take_credit_id(), user_id, "session", s_id, hours, utc_to_local(start).date(), now)
                    )
            remaining -= len(roster[:remaining])
            s_id += 1
        t_id += 1
    w.insert("training", ("id", "title", "level", "org_unit_id", "audience_unit_id", "audience_cert_levels",
                          "description", "capacity", "registration_deadline", "status", "lock_version", "created_at"),
             trainings)
    w.insert("training_session", ("id", "training_id", "starts_at", "ends_at", "place_kind", "place_text",
                                  "credit_hours", "checkin_secret", "closed_at"), sessions)
    w.insert("registration", ("id", "training_id", "user_id", "status", "source", "created_at", "updated_at"),
             registrations)
    del registrations
    w.insert("attendance", ("id", "session_id", "user_id", "status", "method", "checked_in_at", "updated_at",
                            "session_starts_at", "training_level"), attendance)
    del attendance
    w.insert("credit", ("id", "user_id", "source", "source_id", "hours", "earned_on", "updated_at"), session_credits)
    run.log(f"{len(trainings)} classes, {len(sessions)} sessions, {w.counts['attendance']} attendance records, "
            f"{len(session_credits)} session 学时 records")
