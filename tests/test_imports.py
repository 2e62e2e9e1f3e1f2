"""Imports are all-or-nothing and name every bad row and column, in Chinese."""
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from lms.auth.models import User
from lms.extensions import db
from lms.orgs.models import OrgUnit

from .conftest import login, post_form

HEADER = [
    "用户名",
    "姓名",
    "性别",
    "出生年份",
    "学历",
    "政治面貌",
    "职业水平",
    "社区工作年限",
    "手机号",
    "所属单位编码",
    "初始密码",
]


def xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, url, data: bytes, name="workers.xlsx"):
    return post_form(client, url, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def count_users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def error_rows(html: str) -> list[tuple[str, str, str]]:
    import re

    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)


GOOD = ["li01", "李晓红", "女", 1990, "本科", "中共党员", "助理社会工作师", 5, "13912345678", "C111", "Start2026"]


def test_template_downloads_and_imports_back(app, client):
    login(client, "office_d1")
    r = client.get("/accounts/import/template.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    header = [c.value for c in wb.worksheets[0][1]]
    assert header == HEADER
    assert wb.worksheets[1].title == "填写说明"
    ws = wb.worksheets[0]
    ws.append(GOOD)
    ws.append(["li02", "王刚", "男", 1985, "大专", "群众", "无", 10, "", "C121", ""])
    buf = io.BytesIO()
    wb.save(buf)
    before = count_users(app)
    r = upload(client, "/accounts/import", buf.getvalue())
    html = r.get_data(as_text=True)
    assert "新建 2 个账号" in html
    assert count_users(app) == before + 2
    assert "（按文件所填）" in html  # li01 gave a password; li02's was generated and is shown
    with app.app_context():
        li02 = db.session.scalar(select(User).where(User.username == "li02"))
        assert li02.org_unit.code == "C121" and li02.gender == "male" and li02.education == "junior_college"
        assert li02.roles == {"learner"} and li02.must_change_password
    assert login(app.test_client(), "li01", "Start2026").status_code == 302


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_problem(app, client):
    login(client, "office_d1")
    rows = [
        GOOD,  # row 2: fine
        ["li03", "", "女", 1990, "本科", "群众", "无", 2, "", "C111", ""],  # row 3: no name
        ["li04", "张三", "未知", 1890, "博士后", "群众", "无", 2, "123", "C111", ""],  # row 4: 4 problems
        ["li05", "李四", "女", 1990, "本科", "群众", "无", 2, "", "C211", ""],  # row 5: other district
        ["li01", "重复", "女", 1990, "本科", "群众", "无", 2, "", "NOPE", "abc"],  # row 6: dup, unit, password
        ["admin", "改管理员", "女", 1990, "本科", "群众", "无", 2, "", "C111", ""],  # row 7: cannot change
        ["li07", "赵六", "女", 2000, "本科", "群众", "无", 20, "", "S11", ""],  # row 8: years, street
    ]
    before = count_users(app)
    r = upload(client, "/accounts/import", xlsx(rows))
    html = r.get_data(as_text=True)
    assert "未导入任何数据" in html
    assert count_users(app) == before
    errors = error_rows(html)
    cells = {(int(row), col) for row, col, _m in errors}
    assert (3, "姓名") in cells
    assert {(4, "性别"), (4, "出生年份"), (4, "学历"), (4, "手机号")} <= cells
    assert (5, "所属单位编码") in cells
    assert {(6, "用户名"), (6, "所属单位编码"), (6, "初始密码")} <= cells
    assert (7, "用户名") in cells
    assert {(8, "社区工作年限"), (8, "所属单位编码")} <= cells
    assert 2 not in {r for r, _c in cells}
    messages = " ".join(m for _r, _c, m in errors)
    assert "此项必填" in messages and "不在您的管辖范围内" in messages and "已在第 2 行出现" in messages
    assert [int(r) for r, _c, _m in errors] == sorted(int(r) for r, _c, _m in errors)


def test_missing_columns_and_unreadable_files_are_refused(app, client):
    login(client, "office_d1")
    r = upload(client, "/accounts/import", xlsx([["x"]], header=["用户名", "姓名"]))
    assert "表头缺少以下列" in r.get_data(as_text=True)
    r = upload(client, "/accounts/import", b"\xd0\xcf\x11\xe0 old excel", name="old.xls")
    assert "只能导入 .xlsx 工作簿和 .csv 文件" in r.get_data(as_text=True)
    r = upload(client, "/accounts/import", b"PK\x03\x04broken", name="broken.xlsx")
    assert "无法以 Excel" in r.get_data(as_text=True)


def test_csv_in_gbk_imports(app, client):
    login(client, "office_s11")
    text = ",".join(HEADER) + "\n" + "gbk01,陈静,女,1992,本科,共青团员,无,3,13700001111,C112,Start2026\n"
    r = upload(client, "/accounts/import", text.encode("gbk"), name="workers.csv")
    assert "新建 1 个账号" in r.get_data(as_text=True)


def test_org_tree_import_is_all_or_nothing(app, client):
    login(client, "admin")
    bad = ("编码,名称,层级,上级编码\nS13,东三街道,街道,D1\nC131,东三一社区,社区,S13\n"
           "C999,孤儿社区,社区,NOPE\nX1,错层,街道,S11\n")
    before = count_units(app)
    r = upload(client, "/orgs/import", bad.encode(), name="tree.csv")
    html = r.get_data(as_text=True)
    assert count_units(app) == before
    cells = {(int(row), col) for row, col, _m in error_rows(html)}
    assert cells == {(4, "上级编码"), (5, "层级")}
    good = "编码,名称,层级,上级编码\nC131,东三一社区,社区,S13\nS13,东三街道,街道,D1\nC111,东一一社区（更名）,社区,S11\n"
    r = upload(client, "/orgs/import", good.encode(), name="tree.csv")
    assert r.status_code == 302
    assert count_units(app) == before + 2
    with app.app_context():
        c131 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "C131"))
        assert c131.parent.code == "S13" and c131.path.startswith(c131.parent.path)
        assert db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "C111")) == "东一一社区（更名）"


def count_units(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OrgUnit))


def test_org_tree_import_reports_a_code_given_twice(app, client):
    login(client, "admin")
    text = "编码,名称,层级,上级编码\nS13,东三街道,街道,D1\nS13,东三街道（重复）,街道,D1\n"
    before = count_units(app)
    r = upload(client, "/orgs/import", text.encode(), name="tree.csv")
    errors = error_rows(r.get_data(as_text=True))
    assert [(int(row), col) for row, col, _m in errors] == [(3, "编码")]
    assert "S13" in errors[0][2] and "第 2 行" in errors[0][2]
    assert count_units(app) == before
