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


def from_env() -> dict:
    instance = _instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'lms.sqlite3'}",
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        "CREDIT_HOUR_MINUTES": int(os.environ.get("CREDIT_HOUR_MINUTES", "45")),
        "ANNUAL_CREDIT_HOURS_TARGET": float(os.environ.get("ANNUAL_CREDIT_HOURS_TARGET", "50")),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans_CN": "中文", "en": "English"},
        # Lesson videos may link only to these URL prefixes (comma-separated), e.g. the city's video server.
        "VIDEO_URL_ALLOWLIST": [p.strip() for p in os.environ.get("VIDEO_URL_ALLOWLIST", "").split(",") if p.strip()],
        "CHECKIN_OPENS_MINUTES_BEFORE": int(os.environ.get("CHECKIN_OPENS_MINUTES_BEFORE", "30")),
        "CHECKIN_LATE_AFTER_MINUTES": int(os.environ.get("CHECKIN_LATE_AFTER_MINUTES", "10")),
        "ATTENDANCE_ALERT_RATE": float(os.environ.get("ATTENDANCE_ALERT_RATE", "0.8")),
        "SWEEP_SECONDS": int(os.environ.get("SWEEP_SECONDS", "60")),
        "PAGE_SIZE": int(os.environ.get("PAGE_SIZE", "50")),
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
