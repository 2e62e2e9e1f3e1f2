"""Spreadsheet import and export of the pools (through lms.tabular: all-or-nothing, every bad
cell reported by row and column).

An import row updates the record it identifies (pools.Pool.match: institutions by name,
trainers and experts by name + affiliation, textbooks by title, bases by name + org unit code)
and creates one otherwise. Empty cells leave an existing record's value unchanged. The export
has the same columns as the template, so an exported file can be edited and imported back.
"""
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..auth.accounts import choice_parser, parse_phone
from ..auth.models import User
from ..auth.scope import can_edit_library_record, can_place_library_record, visible_units
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_for_code, units_by_code
from ..tabular import Column, ImportReport, read_rows
from .models import BASE_KINDS, INSTITUTION_KINDS, SERIES, TRAINER_KINDS
from .pools import FIELDS, Pool, account_problem, match_key, normalize_list, record_key, save_record

MARKDOWN_MAX = 20000

# Words people write in the type columns besides the labels themselves.
CHOICE_ALIASES = {
    "development": ("社区发展提能", "发展提能"),
    "governance": ("社区治理增效", "治理增效"),
    "service": ("社区服务提质", "服务提质"),
    "practitioner": ("本土实务讲师", "实务讲师", "本土讲师"),
    "expert": ("专家",),
    "college": ("高校教师", "高校讲师", "院校教师"),
    "demo_community": ("示范社区",),
    "theme_street": ("主题街区", "主题街道"),
    "model_compound": ("示范小区",),
    "university": ("高校", "大学"),
    "vocational": ("职业院校", "高职院校", "职业学院"),
    "party_school": ("党校",),
    "research": ("研究机构", "研究院", "研究所"),
    "other": ("其他", "其它"),
}
AFFILIATION_ALIASES = ("单位", "工作单位", "所在单位")
YES_NO = {"yes": _l("Yes"), "no": _l("No")}
TRUE_WORDS = {"是", "在库", "启用", "有效", "y", "yes", "true", "1", "√"}
FALSE_WORDS = {"否", "不在库", "停用", "无效", "n", "no", "false", "0", "×"}


# ----- cell parsers ---------------------------------------------------------------------------

def text(limit: int):
    def parse(value: str) -> str:
        if len(value) > limit:
            raise ValueError(_("At most %(max)d characters (this cell has %(n)d).", max=limit, n=len(value)))
        return value

    return parse


def listing(limit: int):
    def parse(value: str) -> str:
        return text(limit)(normalize_list(value))

    return parse


def choice(table: dict, what):
    by_label = choice_parser(table, what)

    def parse(value: str) -> str:
        wanted = value.strip()
        for key, aliases in CHOICE_ALIASES.items():
            if key in table and wanted in aliases:
                return key
        return by_label(value)

    return parse


def parse_bool(value: str) -> bool:
    wanted = value.strip().lower()
    yes, no = set(TRUE_WORDS), set(FALSE_WORDS)
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            yes.add(_("Yes").lower())
            no.add(_("No").lower())
    if wanted in yes:
        return True
    if wanted in no:
        return False
    raise ValueError(_("\"%(value)s\" is neither yes (是) nor no (否).", value=value))


def _whole(value: str) -> int:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(_("\"%(value)s\" is not a whole number.", value=value)) from None
    if not number.is_integer():
        raise ValueError(_("\"%(value)s\" is not a whole number.", value=value))
    return int(number)


def parse_year(value: str) -> int:
    year = _whole(value)
    top = clock.this_year() + 1
    if not 1949 <= year <= top:
        raise ValueError(_("The year must be between %(min)s and %(max)s.", min=1949, max=top))
    return year


def parse_capacity(value: str) -> int:
    number = _whole(value)
    if not 1 <= number <= 100000:
        raise ValueError(_("The capacity must be between %(min)s and %(max)s.", min=1, max=100000))
    return number


