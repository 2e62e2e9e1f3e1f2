"""Reading and writing spreadsheets for imports and exports.

Every import in the site goes through `read_rows()` and `ImportReport`: a file is parsed
whole, every bad cell is reported with its row number and column, and the caller writes
nothing unless the report is empty (all-or-nothing).
"""
import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter


class TableError(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, no header, …)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, str(message)))

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Column:
    key: str
    label: Any  # lazy translatable header, e.g. _l("Name")
    required: bool = False
    parse: Callable[[str], Any] | None = None  # raises ValueError(message) on a bad value
    aliases: tuple[str, ...] = ()
    width: int = 16


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(_("The CSV file is neither UTF-8 nor GBK encoded."))


def read_table(data: bytes, filename: str = "") -> list[list[str]]:
    """All rows of the first sheet (XLSX) or of a CSV file, as stripped strings."""
    if not data:
        raise TableError(_("The file is empty."))
    if data[:4] == b"PK\x03\x04":
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a broken zip
            raise TableError(_("The file could not be read as an Excel (.xlsx) workbook."))
        ws = wb.worksheets[0]
        rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    if filename.lower().endswith((".xls", ".xlsx")) or b"\x00" in data[:1024]:
        raise TableError(_("Only .xlsx workbooks and .csv files can be imported (save .xls files as .xlsx first)."))
    text = _decode(data)
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def read_rows(data: bytes, filename: str, columns: list[Column], report: ImportReport) -> list[tuple[int, dict]]:
    """Parse a table whose first row is a header into (row number, {key: value}) pairs.

    Header cells are matched against each column's label in any language, its key and
    aliases. Cell errors go into `report`; rows with errors are still returned so that
    callers can check further rules on the good cells.
    """
    rows = read_table(data, filename)
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        raise TableError(_("The file has no header row."))
    header = rows[0]
    index: dict[str, int] = {}
    names = {}
    for col in columns:
        names[col.key] = {col.key.lower(), str(col.label).lower(), *(a.lower() for a in col.aliases)}
    for i, cell in enumerate(header):
        for col in columns:
            if cell.strip().lower() in names[col.key] and col.key not in index:
                index[col.key] = i
    missing = [str(c.label) for c in columns if c.required and c.key not in index]
    if missing:
        raise TableError(_("Missing columns in the header row: %(cols)s", cols="、".join(missing)))
    out = []
    for number, raw in enumerate(rows[1:], start=2):
        if not any(raw):
            continue
        values = {}
        for col in columns:
            pos = index.get(col.key)
            text = raw[pos] if pos is not None and pos < len(raw) else ""
            if not text:
                if col.required:
                    report.add(number, str(col.label), _("This value is required."))
                values[col.key] = None
                continue
            try:
                values[col.key] = col.parse(text) if col.parse else text
            except ValueError as exc:
                report.add(number, str(col.label), str(exc))
                values[col.key] = None
        out.append((number, values))
    if not out:
        raise TableError(_("The file has no data rows."))
    return out


def write_xlsx(title: str, headers: list[str], rows: list[list], widths: list[int] | None = None,
               number_formats: dict[int, str] | None = None,
               notes: tuple[str, list[list]] | None = None) -> bytes:
    """A workbook with a bold, frozen header row; `notes` adds a second sheet (title, rows)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([str(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "A2"
    for i, _h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = (widths[i - 1] if widths else 16)
    for col, fmt in (number_formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    if notes:
        ns = wb.create_sheet(notes[0][:31])
        for row in notes[1]:
            ns.append([str(v) for v in row])
        ns.column_dimensions["A"].width = 22
        ns.column_dimensions["B"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_csv(headers: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(h) for h in headers])
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")
