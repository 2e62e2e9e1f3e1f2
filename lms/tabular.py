"""Reading and writing spreadsheets for imports and exports.

Every import in the site goes through `read_rows()` and `ImportReport`: a file is parsed
whole, every bad cell is reported with its row number and column, and the caller writes
nothing unless the report is empty (all-or-nothing).

Every export is built with `write_xlsx()` or `write_csv()` and sent with `download()`; every import
template with `write_template()`, driven by the same `Column` definitions the import reads with.
"""
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from flask import Response, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .errors import DomainError


class TableError(DomainError):
    """The file as a whole cannot be read (not a spreadsheet, no header, …)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)

    first_rows: dict = field(default_factory=dict, repr=False)

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, str(message)))

    def repeated(self, kind: str, key, row: int, column: str, message: Callable[[int], str]) -> bool:
        """Whether `key` (a username, a code, …: `kind` says which) appeared in an earlier row; if so this
        row is reported with `message(first_row)`. The first row of each key is remembered."""
        first = self.first_rows.setdefault((kind, key), row)
        if first == row:
            return False
        self.add(row, column, message(first))
        return True

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
    # The template's example row (lazy translatable text or plain text; empty: the cell stays empty).
    example: Any = ""
    # Fixed values the template offers in a dropdown: {stored key: label} or a sequence of labels.
    options: Mapping[Any, Any] | Sequence[Any] | None = None
    # The column takes an org unit's code: the template lists the units and offers their codes.
    unit_code: bool = False

    def option_labels(self) -> list[str]:
        values = self.options.values() if isinstance(self.options, Mapping) else (self.options or ())
        return [str(v) for v in values]


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
            raise TableError(_("The file could not be read as an Excel (.xlsx) workbook.")) from None
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
    example = _example_texts(columns)
    out = []
    for number, raw in enumerate(rows[1:], start=2):
        if not any(raw):
            continue
        if example and _cells(raw, index, columns) in example:
            continue  # the template's example row, left in unchanged
        values: dict[str, object] = {}
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


def _cells(raw: list[str], index: dict[str, int], columns: list[Column]) -> tuple[str, ...]:
    return tuple(raw[index[c.key]] if c.key in index and index[c.key] < len(raw) else ""
                 for c in columns if not c.unit_code)


def _example_texts(columns: list[Column]) -> set[tuple[str, ...]]:
    """The template's example row as read back, in every language of the site (empty: no example)."""
    if not any(str(c.example) for c in columns if not c.unit_code):
        return set()
    rows = set()
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            rows.add(tuple(_cell_text(str(c.example)) for c in columns if not c.unit_code))
    return rows


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_DATE_TYPES = (datetime, date, time, timedelta)


def write_xlsx(title: str, headers: list[str], rows: Iterable[Iterable], widths: list[int] | None = None,
               number_formats: dict[int, str] | None = None,
               notes: tuple[str, list[list]] | None = None) -> bytes:
    """A workbook with a bold, frozen header row; `notes` adds a second sheet (title, rows).

    `rows` may be any iterable, a generator streaming from a query included: the workbook is
    written in openpyxl's write-only mode, so memory does not grow with the number of rows.
    `number_formats` maps a 1-based column number to an Excel number format for its data cells.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    # Write-only sheets take their layout before the first row is written.
    ws.freeze_panes = "A2"
    for i in range(1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(i)].width = (widths[i - 1] if widths else 16)
    try:
        _write_rows(wb, ws, headers, _tracked(rows), number_formats, notes)
        buf = io.BytesIO()
        wb.save(buf)
    except BaseException:
        _discard(wb)
        raise
    return buf.getvalue()


def _write_rows(wb, ws, headers, rows, number_formats, notes) -> None:
    header = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        header.append(cell)
    ws.append(header)
    # One styled cell per formatted column, reused row after row: the sheet writes each row out
    # as soon as it is appended, so a cell object only has to live for one row.
    styled = []
    for col, fmt in sorted((number_formats or {}).items()):
        cell = WriteOnlyCell(ws)
        cell.number_format = fmt
        styled.append((col - 1, cell, fmt, not is_date_format(fmt)))
    width = styled[-1][0] + 1 if styled else 0
    for row in rows:
        values = list(row)
        if len(values) < width:  # a short row still gets its formatted (empty) cells
            values.extend([None] * (width - len(values)))
        for i, value in enumerate(values):
            if isinstance(value, str) and value.startswith("="):
                values[i] = _text_cell(ws, value)
        for i, cell, fmt, not_date in styled:
            value = values[i]
            cell.value = value
            if not_date and isinstance(value, _DATE_TYPES):
                cell.number_format = fmt  # openpyxl gave the date a date format: the column's format wins
            values[i] = cell
        ws.append(values)
    if notes:
        ns = wb.create_sheet(notes[0][:31])
        ns.column_dimensions["A"].width = 22
        ns.column_dimensions["B"].width = 90
        for row in notes[1]:
            ns.append([str(v) for v in row])


def _tracked(rows: Iterable) -> Iterable:
    """The rows, counted as they are written for a background export's progress bar (lms/tasks/exports.py)."""
    from flask import g, has_app_context

    hook = g.get("lms_export_progress") if has_app_context() else None
    if hook is None:
        return rows

    def counted():
        for n, row in enumerate(rows, 1):
            if n % 1000 == 0:
                hook(n)
            yield row

    return counted()


