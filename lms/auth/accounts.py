"""Domain rules for accounts: validation, creation, update and the worker import."""
import re
import secrets

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..errors import DomainError
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_for_code, units_by_code
from ..tabular import Column, ImportReport, read_rows
from . import choices
from .models import User
from .scope import can_manage_user, can_see_unit, grantable_roles

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
MIN_PASSWORD = 8


class AccountError(DomainError):
    pass


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(_("Use at least %(n)d characters.", n=MIN_PASSWORD))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append(_("Use both letters and digits."))
    if username and password.lower() == username.lower():
        problems.append(_("The password must not be the same as the username."))
    return problems


def generate_password() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _i in range(6)) + "".join(secrets.choice("23456789") for _i in range(4))


def choice_parser(table: dict, what):
    """Parse a choice from its key or its label in any of the site's languages."""

    def parse(text: str) -> str:
        wanted = text.strip().lower()
        for key, label in table.items():
            if wanted == key:
                return key
            for lang in current_app.config["LANGUAGES"]:
                with force_locale(lang):
                    if wanted == str(label).lower():
                        return key
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            zh = "、".join(str(v) for v in table.values())
        raise ValueError(
            _('"%(value)s" is not a valid %(what)s; use one of: %(options)s', value=text, what=what, options=zh)
        )

    return parse


def parse_gender(text: str) -> str:
    mapping = {"女": "female", "男": "male", "f": "female", "m": "male"}
    return mapping.get(text.strip().lower()) or choice_parser(choices.GENDERS, _("gender"))(text)


def parse_birth_year(text: str) -> int:
    this_year = clock.this_year()
    try:
        year = int(float(text))
    except ValueError:
        raise ValueError(_("\"%(value)s\" is not a year.", value=text)) from None
    if not 1940 <= year <= this_year - 16:
        raise ValueError(_("The birth year must be between 1940 and %(max)d.", max=this_year - 16))
    return year


def parse_years(text: str) -> int:
    try:
        years = int(float(text))
    except ValueError:
        raise ValueError(_("\"%(value)s\" is not a whole number of years.", value=text)) from None
    if not 0 <= years <= 50:
        raise ValueError(_("Years in community work must be between 0 and 50."))
    return years


def parse_phone(text: str) -> str:
    text = text.replace(" ", "")
    if not PHONE_RE.match(text):
        raise ValueError(_('"%(value)s" is not a phone number (11-digit mobile or area code and number).', value=text))
    return text


def parse_username(text: str) -> str:
    if not USERNAME_RE.match(text):
        raise ValueError(_("A username is 3–64 letters, digits or . _ @ -"))
    return text


def check_profile(values: dict) -> list[tuple[str, str]]:
    """Cross-field rules. Returns (field, message) pairs."""
    problems = []
    birth, years = values.get("birth_year"), values.get("years_in_work")
    if birth and years is not None and years > clock.this_year() - birth - 16:
        problems.append(("years_in_work", _("Years in community work do not fit the birth year.")))
    return problems


PROFILE_FIELDS = (
    "name",
    "gender",
    "birth_year",
    "education",
    "political_status",
    "cert_level",
    "years_in_work",
    "phone",
)


def create_user(viewer: User, *, username: str, password: str, org_unit: OrgUnit, roles, **profile) -> User:
    if not can_see_unit(viewer, org_unit):
        raise AccountError(_("You cannot create accounts in %(unit)s.", unit=org_unit.name))
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError(_("The username %(u)s is already taken.", u=username))
    bad = set(roles) - set(grantable_roles(viewer))
    if bad:
        raise AccountError(
            _("You cannot grant the role: %(roles)s", roles="、".join(str(choices.ROLES[r]) for r in bad))
        )
    user = User(username=username, org_unit=org_unit, cert_level="none")
    user.set_password(password)
    user.roles = roles or ["learner"]
    for key in PROFILE_FIELDS:
        if key in profile:
            setattr(user, key, profile[key])
    db.session.add(user)
    db.session.flush()
    return user


def update_user(viewer: User, user: User, *, org_unit: OrgUnit, roles=None, active=None, **profile) -> None:
    if not can_manage_user(viewer, user):
        raise AccountError(_("You cannot change this account."))
    if not can_see_unit(viewer, org_unit):
        raise AccountError(_("You cannot move accounts to %(unit)s.", unit=org_unit.name))
    if roles is not None:
        allowed = set(grantable_roles(viewer))
        # Roles the viewer may not grant are kept as they are.
        user.roles = (set(roles) & allowed) | (user.roles - allowed)
    if active is not None:
        if not active and user.id == viewer.id:
            raise AccountError(_("You cannot deactivate your own account."))
        if user.active != active:
            user.active = active
            if not active:
                user.reset_sessions()
    user.org_unit = org_unit
    for key in PROFILE_FIELDS:
        if key in profile:
            setattr(user, key, profile[key])


