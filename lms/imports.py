"""The one way a view runs an all-or-nothing import of an uploaded file (see lms/tabular.py)."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import flash
from flask_babel import gettext as _

from .tabular import ImportReport, TableError
from .transaction import discard


@dataclass
class Outcome:
    report: ImportReport | None = None  # None: the file could not be read at all
    results: tuple = ()                 # what the importer returned after its report

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok


def run_import(load: Callable[[], tuple], message: Callable[..., str],
               errors: tuple[type[Exception], ...] = (TableError,)) -> Outcome:
    """`load()` reads the upload and writes (flushing, never committing); it returns (report, *results).
    A file that cannot be read (one of `errors`) or a report with problems discards every write and
    says why; a clean report flashes `message(*results)` and the request commits at its end."""
    try:
        report, *results = load()
    except errors as exc:
        discard()
        flash(str(exc), "danger")
        return Outcome()
    if report.ok:
        flash(message(*results), "success")
    else:
        discard()
        flash(_("Nothing was imported: the file has %(n)d problems, listed below.", n=len(report.errors)), "danger")
    return Outcome(report, tuple(results))
