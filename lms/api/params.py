"""The API's parameters, each declared once: the views read them with `read()` and the OpenAPI document
describes them with `openapi()`, so what the document declares is what the server enforces.

The values are parsed by lms/inputs.py, the parsers the HTML pages use too (the statistics' filters
are read by lms/stats/filters.py with those same parsers; their declarations are here).
"""
from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _

from .. import inputs
from ..learning.models import STATUSES as COURSE_STATUSES
from ..training.models import ATTENDANCE_STATUSES, TRAINING_LEVELS
from ..util import MAX_ID
from .auth import ApiError

DEFAULT_PER_PAGE, MAX_PER_PAGE = 100, 500


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    kind: str = "id"          # id | whole | year | day | moment | enum | year_or_all
    lo: int = 1
    hi: int = MAX_ID
    choices: tuple = ()
    where: str = "query"

    def schema(self) -> dict:
        if self.kind == "id":
            return inputs.id_schema()
        if self.kind == "whole":
            return inputs.whole_schema(self.lo, self.hi)
        if self.kind == "year":
            return inputs.year_schema()
        if self.kind == "year_or_all":
            return {"anyOf": [inputs.year_schema(), {"type": "string", "enum": ["all"]}]}
        if self.kind == "day":
            return inputs.day_schema()
        if self.kind == "moment":
            return inputs.moment_schema()
        if self.kind == "enum":
            return {"type": "string", "enum": list(self.choices)}
        raise ValueError(self.kind)

    def openapi(self) -> dict:
        return {"name": self.name, "in": self.where, "required": self.where == "path",
                "description": self.description, "schema": self.schema()}

    def read(self, default=None):
        """The value of the request's query argument; absent or blank → default; not understood → 400."""
        raw = request.args.get(self.name)
        if raw is None or not raw.strip():
            return default
        if self.kind == "enum":
            if raw not in self.choices:
                raise ApiError(400, _("The parameter %(name)s must be one of: %(choices)s.", name=self.name,
                                      choices=", ".join(self.choices)))
            return raw
        if self.kind == "year_or_all" and raw == "all":
            return raw
        parse = {"id": inputs.ident, "year": inputs.year, "year_or_all": inputs.year, "day": inputs.day,
                 "moment": inputs.moment,
                 "whole": lambda value, field: inputs.whole(value, field, self.lo, self.hi)}[self.kind]
        try:
            return parse(raw, self.name)
        except inputs.InputError as exc:
            raise ApiError(400, exc.message) from None


UNIT = Param("unit", "Org unit id (default: the root of the token owner's scope). Outside the scope: 404.")
PAGE = Param("page", f"Page number, from 1 to {inputs.MAX_PAGE:,}.", "whole", 1, inputs.MAX_PAGE)
PER_PAGE = Param("per_page", f"Items per page (default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE}).", "whole", 1,
                 MAX_PER_PAGE)
PAGING = (PAGE, PER_PAGE)

_DATES = f"Dates are YYYY-MM-DD, local (Asia/Shanghai), in the years {inputs.FIRST_YEAR} to next year."
# The statistics' filters (read by lms/stats/filters.py, with the same parsers).
FILTERS = (
    Param("year", f"A year from {inputs.FIRST_YEAR} to next year (default: this year), or `all`.", "year_or_all"),
    Param("from", f"First day; with `to` it replaces `year`. {_DATES}", "day"),
    Param("to", f"Last day (inclusive); not before `from`. {_DATES}", "day"),
    Param("level", "Training level: narrows attendance, person-times and training credit hours.", "enum",
          choices=tuple(TRAINING_LEVELS)),
    Param("course", "Course id: narrows enrolments and course credit hours. A course that does not exist: 400.", "id"),
    Param("training", "Training class id: narrows attendance, person-times and training credit hours. "
                      "A class outside the area: 400.", "id"),
    Param("exam", "Exam (blueprint) id: narrows the exam figures. An exam that does not exist: 400.", "id"),
)
CE_YEAR = Param("year", f"The year, from {inputs.FIRST_YEAR} to next year (default: this year).", "year")
CERT = Param("cert", "`certified`: only workers holding a certificate.", "enum", choices=("certified",))
SHOW = Param("show", "`all`: every worker, not only those behind target.", "enum", choices=("all",))
PARENT = Param("parent", "Only the children of this unit.")
ALL = Param("all", "`1`: every account in the area; `0` (the default): active community workers.", "enum",
            choices=("0", "1"))
COURSE_STATUS = Param("status", "Only courses with this status.", "enum", choices=tuple(COURSE_STATUSES))
TRAINING_LEVEL = Param("level", "Only classes of this level.", "enum", choices=tuple(TRAINING_LEVELS))
TRAINING = Param("training", "Only this class.")
SESSION = Param("session", "Only this session.")
ATTENDANCE_STATUS = Param("status", "Only this status.", "enum", choices=tuple(ATTENDANCE_STATUSES))
ATTENDANCE_FROM = Param("from", f"Sessions from this day. {_DATES}", "day")
ATTENDANCE_TO = Param("to", f"Sessions up to this day (inclusive); not before `from`. {_DATES}", "day")
UPDATED_SINCE = Param("updated_since", "Records changed since this moment (ISO 8601; without an offset: local time), "
                                       f"in the years {inputs.FIRST_YEAR} to next year.", "moment")
USER_ID = Param("user_id", "The worker's id.", where="path")
TRAINING_ID = Param("training_id", "The class's id.", where="path")
