"""The fictional demo city 安澜市, for `flask --app wsgi seed-demo` and `make run`.

Everything is keyed by code or username, so running it twice creates nothing new; its activity
(demo_activity.py) is dated from the day it is loaded.
All people and places are invented.
"""
import random

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .allowances import demo as allowance_demo
from .auth.models import User, UserRole
from .demo_activity import seed_activity
from .exams.bank_io import import_shipped_bank
from .exams.demo_results import seed_real_results
from .extensions import db
from .library.demo import seed_library
from .orgs.models import OrgUnit
from .orgs.tree import create_unit
from .stats import whitepaper_demo
from .surveys.demo import seed as seed_evaluations

DEMO_PASSWORD = "Demo2026"
WORKER_COUNT = 500

CITY = ("AL", "安澜市")
# district code, name, [(street name, [community names])]
DISTRICTS = [
    ("QH", "青禾区", [
        ("云锦街道", ["桂香社区", "枫林社区", "和平社区", "芙蓉社区"]),
        ("柳岸街道", ["金沙社区", "玉带社区", "清水社区", "南苑社区"]),
        ("望川街道", ["北辰社区", "星河社区", "梧桐社区", "荷塘社区"]),
    ]),
    ("JP", "锦屏区", [
        ("东篱街道", ["文昌社区", "锦绣社区", "翠竹社区", "新桥社区"]),
        ("书院街道", ["长乐社区", "春晖社区", "阳光社区", "龙泉社区"]),
    ]),
    ("GH", "桂湖区", [
        ("桂湖街道", ["石榴社区", "杏林社区", "丹桂社区", "兰亭社区"]),
        ("白鹭街道", ["望江社区", "柳荫社区", "白鹭社区", "松鹤社区"]),
    ]),
    ("LJ", "临江县", [
        ("临江镇", ["民安社区", "福泉社区", "大湾村", "青杠村"]),
        ("石桥镇", ["石桥社区", "柏树村", "马鞍村", "双河村"]),
    ]),
]

TRAINERS = [
    ("trainer_wangxm", "王晓梅", "female", 1979),
    ("trainer_chenzy", "陈志远", "male", 1975),
    ("trainer_liuj", "刘静", "female", 1984),
    ("trainer_zhanggh", "张国华", "male", 1968),
    ("trainer_zhaol", "赵琳", "female", 1986),
    ("trainer_zhouhy", "周海燕", "female", 1972),
    ("trainer_sunjj", "孙建军", "male", 1977),
    ("trainer_huangl", "黄丽", "female", 1981),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范廖石金贾"
)
GIVEN_F = "秀芳丽敏静婷娟燕艳玲霞雪梅兰琳欣怡佳颖洁倩蕾晶红英华萍莉慧雯璐月琴丹凤"
GIVEN_M = "伟强磊军勇杰涛明超斌刚平辉鹏华飞鑫波宇浩凯健俊峰建国文博亮东林海"


def _weighted(rng: random.Random, table: dict):
    return rng.choices(list(table), weights=list(table.values()))[0]


def _worker_profile(rng: random.Random) -> dict:
    gender = "female" if rng.random() < 0.72 else "male"
    chars = GIVEN_F if gender == "female" else GIVEN_M
    name = rng.choice(SURNAMES) + "".join(rng.choice(chars) for _i in range(rng.choice((1, 2, 2))))
    birth_year = int(rng.triangular(1966, 2002, 1988))
    age = 2026 - birth_year
    education = _weighted(rng, {"junior_high": 2, "senior_high": 8, "secondary_vocational": 7,
                                "junior_college": 35, "bachelor": 45, "postgraduate": 3})
    political = _weighted(rng, {"cpc_member": 45, "cpc_probationary": 3, "cyl_member": 10 if age < 32 else 1,
                                "democratic_party": 1, "masses": 40})
    cert = _weighted(rng, {"none": 50, "assistant": 30, "intermediate": 18, "senior": 2 if age > 35 else 0})
    years = min(int(rng.expovariate(1 / 6)), max(age - 20, 0), 30)
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _i in range(9))
    return {"name": name, "gender": gender, "birth_year": birth_year, "education": education,
            "political_status": political, "cert_level": cert, "years_in_work": years, "phone": phone}