def _text_cell(ws, value: str):

    """Text that starts with "=" stays text: openpyxl would write it as a formula, and a name or a
    note typed by a user must never run as one in the office's Excel (formula injection)."""
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _discard(wb) -> None:
    """Close and delete the temporary files of a write-only workbook that will not be saved.

    (openpyxl streams each write-only sheet to a temporary file and deletes it when the workbook
    is saved; a failed export would otherwise leave it, open, until the process exits.)
    """
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        try:
            ws.close()
        except Exception:  # noqa: BLE001 - the sheet is thrown away: only its file matters
            pass
        try:
            writer.cleanup()
        except (OSError, ValueError):
            pass


# --- import templates ------------------------------------------------------------------------------

EXAMPLE_FONT = Font(italic=True, color="808080")
TEMPLATE_ROWS = 1048576  # dropdowns cover the whole column below the header


@dataclass
class UnitRow:
    """One line of a template's org unit sheet."""
    code: str
    name: str
    level: str


def write_template(title: str, columns: list[Column], notes: list[list] | None = None,
                   units: Sequence[UnitRow] | None = None, unit_example: str | None = None) -> bytes:
    """An import template: the header, a grey example row the import skips while it is unchanged,
    a dropdown on every column with fixed values, a sheet of the org units (codes and names) the
    downloader may use when a column takes a unit code, and the "how to fill in" notes.

    `units` must be given (possibly empty) when a column takes a unit code; the caller chooses
    them by scope (lms/auth/scope.py). The example row shows `unit_example` (default: the first
    unit's code) in such a column; the import recognises the example row without it.
    """
    if units is None and any(c.unit_code for c in columns):
        raise ValueError("a template with an org unit code column needs its units")
    wb = Workbook()
    ws = wb.worksheets[0]
    assert isinstance(ws, Worksheet)
    ws.title = title[:31]
    ws.freeze_panes = "A2"
    ws.append([str(c.label) for c in columns])
    for i, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = col.width
    has_example = any(str(c.example) for c in columns)
    if has_example:
        unit_example = unit_example if unit_example is not None else (units[0].code if units else "")
        _append_text(ws, [(unit_example if c.unit_code else str(c.example)) or None for c in columns])
        for i in range(1, len(columns) + 1):
            ws.cell(row=2, column=i).font = EXAMPLE_FONT
        ws.cell(row=2, column=1).comment = Comment(_example_note(), "社区学堂", width=300, height=80)
    lists = None
    unit_sheet = None
    if units is not None and any(c.unit_code for c in columns):
        unit_sheet = wb.create_sheet(_("Org units")[:31])
        unit_sheet.append([_("Code"), _("Unit name"), _("Level")])
        for cell in unit_sheet[1]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        unit_sheet.freeze_panes = "A2"
        for width, letter in zip((16, 30, 10), "ABC", strict=True):
            unit_sheet.column_dimensions[letter].width = width
        for unit in units:
            _append_text(unit_sheet, [unit.code, unit.name, unit.level])
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        if col.options is not None:
            if lists is None:
                lists = wb.create_sheet(_("Options")[:31])
                lists.sheet_state = "hidden"
            labels = col.option_labels()
            lists.cell(row=1, column=i, value=str(col.label))
            for r, label in enumerate(labels, start=2):
                lists.cell(row=r, column=i, value=label)
            source = f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${len(labels) + 1}"
            _dropdown(ws, letter, source, col, _("Choose one of the values in the list."))
        elif col.unit_code and unit_sheet is not None:
            source = f"{quote_sheetname(unit_sheet.title)}!$A$2:$A${max(len(units or ()), 1) + 1}"
            _dropdown(ws, letter, source, col, _("Choose a code from the sheet \"%(sheet)s\".", sheet=unit_sheet.title))
    notes = [list(r) for r in (notes or [[_("Column"), _("What to fill in")]])]
    if has_example:
        notes.append([_("Example row"), _example_note()])
    if unit_sheet is not None:
        notes.append([_("Org units"), _("The sheet \"%(sheet)s\" lists the codes of the org units you may use.",
                                        sheet=unit_sheet.title)])
    ns = wb.create_sheet(_("How to fill in")[:31], index=1)
    ns.column_dimensions["A"].width = 22
    ns.column_dimensions["B"].width = 90
    for row in notes:
        _append_text(ns, [str(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _example_note() -> str:
    return _("Row 2 (grey) is an example: the import skips it as long as it is left unchanged. "
             "Type over it or add your rows below it.")


def _dropdown(ws, letter: str, source: str, col: Column, message: str) -> None:
    dv = DataValidation(type="list", formula1=source, allow_blank=not col.required, showDropDown=False)
    dv.error, dv.errorTitle = message, str(col.label)
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")


def _append_text(ws, values: list[Any]) -> None:
    """A row of text that stays text: a name starting with "=" is never written as a formula."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value):
    """Text a spreadsheet would read as a formula gets a leading apostrophe (OWASP, CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(headers: list[str], rows: Iterable[Iterable]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(h) for h in headers])
    writer.writerows([_csv_value(v) for v in row] for row in _tracked(rows))
    return buf.getvalue().encode("utf-8-sig")


# --- sending a file -------------------------------------------------------------------------------

MIMETYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
}
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # RFC 9110 token: needs no quotes
_ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits: not percent-encoded


def content_disposition(filename: str) -> str:
    """`attachment` with the file name as every browser reads it (RFC 6266).

    An ASCII name goes as it is; any other name goes percent-encoded as UTF-8 in `filename*`
    (RFC 5987/8187), after an ASCII `filename` for clients that do not read `filename*`.
    """
    if filename.isascii():
        return f"attachment; filename={_header_value(filename)}"
    return (f"attachment; filename={_header_value(_ascii_fallback(filename))}; "
            f"filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}")


def _header_value(text: str) -> str:
    if _TOKEN.fullmatch(text):
        return text
    text = "".join(c for c in text if c.isprintable())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ascii_fallback(filename: str) -> str:
    """The ASCII letters, digits and separators of a name (accents stripped), or "download"."""
    stem, dot, suffix = filename.rpartition(".")
    if not dot or not suffix.isascii() or not suffix.isalnum():
        stem, suffix = filename, ""
    else:
        suffix = "." + suffix
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "", stem)
    stem = re.sub(r"([._ -])[._ -]+", r"\1", stem).strip("._ -")
    return (stem or "download") + suffix


def download(data: bytes, filename: str) -> Response:
    """A file to save, typed by the extension of `filename` (.xlsx or .csv), which may be Chinese."""
    mimetype = MIMETYPES.get("." + filename.rpartition(".")[2].lower())
    if mimetype is None:
        raise ValueError(f"no download type for {filename!r}")
    response = Response(data, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename)})
    response.download_name = filename  # type: ignore[attr-defined]  # read by a background export (lms/tasks/exports.py)
    return response
