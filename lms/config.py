"""Settings, read from environment variables (see docs/CONFIGURATION.md for the full list)."""
import os
import secrets
from pathlib import Path


def _instance_path() -> Path:
    return Path(os.environ.get("LMS_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance")


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int, minimum: int = 0) -> int:
    value = int(os.environ.get(name, str(default)))
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (it is {value})")
    return value


def _percent(name: str, default: int) -> int:
    value = _int(name, default, 1)
    if value > 100:
        raise ValueError(f"{name} must be a percentage from 1 to 100 (it is {value})")
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    value = float(os.environ.get(name, str(default)))
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (it is {value})")
    return value


def _month_day(name: str, default: str) -> str:
    """A day of the year as MM-DD (the exam's usual date, every year)."""
    import re
    from datetime import date

    value = os.environ.get(name, default).strip()
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", value)
    try:
        date(2001, int(m.group(1)), int(m.group(2))) if m else None  # 2001: not a leap year, so no 02-29
    except ValueError:
        m = None
    if not m:
        raise ValueError(f"{name} must be a day of the year as MM-DD, e.g. 06-14 (it is {value!r})")
    return f"{int(m.group(1)):02d}-{int(m.group(2)):02d}"


def _surveys() -> dict:
    """Class evaluations (lms/surveys, docs/SURVEYS.md)."""
    return {
        # Attendees evaluate a class from its last session's end until this many days later (and change it till then).
        "EVALUATION_DAYS": _int("EVALUATION_DAYS", 14, 1),
        # A trainer sees a class's ratings and comments, and a profile shows its average, from this many on.
        "EVALUATION_MIN_SHOWN": _int("EVALUATION_MIN_SHOWN", 3, 1),
    }


def _prep() -> dict:
    """Exam preparation (lms/prep, docs/EXAM_PREP.md): the models' parameters."""
    logits = [float(x) for x in os.environ.get("PREP_DIFFICULTY_LOGITS", "-1,0,1").split(",")]
    if len(logits) != 3 or logits != sorted(logits):
        raise ValueError("PREP_DIFFICULTY_LOGITS must be three increasing numbers: easy, medium, hard (e.g. -1,0,1)")
    return {
        # Topic mastery, an Elo-style rating: after each answer theta moves by K × (credit − expected),
        # K = max(K_MIN, K / (1 + K_DECAY × answers so far)); questions of difficulty 1, 2, 3 sit at these logits.
        "PREP_ELO_K": _float("PREP_ELO_K", 0.8, 0.01),
        "PREP_ELO_K_DECAY": _float("PREP_ELO_K_DECAY", 0.15),
        "PREP_ELO_K_MIN": _float("PREP_ELO_K_MIN", 0.25, 0.01),
        "PREP_DIFFICULTY_LOGITS": logits,
        # A topic's estimate is shown as settled, and may be recommended, from this many answers.
        "PREP_MIN_EVIDENCE": _int("PREP_MIN_EVIDENCE", 5, 1),
        # What to do next (lms/prep/recommend.py): the questions a recommended practice set asks.
        "PREP_PRACTICE_QUESTIONS": _int("PREP_PRACTICE_QUESTIONS", 10, 1),
        # A topic counts as mastered from this mastery (%), once settled; plans aim at it (lms/prep/track.py).
        "PREP_TARGET_MASTERY": _percent("PREP_TARGET_MASTERY", 70),
        # The national exam's usual date (MM-DD): a plan's default exam date is its next occurrence.
        "PREP_EXAM_DATE": _month_day("PREP_EXAM_DATE", "06-14"),
        # Mistakes book (FSRS): the recall probability reviews aim at, and the stability (days) at which
        # a mistake counts as learned and leaves the book.
        "PREP_REVIEW_RETENTION": _float("PREP_REVIEW_RETENTION", 0.9, 0.5),
        "PREP_LEARNED_DAYS": _float("PREP_LEARNED_DAYS", 30, 1),
        # Readiness (lms/prep/readiness.py): shown only when the topics with settled estimates carry at least
        # this share (%) of the mock exam's points; calibrated against real mock results (Platt scaling) from
        # this many (chance given, passed) pairs; the task queue's periodic work makes the stored calibration
        # again once it is this many minutes old (0: never; `flask prep-rebuild` makes it by hand).
        "PREP_READINESS_COVERAGE": _percent("PREP_READINESS_COVERAGE", 80),
        "PREP_CALIBRATION_MIN": _int("PREP_CALIBRATION_MIN", 40, 2),
        "PREP_CALIBRATION_MAX_AGE": _int("PREP_CALIBRATION_MAX_AGE", 60, 0),
        # Offices: a registrant with no graded answer in this many days is listed as not practising.
        "PREP_INACTIVE_DAYS": _int("PREP_INACTIVE_DAYS", 14, 1),
    }


