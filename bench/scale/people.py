"""The city's org tree and its accounts (tables org_unit, user, user_role)."""
import math
import random
import secrets
from dataclasses import dataclass, field
from datetime import date

from werkzeug.security import generate_password_hash

from .bulk import Run

PASSWORD = "Demo2026"


@dataclass
class City:
    """Ids of what people.build() wrote. Workers are numbered community by community, so the workers
    of a street or a district are one id range [lo, hi)."""

    city_id: int
    districts: list[tuple[int, str]] = field(default_factory=list)  # (id, path)
    streets: list[tuple[int, str, int]] = field(default_factory=list)  # (id, path, index of its district)
    district_range: list[list] = field(default_factory=list)
    street_range: list[list] = field(default_factory=list)
    first_user: int = 0
    worker_hi: int = 0  # one past the last worker's id


def tree_shape(workers: int) -> tuple[int, int, int]:
    """(districts, streets per district, communities per street) for about 90 workers a community."""
    communities = max(4, round(workers / 90))
    districts = max(2, min(12, round(communities ** (1 / 3))))
    streets = max(1, min(10, round(math.sqrt(communities / districts))))
    per_street = max(1, math.ceil(communities / (districts * streets)))
    return districts, streets, per_street


def _profile(rng: random.Random, today: date) -> tuple:
    gender = "female" if rng.random() < 0.72 else "male"
    birth_year = int(rng.triangular(today.year - 60, today.year - 22, today.year - 36))
    education = rng.choices(("junior_high", "senior_high", "secondary_vocational", "junior_college", "bachelor",
                             "postgraduate"), (2, 8, 7, 35, 45, 3))[0]
    political = rng.choices(("cpc_member", "cpc_probationary", "cyl_member", "democratic_party", "masses"),
                            (45, 3, 6, 1, 45))[0]
    cert = rng.choices(("none", "assistant", "intermediate", "senior"), (50, 30, 18, 2))[0]
    years = min(int(rng.expovariate(1 / 6)), max(today.year - birth_year - 20, 0), 35)
    return gender, birth_year, education, political, cert, years


def build(run: Run, workers: int) -> City:
    w = run.writer
    n_d, n_s, n_c = tree_shape(workers)
    unit_rows: list[tuple] = []
    uid = w.next_id("org_unit")
    city = City(city_id=uid)
    unit_rows.append((uid, "SC", "规模市", "city", None, f"/{uid}/"))
    uid += 1
    communities: list[tuple[int, int]] = []  # (id, index of its street)
    for d in range(1, n_d + 1):
        d_id, d_path = uid, f"/{city.city_id}/{uid}/"
        uid += 1
        unit_rows.append((d_id, f"SC{d:02d}", f"第{d}区", "district", city.city_id, d_path))
        city.districts.append((d_id, d_path))
        for s in range(1, n_s + 1):
            s_id, s_path = uid, f"{d_path}{uid}/"
            uid += 1
            unit_rows.append((s_id, f"SC{d:02d}{s:02d}", f"第{d}区{s}街道", "street", d_id, s_path))
            city.streets.append((s_id, s_path, len(city.districts) - 1))
            for c in range(1, n_c + 1):
                c_id, c_path = uid, f"{s_path}{uid}/"
                uid += 1
                unit_rows.append(
                    (c_id, f"SC{d:02d}{s:02d}{c:02d}", f"第{d}区{s}街道{c}社区", "community", s_id, c_path)
                )
                communities.append((c_id, len(city.streets) - 1))
    w.insert("org_unit", ("id", "code", "name", "level", "parent_id", "path"), unit_rows)
    run.log(f"{len(unit_rows)} org units ({n_d} districts, {n_d * n_s} streets, {len(communities)} communities)")

    pw = generate_password_hash(PASSWORD)
    city.first_user = w.next_id("user")
    per_community = [workers // len(communities) + (1 if i < workers % len(communities) else 0)
                     for i in range(len(communities))]
    user_rows, role_rows = [], []
    city.street_range = [[None, None] for _s in city.streets]
    city.district_range = [[None, None] for _d in city.districts]
    next_uid = city.first_user
    n = 0
    for (c_id, s_index), count in zip(communities, per_community, strict=True):
        lo = next_uid
        for _i in range(count):
            n += 1
            gender, birth, edu, pol, cert, years = _profile(run.rng, run.today)
            user_rows.append((next_uid, f"s{n:06d}", f"工作者{n}", pw, gender, birth, edu, pol, cert, years, c_id,
                              True, False, secrets.token_hex(8), run.now))
            role_rows.append((next_uid, "learner"))
            next_uid += 1
        for span in (city.street_range[s_index], city.district_range[city.streets[s_index][2]]):
            span[0] = lo if span[0] is None else span[0]
            span[1] = next_uid
    city.worker_hi = next_uid
    staff = [("admin", "系统管理员", city.city_id, "admin"), ("office_city", "规模市培训办", city.city_id, "office")]
    for i, (d_id, _p) in enumerate(city.districts, start=1):
        staff.append((f"office_d{i:02d}", f"第{i}区培训办", d_id, "office"))
    for i, (s_id, _p, d_index) in enumerate(city.streets):
        staff.append((f"office_d{d_index + 1:02d}s{i % n_s + 1:02d}", f"街道培训办{i + 1}", s_id, "office"))
    for username, name, unit_id, role in staff:
        user_rows.append((next_uid, username, name, pw, None, None, None, None, "none", None, unit_id, True, False,
                          secrets.token_hex(8), run.now))
        role_rows.append((next_uid, role))
        next_uid += 1
    w.insert("user", ("id", "username", "name", "password_hash", "gender", "birth_year", "education",
                      "political_status", "cert_level", "years_in_work", "org_unit_id", "active",
                      "must_change_password", "session_nonce", "created_at"), user_rows)
    w.insert("user_role", ("user_id", "role"), role_rows)
    run.log(f"{workers} workers and {len(staff)} office accounts (password {PASSWORD})")
    return city