def worker_columns() -> list[Column]:
    return [
        Column("username", _l("Username"), required=True, parse=parse_username, aliases=("登录名", "账号"),
               example="wangxl01"),
        Column("name", _l("Name"), required=True, aliases=("姓名",), example="王晓丽"),
        Column("gender", _l("Gender"), required=True, parse=parse_gender, aliases=("性别",), width=8,
               example=choices.GENDERS["female"], options=choices.GENDERS),
        Column("birth_year", _l("Birth year"), required=True, parse=parse_birth_year, aliases=("出生年份",), width=10,
               example="1990"),
        Column(
            "education",
            _l("Education"),
            required=True,
            parse=choice_parser(choices.EDUCATION, _l("education")),
            aliases=("学历",),
            example=choices.EDUCATION["bachelor"],
            options=choices.EDUCATION,
        ),
        Column(
            "political_status",
            _l("Political status"),
            required=True,
            parse=choice_parser(choices.POLITICAL_STATUS, _l("political status")),
            aliases=("政治面貌",),
            example=choices.POLITICAL_STATUS["cpc_member"],
            options=choices.POLITICAL_STATUS,
        ),
        Column(
            "cert_level",
            _l("Certificate level"),
            parse=choice_parser(choices.CERT_LEVELS, _l("certificate level")),
            aliases=("职业水平", "职业资格"),
            width=18,
            example=choices.CERT_LEVELS["assistant"],
            options=choices.CERT_LEVELS,
        ),
        Column(
            "years_in_work",
            _l("Years in community work"),
            required=True,
            parse=parse_years,
            aliases=("社区工作年限",),
            width=12,
            example="5",
        ),
        Column("phone", _l("Phone"), parse=parse_phone, aliases=("手机号", "电话"), width=14, example="13912345678"),
        Column("org_code", _l("Org unit code"), required=True, aliases=("所属单位编码", "单位编码"), width=14,
               unit_code=True),
        Column("password", _l("Initial password"), aliases=("初始密码",), width=14),
    ]


def import_workers(viewer: User, data: bytes, filename: str) -> tuple[ImportReport, list[tuple[User, str | None]], int]:
    """Create or update learner accounts from the worker template.

    All-or-nothing: returns the report and, when it is clean, the created users with the
    generated password (None when the file gave one) and the number of updated users.
    """
    report = ImportReport()
    columns = worker_columns()
    label = {c.key: str(c.label) for c in columns}
    rows = read_rows(data, filename, columns, report)
    units = units_by_code(r["org_code"] for _n, r in rows)
    usernames = {r["username"] for _n, r in rows if r["username"]}
    existing = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}
    for number, row in rows:
        username = row["username"]
        if username:
            report.repeated("username", username, number, label["username"], lambda first: _(
                "The username %(u)s already appears in row %(row)d.", u=username, row=first))  # noqa: B023 (called at once)
            user = existing.get(username)
            if user is not None and not can_manage_user(viewer, user):
                report.add(
                    number,
                    label["username"],
                    _("The username %(u)s belongs to an account you cannot change.", u=username),
                )
        code = row["org_code"]
        if code:
            unit = unit_for_code(units, code, report, number, label["org_code"])  # None: reported
            if unit is not None and not can_see_unit(viewer, unit):
                report.add(number, label["org_code"], _("%(unit)s is outside your area.", unit=unit.name))
            elif unit is not None and unit.level != "community":
                report.add(
                    number,
                    label["org_code"],
                    _(
                        "Workers belong to a community; %(unit)s is a %(level)s.",
                        unit=unit.name,
                        level=unit.level_label,
                    ),
                )
        if row["password"]:
            for problem in password_problems(row["password"], username or ""):
                report.add(number, label["password"], problem)
        for key, message in check_profile(row):
            report.add(number, label[key], message)
    report.errors.sort(key=lambda e: e.row)
    if not report.ok:
        return report, [], 0

    created, updated = [], 0
    for _number, row in rows:
        profile = {k: row[k] for k in PROFILE_FIELDS if k in row}
        profile["cert_level"] = profile.get("cert_level") or "none"
        unit = units[row["org_code"]]
        user = existing.get(row["username"])
        if user is None:
            password = row["password"] or generate_password()
            user = create_user(
                viewer, username=row["username"], password=password, org_unit=unit, roles=["learner"], **profile
            )
            user.must_change_password = True
            created.append((user, None if row["password"] else password))
        else:
            update_user(viewer, user, org_unit=unit, **profile)
            updated += 1
    return report, created, updated