def _ask() -> dict:
    """请教一下 (lms/ask, docs/ASK.md): how many files a question may attach (each checked by content and
    size-limited as every upload: images 5 MB, PDF 20 MB)."""
    return {"ASK_MAX_ATTACHMENTS": _int("ASK_MAX_ATTACHMENTS", 3, 0)}


def _hh_mm(name: str, default: str) -> str:
    """A time of day as HH:MM (24-hour)."""
    import re

    value = os.environ.get(name, default).strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"{name} must be a time of day as HH:MM, e.g. 02:30 (it is {value!r})")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _login_throttle() -> dict:
    """Login throttling (lms/auth/throttle.py). OWASP ASVS 2.2.1 allows at most 100 failed
    attempts per hour on one account: refuse settings that would allow more."""
    settings = {
        "LOGIN_ACCOUNT_DELAY_AFTER": _int("LOGIN_ACCOUNT_DELAY_AFTER", 5, 1),
        "LOGIN_ACCOUNT_LOCK_AFTER": _int("LOGIN_ACCOUNT_LOCK_AFTER", 10, 1),
        "LOGIN_ACCOUNT_LOCK_MINUTES": _int("LOGIN_ACCOUNT_LOCK_MINUTES", 15, 1),
        "LOGIN_ADDRESS_DELAY_AFTER": _int("LOGIN_ADDRESS_DELAY_AFTER", 20, 1),
        "LOGIN_ADDRESS_LOCK_AFTER": _int("LOGIN_ADDRESS_LOCK_AFTER", 50, 1),
        "LOGIN_ADDRESS_WINDOW_MINUTES": _int("LOGIN_ADDRESS_WINDOW_MINUTES", 15, 1),
        "LOGIN_ADDRESS_LOCK_MINUTES": _int("LOGIN_ADDRESS_LOCK_MINUTES", 15, 1),
        "LOGIN_MAX_DELAY_SECONDS": _int("LOGIN_MAX_DELAY_SECONDS", 30, 1),
    }
    per_hour = settings["LOGIN_ACCOUNT_LOCK_AFTER"] * -(-60 // settings["LOGIN_ACCOUNT_LOCK_MINUTES"])
    if per_hour > 100:
        raise ValueError(f"LOGIN_ACCOUNT_LOCK_AFTER and LOGIN_ACCOUNT_LOCK_MINUTES allow {per_hour} failed logins "
                         "per hour on one account; at most 100 are allowed (OWASP ASVS 2.2.1)")
    return settings


def _messages() -> dict:
    """The message centre (lms/messages, docs/MESSAGES.md): fan-out chunks, e-mail by SMTP, the calendar feed."""
    return {
        # A send() to more users than this writes its messages in chunks of this many, a task each.
        "MESSAGES_CHUNK": _int("MESSAGES_CHUNK", 1000, 1),
        # The periodic work reminds workers of the sessions of the next 24 hours every this many minutes (0: never).
        "REMINDER_MINUTES": _int("REMINDER_MINUTES", 15),
        # E-mail goes out only when MAIL_SERVER is set (host name); port 25, or 465 with MAIL_USE_SSL,
        # 587 with MAIL_USE_TLS (STARTTLS); MAIL_USERNAME/MAIL_PASSWORD when the server asks for a login.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "").strip() or None,
        "MAIL_PORT": _int("MAIL_PORT", 25, 1),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "noreply@localhost").strip(),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 20, 1),
        # The site's public address (https://xuetang.example.cn): links in e-mails and the calendar feed's URL.
        "SITE_URL": os.environ.get("SITE_URL", "").strip() or None,
    }