def parse_link(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError(_("A link starts with http:// or https://."))
    return text(500)(value)


# ----- columns --------------------------------------------------------------------------------

def _name(limit, example, label=None, aliases=("姓名", "名字")):
    return Column("name", label or _l("Name"), required=True, parse=text(limit), aliases=aliases, width=24,
                  example=example)


def _active():
    return Column("active", _l("Active"), parse=parse_bool, aliases=("是否在库", "在库", "启用", "状态"), width=8,
                  example=YES_NO["yes"], options=YES_NO)


def _markdown_col(key, label, aliases):
    return Column(key, label, parse=text(MARKDOWN_MAX), aliases=aliases, width=60)


def _org_code(required: bool = False) -> Column:
    return Column("org_code", _l("Org unit code"), required=required, parse=text(32),
                  aliases=("所属单位编码", "单位编码"), width=14, unit_code=True)


def _phone(key: str = "phone", label=None, aliases: tuple[str, ...] = ("手机号", "电话", "联系电话")) -> Column:
    return Column(key, label or _l("Phone"), parse=parse_phone, aliases=aliases, width=14, example="13912345678")


def columns(pool: Pool) -> list[Column]:
    key = pool.key
    if key == "textbooks":
        return [
            Column(
                "title",
                _l("Book title"),
                required=True,
                parse=text(200),
                aliases=("书名", "教材名称", "标题", "名称"),
                width=30,
                example="社区议事协商实务",
            ),
            Column(
                "series",
                _l("Series"),
                required=True,
                parse=choice(SERIES, _l("series")),
                aliases=("系列", "所属系列"),
                width=16,
                example=SERIES["governance"],
                options=SERIES,
            ),
            Column("topics", _l("Topics"), parse=listing(500), aliases=("主题", "专题"), width=30,
                   example="议事协商、居民自治"),
            Column("editors", _l("Editors"), parse=text(200), aliases=("主编", "编者", "作者"), example="李明"),
            Column("publisher", _l("Publisher"), parse=text(200), aliases=("出版社", "出版单位"), example="示例出版社"),
            Column("year", _l("Year of publication"), parse=parse_year, aliases=("出版年份", "年份"), width=10,
                   example="2024"),
            Column("link", _l("Link"), parse=parse_link, aliases=("链接", "网址"), width=30),
            _markdown_col("description", _l("Description"), ("简介", "介绍", "内容简介")),
        ]
    if key == "trainers":
        return [
            _name(64, "陈晓燕"),
            Column(
                "kind",
                _l("Trainer type"),
                required=True,
                parse=choice(TRAINER_KINDS, _l("trainer type")),
                aliases=("类型", "讲师类型", "师资类型"),
                width=14,
                example=TRAINER_KINDS["practitioner"],
                options=TRAINER_KINDS,
            ),
            Column("title", _l("Job title"), parse=text(100), aliases=("职称", "职务", "职称/职务"), width=20,
                   example="社区党委书记"),
            Column("affiliation", _l("Affiliation"), parse=text(200), aliases=AFFILIATION_ALIASES, width=28,
                   example="幸福里社区居委会"),
            Column("expertise", _l("Expertise"), parse=listing(500), aliases=("擅长领域", "专长", "授课方向"),
                   width=30,
                   example="居民议事、矛盾调解"),
            _phone(),
            _org_code(),
            Column("username", _l("Account"), parse=text(64), aliases=("账号", "用户名", "登录名"), width=16),
            _markdown_col("bio", _l("Biography"), ("简介", "个人简介", "介绍")),
            _active(),
        ]
    if key == "bases":
        return [
            _name(200, "幸福里示范社区", _l("Base name"), ("基地名称", "名称")),
            Column("kind", _l("Base type"), required=True, parse=choice(BASE_KINDS, _l("base type")),
                   aliases=("类型", "基地类型"), width=14, example=BASE_KINDS["demo_community"], options=BASE_KINDS),
            _org_code(required=True),
            Column("address", _l("Address"), parse=text(300), aliases=("地址",), width=30, example="幸福路 8 号"),
            Column("theme", _l("Teaching themes"), parse=text(300), aliases=("教学主题", "特色主题", "主题"), width=30,
                   example="老旧小区改造、居民自治"),
            Column("capacity", _l("Capacity"), parse=parse_capacity, aliases=("容纳人数", "可容纳人数"), width=10,
                   example="60"),
            Column("contact_name", _l("Contact person"), parse=text(64), aliases=("联系人",), width=12, example="刘敏"),
            _phone("contact_phone", _l("Contact phone"), ("联系电话", "电话")),
            _markdown_col("description", _l("Description"), ("简介", "介绍", "基地简介")),
            _active(),
        ]
    if key == "experts":
        return [
            _name(64, "周建华"),
            Column("title", _l("Job title"), parse=text(100), aliases=("职称", "职务", "职称/职务"), width=20,
                   example="教授"),
            Column("affiliation", _l("Affiliation"), parse=text(200), aliases=AFFILIATION_ALIASES, width=28,
                   example="示例大学社会学院"),
            Column("fields", _l("Fields"), parse=listing(500), aliases=("研究领域", "专业领域", "领域"), width=30,
                   example="社区治理、社会工作"),
            Column("contact", _l("Contact"), parse=text(100), aliases=("联系方式",), width=20,
                   example="zhou@example.org"),
            _markdown_col("bio", _l("Biography"), ("简介", "个人简介", "介绍")),
            _active(),
        ]
    return [  # institutions
        _name(200, "示例职业技术学院", _l("Institution name"), ("院校名称", "机构名称", "名称")),
        Column("kind", _l("Institution type"), required=True, parse=choice(INSTITUTION_KINDS, _l("institution type")),
               aliases=("类型", "院校类型"), width=14, example=INSTITUTION_KINDS["vocational"],
               options=INSTITUTION_KINDS),
        Column("cooperation", _l("Cooperation"), parse=listing(500), aliases=("合作方式", "合作内容"), width=30,
               example="学历提升、实训基地共建"),
        Column("address", _l("Address"), parse=text(300), aliases=("地址",), width=30, example="学院路 1 号"),
        Column("contact_name", _l("Contact person"), parse=text(64), aliases=("联系人",), width=12, example="孙丽"),
        _phone("contact_phone", _l("Contact phone"), ("联系电话", "电话")),
        _markdown_col("description", _l("Description"), ("简介", "介绍")),
        _active(),
    ]


# ----- import ---------------------------------------------------------------------------------

def import_pool(viewer: User, pool: Pool, data: bytes, filename: str) -> tuple[ImportReport, int, int]:
    """Create or update a pool's records from a table. Returns (report, created, updated);
    nothing is written unless the report is empty. Raises TableError for an unreadable file."""
    report = ImportReport()
    cols = columns(pool)
    label = {c.key: str(c.label) for c in cols}
    rows = read_rows(data, filename, cols, report)

    units = units_by_code(r.get("org_code") for _n, r in rows)
    names = {r.get(pool.name_attr) for _n, r in rows if r.get(pool.name_attr)}
    existing: dict[tuple, Any] = {}
    if names:
        name_col = getattr(pool.model, pool.name_attr)
        for record in db.session.scalars(select(pool.model).where(name_col.in_(names)).order_by(pool.model.id)):
            existing.setdefault(record_key(pool, record), record)
    usernames = {r["username"] for _n, r in rows if r.get("username")}
    users = (
        {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}
        if usernames
        else {}
    )

    plan = []
    for number, row in rows:
        values = {k: v for k, v in row.items() if k in FIELDS[pool.key]}
        ok = True
        code = row.get("org_code")
        if code:
            unit = unit_for_code(units, code, report, number, label["org_code"])
            if unit is None:
                ok = False
            elif not can_place_library_record(viewer, unit):
                report.add(number, label["org_code"], _("%(unit)s is outside your area.", unit=unit.name))
                ok = False
            else:
                values["org_unit"] = unit
        elif "org_code" in label and pool.key == "bases":
            ok = False  # required: already reported
        if not row.get(pool.name_attr):
            ok = False  # required: already reported
        record = None
        if ok:
            key = match_key(pool, values)
            report.repeated("record", key, number, label[pool.name_attr],
                            lambda first: _("The same record already appears in row %(row)d.", row=first))
            record = existing.get(key)
            problem = _scope_problem(viewer, pool, record, values)
            if problem:
                report.add(number, label.get("org_code", label[pool.name_attr]), problem)
        username = row.get("username")
        if username:
            report.repeated("username", username, number, label["username"], lambda first: _(
                "The username %(u)s already appears in row %(row)d.", u=username, row=first))  # noqa: B023 (called at once)
            user = users.get(username)
            problem = account_problem(username, user, record)
            if problem:
                report.add(number, label["username"], problem)
            else:
                values["user"] = user
        plan.append((record, values))
    report.errors.sort(key=lambda e: e.row)
    if not report.ok:
        return report, 0, 0

    created = updated = 0
    for record, values in plan:
        save_record(pool, record, values, partial=True)
        if record is None:
            created += 1
        else:
            updated += 1
    return report, created, updated


def _scope_problem(viewer: User, pool: Pool, record, values: dict) -> str | None:
    """Why the viewer may not write this row (None when it may): a record of another area, or a
    new record left without an org unit by an office that keeps only its own area's records."""
    if record is not None and not can_edit_library_record(viewer, record):
        return _("%(name)s belongs to another area: only its own office may change it.",
                 name=getattr(record, pool.name_attr))
    if record is None and values.get("org_unit") is None and not can_place_library_record(viewer, None):
        return _("Give the code of an org unit in your area.")
    return None


# ----- export and template --------------------------------------------------------------------

def _yes_no(value) -> str:
    return _("Yes") if value else _("No")


def export_row(pool: Pool, record) -> list:
    row = []
    for col in columns(pool):
        key = col.key
        if key == "org_code":
            value = record.org_unit.code if record.org_unit is not None else ""
        elif key == "username":
            value = record.user.username if record.user is not None else ""
        elif key == "active":
            value = _yes_no(record.active)
        elif key in ("kind", "series"):
            value = pool.kind_label(record) or getattr(record, key)
        else:
            value = getattr(record, key)
            if value is None:
                value = ""
        row.append(value)
    return row


def template_notes(viewer: User, pool: Pool) -> list[list]:
    """The second sheet of a template: what each column takes."""
    notes = [[_("Column"), _("What to fill in")]]
    required = _("Required.")
    for col in columns(pool):
        label = str(col.label)
        if col.key in ("kind", "series"):
            hint = "、".join(str(v) for v in (pool.kinds or {}).values())

        elif col.key == "org_code":
            units = db.session.scalars(
                visible_units(viewer).where(OrgUnit.level.in_(("street", "community"))).limit(4)
            ).all()
            hint = _("Code of the org unit, e.g. %(codes)s", codes="、".join(u.code for u in units))
        elif col.key == "username":
            hint = _("Optional: the username of the trainer's own account on this site.")
        elif col.key == "active":
            hint = _("Yes or no (是 or 否); empty means yes for a new record.")
        elif col.key == "year":
            hint = _("Four digits, e.g. 2024")
        elif col.key == "capacity":
            hint = _("How many people a visit can take, e.g. 60")
        elif col.key == "link":
            hint = _("A web address starting with http:// or https://")
        elif col.key in ("topics", "expertise", "fields", "cooperation"):
            hint = _("Separate several with 、 or commas.")
        elif col.key in ("description", "bio"):
            hint = _("Markdown text.")
        elif col.key in ("phone", "contact_phone"):
            hint = _("11-digit mobile or area code and number.")
        else:
            hint = ""
        if col.required:
            hint = f"{required} {hint}".strip()
        notes.append([label, hint])
    notes.append([_("Matching"), match_note(pool)])
    return notes


def match_note(pool: Pool) -> str:
    what = {
        "textbooks": _("A row with the title of an existing textbook updates it."),
        "trainers": _("A row with the name and affiliation of an existing trainer updates that trainer."),
        "bases": _("A row with the name and org unit code of an existing base updates that base."),
        "experts": _("A row with the name and affiliation of an existing expert updates that expert."),
        "institutions": _("A row with the name of an existing institution updates it."),
    }[pool.key]
    return what + " " + _("Empty cells leave the existing value unchanged.")
