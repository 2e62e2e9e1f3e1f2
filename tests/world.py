"""A small fixed world for the tests, built once per database and never changed by a test.

    city C ── district D1 ── street S11 ── communities C111, C112
          │              └── street S12 ── community C121
          └── district D2 ── street S21 ── community C211
"""
from werkzeug.security import generate_password_hash

from lms.auth.models import User, UserRole
from lms.extensions import db
from lms.orgs.tree import create_unit

PASSWORD = "Passw0rd"
IDS: dict[str, int] = {}

UNITS = [
    ("C", "测试市", "city", None),
    ("D1", "东区", "district", "C"),
    ("D2", "西区", "district", "C"),
    ("S11", "东一街道", "street", "D1"),
    ("S12", "东二街道", "street", "D1"),
    ("S21", "西一街道", "street", "D2"),
    ("C111", "东一一社区", "community", "S11"),
    ("C112", "东一二社区", "community", "S11"),
    ("C121", "东二一社区", "community", "S12"),
    ("C211", "西一一社区", "community", "S21"),
]

USERS = [
    ("admin", "管理员", "C", ["admin"]),
    ("office_c", "市培训办", "C", ["office"]),
    ("office_d1", "东区培训办", "D1", ["office"]),
    ("office_d2", "西区培训办", "D2", ["office"]),
    ("office_s11", "东一街道培训办", "S11", ["office"]),
    ("trainer", "讲师甲", "C", ["trainer", "learner"]),
    ("worker_a", "东一一甲", "C111", ["learner"]),
    ("worker_b", "东一二乙", "C112", ["learner"]),
    ("worker_c", "东二一丙", "C121", ["learner"]),
    ("worker_d", "西一一丁", "C211", ["learner"]),
]


def build() -> None:
    units = {}
    for code, name, level, parent in UNITS:
        units[code] = create_unit(code, name, level, units.get(parent))
        IDS[code] = units[code].id
    password_hash = generate_password_hash(PASSWORD)
    for username, name, unit, roles in USERS:
        user = User(username=username, name=name, org_unit=units[unit], password_hash=password_hash,
                    cert_level="none", gender="female", birth_year=1990, years_in_work=5,
                    education="bachelor", political_status="masses", phone="13800000000")
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        db.session.flush()
        IDS[username] = user.id