def from_env() -> dict:
    instance = _instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    # LMS_ENV=production: secure cookies and request logs by default, and a SECRET_KEY from the
    # environment (one generated per host would differ between the app servers).
    production = os.environ.get("LMS_ENV", "development").strip().lower() == "production"
    if production and not os.environ.get("SECRET_KEY"):
        raise RuntimeError("LMS_ENV=production needs SECRET_KEY set (the same value on every app server)")
    secure = _bool("SESSION_COOKIE_SECURE", production)
    return {
        "PRODUCTION": production,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'lms.sqlite3'}",
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        "CREDIT_HOUR_MINUTES": int(os.environ.get("CREDIT_HOUR_MINUTES", "45")),
        "ANNUAL_CREDIT_HOURS_TARGET": float(os.environ.get("ANNUAL_CREDIT_HOURS_TARGET", "50")),
        # Study time (docs/STUDY-TIME.md): a lesson completes after this share of its nominal minutes
        # of active study (unless the lesson sets its own minimum), and a video lesson after this share
        # of its video was watched; a learner idle this long is asked to confirm and counting pauses.
        "STUDY_MIN_PERCENT": _percent("STUDY_MIN_PERCENT", 80),
        "STUDY_IDLE_MINUTES": _int("STUDY_IDLE_MINUTES", 5, 1),
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (nginx: 1).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # One JSON line per request on stderr (logger "lms.request").
        "REQUEST_LOG": _bool("REQUEST_LOG", production),
        # Folder of pg_dump/pg_restore for backups (default: the newest /usr/lib/postgresql/*/bin, else PATH).
        "PG_BINDIR": os.environ.get("PG_BINDIR") or None,
        **_login_throttle(),
        **_prep(),
        **_messages(),
        **_ask(),
        **_surveys(),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans_CN": "中文", "en": "English"},
        # Lesson videos may link only to these URL prefixes (comma-separated), e.g. the city's video server.
        "VIDEO_URL_ALLOWLIST": [p.strip() for p in os.environ.get("VIDEO_URL_ALLOWLIST", "").split(",") if p.strip()],
        "CHECKIN_OPENS_MINUTES_BEFORE": int(os.environ.get("CHECKIN_OPENS_MINUTES_BEFORE", "30")),
        "CHECKIN_LATE_AFTER_MINUTES": int(os.environ.get("CHECKIN_LATE_AFTER_MINUTES", "10")),
        # A typed code of the previous 30-s period is still accepted this many seconds after it changed.
        "CHECKIN_CODE_GRACE_SECONDS": int(os.environ.get("CHECKIN_CODE_GRACE_SECONDS", "10")),
        # A QR scan (e.g. by a logged-out phone) checks in if the worker logs in within this many minutes.
        "CHECKIN_TICKET_MINUTES": int(os.environ.get("CHECKIN_TICKET_MINUTES", "5")),
        "ATTENDANCE_ALERT_RATE": float(os.environ.get("ATTENDANCE_ALERT_RATE", "0.8")),
        # The task queue (lms/tasks): sqlite (instance/tasks.sqlite3), sqlite:PATH, redis://host:port/db or immediate.
        "TASK_QUEUE": os.environ.get("TASK_QUEUE", "sqlite").strip() or "sqlite",
        # A failed job is tried again JOB_RETRIES times, JOB_RETRY_DELAY seconds apart, then shown as failed.
        "JOB_RETRIES": _int("JOB_RETRIES", 3),
        "JOB_RETRY_DELAY": _int("JOB_RETRY_DELAY", 60),
        # A job queued or running this long is taken as lost (a killed worker): an admin may retry it.
        "JOB_STUCK_MINUTES": _int("JOB_STUCK_MINUTES", 60, 1),
        "JOBS_FOLDER": os.environ.get("JOBS_FOLDER") or str(instance / "jobs"),
        # Exports of more rows than this are made in the background (a progress page, then a download).
        "EXPORT_BACKGROUND_ROWS": _int("EXPORT_BACKGROUND_ROWS", 5000),
        # The annual white paper (docs/WHITEPAPER.md): a unit with more workers than this has its white paper
        # generated in the background (a job) and stored; a smaller one is made afresh each time it is opened.
        "WHITEPAPER_BACKGROUND_WORKERS": _int("WHITEPAPER_BACKGROUND_WORKERS", 3000),
        # The sweep (deadlines, absentees) runs on the queue's consumers every SWEEP_MINUTES (0: off).
        "SWEEP_MINUTES": _int("SWEEP_MINUTES", 1),
        # How often each consumer looks at its periodic work (Huey's 60 s); lower: a sweep every few seconds (tests).
        "PERIODIC_SECONDS": _int("PERIODIC_SECONDS", 60, 1),
        # The nightly backup on the queue (off while BACKUP_FOLDER is unset), at BACKUP_AT Asia/Shanghai time.
        "BACKUP_FOLDER": os.environ.get("BACKUP_FOLDER") or None,
        "BACKUP_AT": _hh_mm("BACKUP_AT", "02:30"),
        "BACKUP_KEEP_DAYS": _int("BACKUP_KEEP_DAYS", 30),
        "PAGE_SIZE": int(os.environ.get("PAGE_SIZE", "50")),
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
