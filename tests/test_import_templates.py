"""Import templates (lms.tabular.write_template): an example row the import skips, dropdowns for
fixed values, and a sheet of the org units the downloading office may use (scope)."""
import io
import re

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from sqlalchemy import func, select

from lms.auth.models import User
from lms.extensions import db
from lms.library.models import Trainer
from lms.orgs.models import OrgUnit
from lms.tabular import ImportReport, TableError, read_rows
from lms.training.io import SESSION_COLUMNS, session_template

from .conftest import login, post_form
from .test_imports import HEADER

ALL_ROWS = "2:1048576"


def workbook(client, url):
    r = client.get(url)
    assert r.status_code == 200, url
    return load_workbook(io.BytesIO(r.data))


def dropdowns(wb) -> dict[str, tuple[str, list]]:
    """{header label: (the cells the dropdown covers, its values)} of the first sheet."""
    ws = wb.worksheets[0]
    header = {c.column_letter: c.value for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list" and dv.showErrorMessage
        sheet, ref = dv.formula1.rsplit("!", 1)
        source = wb[sheet.strip("'")]
        min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
        values = [source.cell(row=r, column=min_col).value for r in range(min_row, max_row + 1)]
        for ref in str(dv.sqref).split():
            letter = re.match(r"[A-Z]+", ref).group()
            out[header[letter]] = (re.sub(r"[A-Z]", "", ref), values)
    return out


def upload(client, url, wb, name="t.xlsx"):
    buf = io.BytesIO()
    wb.save(buf)
    return post_form(client, url, {"file": (io.BytesIO(buf.getvalue()), name)}, content_type="multipart/form-data")


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_worker_template_has_an_example_row_dropdowns_and_the_offices_communities(client):
    login(client, "office_d1")
    wb = workbook(client, "/accounts/import/template.xlsx")
    assert wb.sheetnames == ["社区工作者", "填写说明", "组织架构", "选项"]
    assert wb["选项"].sheet_state == "hidden" and wb["组织架构"].sheet_state == "visible"
    ws = wb.worksheets[0]
    example = [c.value for c in ws[2]]
    assert example[:8] == ["wangxl01", "王晓丽", "女", "1990", "本科", "中共党员", "助理社会工作师", "5"]
    assert ws["A2"].font.i and ws["A2"].font.color.rgb.endswith("808080") and "示例" in ws["A2"].comment.text
    assert example[9] == "C111"  # the first community the office may use
    menus = dropdowns(wb)
    assert menus["性别"] == (ALL_ROWS, ["女", "男"])
    assert menus["学历"][1] == ["初中及以下", "高中", "中专", "大专", "本科", "研究生"]
    assert menus["政治面貌"][1][0] == "中共党员" and len(menus["政治面貌"][1]) == 5
    assert menus["职业水平"] == (ALL_ROWS, ["无", "助理社会工作师", "社会工作师", "高级社会工作师"])
    # Only the communities of the office's district: workers belong to a community, and to its area.
    assert menus["所属单位编码"] == (ALL_ROWS, ["C111", "C112", "C121"])
    units = [list(r) for r in wb["组织架构"].iter_rows(values_only=True)]
    assert units == [["编码", "名称", "层级"], ["C111", "东一一社区", "社区/村"], ["C112", "东一二社区", "社区/村"],
                     ["C121", "东二一社区", "社区/村"]]
    notes = [r[0] for r in wb["填写说明"].iter_rows(values_only=True)]
    assert "示例行" in notes and "组织架构" in notes
    assert set(menus) == {"性别", "学历", "政治面貌", "职业水平", "所属单位编码"}


def test_another_district_sees_only_its_own_units(client):
    login(client, "office_d2")
    wb = workbook(client, "/accounts/import/template.xlsx")
    assert [r[0] for r in wb["组织架构"].iter_rows(min_row=2, values_only=True)] == ["C211"]
    assert dropdowns(wb)["所属单位编码"][1] == ["C211"]
    assert wb.worksheets[0]["J2"].value == "C211"


def test_a_filled_worker_template_imports_and_its_example_row_creates_nobody(app, client):
    login(client, "office_d1")
    wb = workbook(client, "/accounts/import/template.xlsx")
    ws = wb.worksheets[0]
    ws.append(["li11", "李晓红", "女", 1990, "本科", "中共党员", "助理社会工作师", 5, "13912345678", "C112", ""])
    before = count(app, User)
    r = upload(client, "/accounts/import", wb)
    assert "新建 1 个账号" in r.get_data(as_text=True)
    assert count(app, User) == before + 1
    assert count(app, User, User.username == "wangxl01") == 0
    # Only the example row left: nothing to import, nothing created.
    ws.delete_rows(3)
    html = upload(client, "/accounts/import", wb).get_data(as_text=True)
    assert "没有数据行" in html and count(app, User) == before + 1
    # An edited example row is a real row.
    ws["A2"] = "wangxl02"
    assert "新建 1 个账号" in upload(client, "/accounts/import", wb).get_data(as_text=True)
    assert count(app, User, User.username == "wangxl02") == 1


def test_the_example_row_is_skipped_in_another_language_too(app, client):
    client.get("/auth/lang/en")
    login(client, "office_d1")
    wb = workbook(client, "/accounts/import/template.xlsx")
    ws = wb.worksheets[0]
    assert [c.value for c in ws[2]][2:4] == ["Female", "1990"]
    for cell, label in zip(ws[1], HEADER, strict=True):  # the header in Chinese: the office's colleague's copy
        cell.value = label
    ws.append(["li12", "李晓", "女", 1991, "本科", "群众", "无", 3, "", "C111", ""])
    client.get("/auth/lang/zh_Hans_CN")
    before = count(app, User)
    r = upload(client, "/accounts/import", wb)
    assert "新建 1 个账号" in r.get_data(as_text=True), r.get_data(as_text=True).split("<main", 1)[1][:3000]
    assert count(app, User) == before + 1 and count(app, User, User.username == "wangxl01") == 0


def test_the_trainer_template_lists_types_status_and_the_units_in_scope(app, client):
    login(client, "office_d1")
    wb = workbook(client, "/library/trainers/import/template.xlsx")
    assert wb.sheetnames == ["师资库", "填写说明", "组织架构", "选项"]
    menus = dropdowns(wb)
    assert menus["讲师类型"] == (ALL_ROWS, ["本土实务讲师", "专家", "高校教师"])
    assert menus["启用"][1] == ["是", "否"]
    codes = ["D1", "S11", "C111", "C112", "S12", "C121"]
    assert [r[0] for r in wb["组织架构"].iter_rows(min_row=2, values_only=True)] == codes  # tree order, own area
    assert menus["所属单位编码"][1] == codes
    ws = wb.worksheets[0]
    ws.append(["赵老师", "专家", "副教授", "东区党校", "基层治理", "", "S11", "", "", "是"])
    before = count(app, Trainer)
    r = upload(client, "/library/trainers/import", wb)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert count(app, Trainer) == before + 1 and count(app, Trainer, Trainer.name == "陈晓燕") == 0


def test_a_pool_without_units_has_no_unit_sheet(client):
    login(client, "admin")
    wb = workbook(client, "/library/textbooks/import/template.xlsx")
    assert "组织架构" not in wb.sheetnames
    assert dropdowns(wb)["系列"][1] == ["社区发展提能", "社区治理增效", "社区服务提质"]


def test_the_org_tree_template_offers_levels_and_parent_codes(app, client):
    login(client, "admin")
    assert "/orgs/import/template.xlsx" in client.get("/orgs/import").get_data(as_text=True)
    wb = workbook(client, "/orgs/import/template.xlsx")
    ws = wb.worksheets[0]
    assert [c.value for c in ws[2]] == ["C9901", "幸福里社区", "社区/村", "S11"]  # a community under a street
    menus = dropdowns(wb)
    assert menus["层级"][1] == ["市", "区/县", "街道/乡镇", "社区/村"]
    assert len(menus["上级编码"][1]) == 10 and menus["上级编码"][1][0] == "C"
    ws.append(["C122", "东二二社区", "社区/村", "S12"])
    r = upload(client, "/orgs/import", wb)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert count(app, OrgUnit, OrgUnit.code == "C122") == 1 and count(app, OrgUnit, OrgUnit.code == "C9901") == 0


def test_the_session_and_question_templates_carry_dropdowns(app, client):
    login(client, "trainer")
    menus = dropdowns(workbook(client, "/exams/import/template.xlsx"))
    assert menus["题型"][1] == ["单选题", "多选题", "判断题", "论述题"]
    assert menus["难度"] == (ALL_ROWS, ["易", "中", "难"])
    with app.test_request_context():
        wb = load_workbook(io.BytesIO(session_template()))
        assert dropdowns(wb)["地点类型"][1] == ["基地", "线上", "其他"]
        # The template as downloaded holds only the example row: it imports nothing.
        try:
            read_rows(session_template(), "s.xlsx", SESSION_COLUMNS, ImportReport())
        except TableError as exc:
            assert "没有数据行" in str(exc)
        else:
            raise AssertionError("the example row was read as data")