def _ensure_unit(units: dict, code: str, name: str, level: str, parent: OrgUnit | None) -> OrgUnit:
    if code not in units:
        units[code] = create_unit(code, name, level, parent)
    return units[code]


def build_tree() -> dict[str, OrgUnit]:
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    city = _ensure_unit(units, CITY[0], CITY[1], "city", None)
    for dcode, dname, streets in DISTRICTS:
        district = _ensure_unit(units, dcode, dname, "district", city)
        for i, (sname, communities) in enumerate(streets, start=1):
            street = _ensure_unit(units, f"{dcode}{i:02d}", sname, "street", district)
            for j, cname in enumerate(communities, start=1):
                _ensure_unit(units, f"{dcode}{i:02d}{j:02d}", cname, "community", street)
    return units


def seed_demo(if_empty: bool = False, workers: int = WORKER_COUNT, activity: bool = True) -> str:
    """Load the demo city, dated from today (lms/clock.py). Flushes, never commits: the caller is the
    command's transaction boundary (`flask seed-demo`, or `with transaction.unit():`)."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        return "The database already has accounts: demo data not loaded."
    units = build_tree()
    password_hash = generate_password_hash(DEMO_PASSWORD)  # one hash for every demo account
    existing = set(db.session.scalars(select(User.username)))
    new: list[User] = []

    def add(username, name, unit, roles, **profile):
        if username in existing:
            return
        user = User(username=username, name=name, org_unit=unit, password_hash=password_hash,
                    cert_level=profile.pop("cert_level", "none"), **profile)
        user.role_rows = [UserRole(role=r) for r in roles]
        new.append(user)
        existing.add(username)

    city = units[CITY[0]]
    add("admin", "系统管理员", city, ["admin"])
    add("office_city", "安澜市社区工作者培训办", city, ["office"])
    for dcode, dname, streets in DISTRICTS:
        add(f"office_{dcode.lower()}", f"{dname}培训办", units[dcode], ["office"])
        for i, (sname, _c) in enumerate(streets, start=1):
            code = f"{dcode}{i:02d}"
            add(f"office_{code.lower()}", f"{sname}培训办", units[code], ["office"])
    for username, name, gender, birth in TRAINERS:
        add(username, name, city, ["trainer", "learner"], gender=gender, birth_year=birth,
            education="postgraduate", cert_level="intermediate")

    rng = random.Random(2026)
    communities = sorted((u for u in units.values() if u.level == "community"), key=lambda u: u.code)
    for n in range(1, workers + 1):
        profile = _worker_profile(rng)
        unit = communities[(n - 1) % len(communities)]
        active = rng.random() > 0.02 or n <= 20  # the first workers are the README's demo logins
        add(f"w{n:04d}", profile.pop("name"), unit, ["learner"], active=active, **profile)
    db.session.add_all(new)
    db.session.flush()
    seed_library()  # the pools first: the courses name their authors from the 师资库
    import_shipped_bank()  # 题库: the YAML bank in question_bank/ (before the courses: their quizzes draw from it)
    _seed_library_and_courses()
    done = seed_activity() if activity else "no activity"
    if activity:
        done += "; " + seed_real_results()
        done += "; " + allowance_demo.seed()
        done += "; " + seed_evaluations()
        from .messages import demo as messages_demo

        done += "; " + messages_demo.seed()
    from .ask import demo as ask_demo

    done += "; " + ask_demo.seed()
    db.session.flush()
    done += "; " + whitepaper_demo.seed()
    return f"Demo city ready: {len(units)} org units, {len(new)} new accounts (password {DEMO_PASSWORD}); {done}."


def _seed_library_and_courses() -> None:
    """The shipped course library (courses/) on top of the library pools."""
    from pathlib import Path

    from .learning.importer import import_courses

    import_courses(Path(__file__).resolve().parent.parent / "courses")
