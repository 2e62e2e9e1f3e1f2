"""The OpenAPI 3.1 description of /api/v1/ (served at /api/v1/openapi.json; validated in the tests, and the
API is checked against it by schemathesis in tests/test_api_fuzz.py).

Parameters come from params.py, the declarations the views read them with; enumerations come from the models.
"""
from ..learning.models import STATUSES as COURSE_STATUSES
from ..training.models import ATTENDANCE_METHODS, ATTENDANCE_STATUSES, PLACE_KINDS, TRAINING_LEVELS
from . import params as P


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


NUM, INT, STR, BOOL = {"type": "number"}, {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
RATE = _nullable(
    {"type": "number", "minimum": 0, "maximum": 1, "description": "A share (0–1); null when nothing to divide by."}
)


def _enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


DATE_TIME = {"type": "string", "format": "date-time"}
# Every answer carries these (views._headers); a 401 also says how to authenticate.
HEADERS = {"Cache-Control": {"description": "Answers are never cached.", "required": True,
                             "schema": {"type": "string", "const": "no-store"}}}


def _params(*declared) -> list:
    return [p.openapi() for p in declared]


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"200": {"description": description, "headers": HEADERS,
                    "content": {"application/json": {"schema": schema}}},
            "401": {"$ref": "#/components/responses/Unauthorised"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "400": {"$ref": "#/components/responses/BadRequest"}}


def _get(op_id: str, summary: str, schema: dict, params=(), tag="statistics") -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "tags": [tag], "parameters": _params(*params),
                    "responses": _ok(schema)}}


def _page_of(item: dict) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total", "pages"],
            "properties": {"items": {"type": "array", "items": item}, "page": INT, "per_page": INT,
                           "total": _nullable(INT), "pages": _nullable(INT),
                           "next": _nullable({"type": "string", "format": "uri"}),
                           "prev": _nullable({"type": "string", "format": "uri"})}}


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {"status": INT, "message": STR, "details": {"type": "array", "items": STR}},
            }
        },
    },
    "Unit": {
        "type": "object",
        "required": ["id", "code", "name", "level"],
        "properties": {
            "id": INT,
            "code": STR,
            "name": STR,
            "level": {"type": "string", "enum": ["city", "district", "street", "community"]},
            "parent_id": _nullable(INT),
        },
    },
    "Period": {
        "type": "object",
        "properties": {
            "from": _nullable({"type": "string", "format": "date"}),
            "to": _nullable({"type": "string", "format": "date"}),
            "year": _nullable(INT),
            "training_level": _nullable(STR),
            "course_id": _nullable(INT),
            "training_id": _nullable(INT),
            "exam_id": _nullable(INT),
        },
    },
    "Figures": {
        "type": "object",
        "description": "The dashboard figures of a unit (docs/API.md defines each).",
        "properties": {
            "workers": INT,
            "courses_enrolled": INT,
            "courses_completed": INT,
            "completion_rate": RATE,
            "credit_hours": NUM,
            "credit_hours_courses": NUM,
            "credit_hours_training": NUM,
            "credit_hours_per_worker": _nullable(NUM),
            "person_times": {
                "type": "object",
                "properties": {"city": INT, "district": INT, "street": INT, "total": INT},
            },
            "attendance_records": INT,
            "attendance_rate": RATE,
            "exam_takers": INT,
            "exam_participation": RATE,
            "exam_attempts": INT,
            "exam_average_score": _nullable(NUM),
            "exam_passed": INT,
            "exam_pass_rate": RATE,
            "cert_levels": {
                "type": "object",
                "additionalProperties": {"type": "object", "properties": {"workers": INT, "share": RATE}},
            },
        },
    },
    "Worker": {
        "type": "object",
        "required": ["id", "username", "name", "org_unit"],
        "properties": {
            "id": INT,
            "username": STR,
            "name": STR,
            "gender": _nullable(STR),
            "birth_year": _nullable(INT),
            "education": _nullable(STR),
            "political_status": _nullable(STR),
            "cert_level": STR,
            "years_in_work": _nullable(INT),
            "active": BOOL,
            "roles": {"type": "array", "items": STR},
            "org_unit": _ref("Unit"),
        },
    },
    "CeFigures": {
        "type": "object",
        "properties": {
            "workers": INT,
            "reached": INT,
            "behind": INT,
            "reached_rate": RATE,
            "average_hours": _nullable(NUM),
        },
    },
    "Course": {
        "type": "object",
        "required": ["id", "title"],
        "properties": {
            "id": INT,
            "slug": STR,
            "title": STR,
            "series": _nullable(STR),
            "category": STR,
            "level": STR,
            "credit_hours": NUM,
            "status": _enum(COURSE_STATUSES),
            "featured": BOOL,
            "published_at": _nullable(DATE_TIME),
            "enrolled_in_area": INT,
            "completed_in_area": INT,
        },
    },
    # A class; the list gives the number of its sessions, the detail (TrainingDetail) the sessions themselves.
    "TrainingBase": {
        "type": "object",
        "required": ["id", "title", "level"],
        "properties": {
            "id": INT,
            "title": STR,
            "level": _enum(TRAINING_LEVELS),
            "status": _enum(["draft", "open", "closed", "cancelled"]),
            "capacity": INT,
            "organiser": _ref("Unit"),
            "audience_unit_id": INT,
            "course_id": _nullable(INT),
            "registration_deadline": DATE_TIME,
        },
    },
    "Training": {
        "allOf": [
            _ref("TrainingBase"),
            {
                "type": "object",
                "required": ["sessions"],
                "properties": {
                    "sessions": {"type": "integer", "minimum": 0, "description": "How many sessions the class has."}
                },
            },
        ]
    },
    "Session": {
        "type": "object",
        "required": ["id", "starts_at", "ends_at"],
        "properties": {
            "id": INT,
            "starts_at": DATE_TIME,
            "ends_at": DATE_TIME,
            "credit_hours": NUM,
            "place_kind": _enum(PLACE_KINDS),
            "place": _nullable(STR),
            "attendance_records": INT,
            "person_times": INT,
        },
    },
    "TrainingDetail": {
        "allOf": [
            _ref("TrainingBase"),
            {
                "type": "object",
                "required": ["sessions"],
                "properties": {
                    "sessions": {
                        "type": "array",
                        "items": _ref("Session"),
                        "description": "The sessions, with attendance of the workers in the area.",
                    }
                },
            },
        ]
    },
    "Attendance": {
        "type": "object",
        "required": ["id", "session_id", "user_id", "status"],
        "properties": {
            "id": INT,
            "session_id": INT,
            "training_id": INT,
            "session_starts_at": DATE_TIME,
            "user_id": INT,
            "status": _enum(ATTENDANCE_STATUSES),
            "method": _enum(ATTENDANCE_METHODS),
            "checked_in_at": _nullable(DATE_TIME),
            "updated_at": DATE_TIME,
        },
    },
}


def document(server: str) -> dict:
    unit_row = {"type": "object", "properties": {"unit": _ref("Unit"), "direct": BOOL, "figures": _ref("Figures")}}
    paths = {
        "/me": _get(
            "me",
            "The token's owner and the root of its scope.",
            {
                "type": "object",
                "properties": {
                    "id": INT,
                    "username": STR,
                    "name": STR,
                    "roles": {"type": "array", "items": STR},
                    "scope": _nullable(_ref("Unit")),
                },
            },
            tag="general",
        ),
        "/units": _get(
            "units", "Org units in scope, in tree order.", _page_of(_ref("Unit")), [P.PARENT, *P.PAGING], tag="general"
        ),
        "/stats/dashboard": _get(
            "statsDashboard",
            "The dashboard: a unit's total and each unit directly below it.",
            {
                "type": "object",
                "properties": {
                    "unit": _ref("Unit"),
                    "period": _ref("Period"),
                    "total": _ref("Figures"),
                    "rows": {"type": "array", "items": unit_row},
                },
            },
            [P.UNIT, *P.FILTERS],
        ),
        "/stats/trends": _get(
            "statsTrends",
            "The unit's figures month by month (local months, at most the last 36).",
            {
                "type": "object",
                "properties": {
                    "unit": _ref("Unit"),
                    "period": _ref("Period"),
                    "months": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                                "credit_hours": NUM,
                                "person_times": INT,
                                "courses_enrolled": INT,
                                "courses_completed": INT,
                                "exam_attempts": INT,
                                "exam_pass_rate": RATE,
                            },
                        },
                    },
                },
            },
            [P.UNIT, *P.FILTERS],
        ),
        "/stats/continuing-education": _get(
            "statsContinuingEducation",
            "Workers reaching the annual credit-hour target, by unit.",
            {
                "type": "object",
                "properties": {
                    "unit": _ref("Unit"),
                    "year": INT,
                    "target": NUM,
                    "total": _ref("CeFigures"),
                    "rows": {
                        "type": "array",
                        "items": {
                            "allOf": [
                                _ref("CeFigures"),
                                {"type": "object", "properties": {"unit": _ref("Unit"), "direct": BOOL}},
                            ]
                        },
                    },
                },
            },
            [P.UNIT, P.CE_YEAR, P.CERT],
        ),
        "/stats/continuing-education/workers": _get(
            "statsContinuingEducationWorkers",
            "Workers and their credit hours for the year, most behind first.",
            {
                "allOf": [
                    _page_of({"type": "object", "properties": {"worker": _ref("Worker"), "hours": NUM, "behind": NUM}}),
                    {"type": "object", "properties": {"year": INT, "target": NUM}},
                ]
            },
            [P.UNIT, P.CE_YEAR, P.CERT, P.SHOW, *P.PAGING],
        ),
        "/stats/profile": _get(
            "statsProfile",
            "The workforce profile, with the change since the latest earlier snapshot.",
            {
                "type": "object",
                "properties": {
                    "unit": _ref("Unit"),
                    "year": INT,
                    "workers": INT,
                    "compared_with_snapshot_of": _nullable(INT),
                    "dimensions": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "bucket": STR,
                                    "label": STR,
                                    "workers": INT,
                                    "share": RATE,
                                    "workers_before": _nullable(INT),
                                    "share_before": RATE,
                                    "change": _nullable(INT),
                                    "share_change_points": _nullable(NUM),
                                },
                            },
                        },
                    },
                },
            },
            [P.UNIT],
        ),
        "/workers": _get(
            "workers",
            "Workers of a unit's subtree (active community workers; all=1: every account).",
            _page_of(_ref("Worker")),
            [P.UNIT, P.ALL, *P.PAGING],
            tag="records",
        ),
        "/workers/{user_id}": _get(
            "worker",
            "One worker's figures and record for the period.",
            {
                "type": "object",
                "properties": {
                    "worker": _ref("Worker"),
                    "period": _ref("Period"),
                    "figures": _ref("Figures"),
                    "courses": {"type": "array", "items": {"type": "object"}},
                    "classes": {"type": "array", "items": {"type": "object"}},
                    "credits": {"type": "array", "items": {"type": "object"}},
                    "exams": {"type": "array", "items": {"type": "object"}},
                },
            },
            [P.USER_ID, *P.FILTERS],
            tag="records",
        ),
        "/courses": _get(
            "courses",
            "The course library, with enrolments of the workers in the area.",
            _page_of(_ref("Course")),
            [P.COURSE_STATUS, *P.PAGING],
            tag="records",
        ),
        "/trainings": _get(
            "trainings",
            "Training classes organised in the area.",
            _page_of(_ref("Training")),
            [P.TRAINING_LEVEL, *P.PAGING],
            tag="records",
        ),
        "/trainings/{training_id}": _get(
            "training",
            "One class with its sessions and their attendance in the area.",
            _ref("TrainingDetail"),
            [P.TRAINING_ID],
            tag="records",
        ),
        "/attendance": _get(
            "attendance",
            "Attendance records of the workers in the area, oldest first.",
            _page_of(_ref("Attendance")),
            [
                P.UNIT,
                P.TRAINING,
                P.SESSION,
                P.ATTENDANCE_STATUS,
                P.ATTENDANCE_FROM,
                P.ATTENDANCE_TO,
                P.UPDATED_SINCE,
                *P.PAGING,
            ],
            tag="records",
        ),
    }
    error = {"application/json": {"schema": _ref("Error")}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "社区学堂 Community Academy API", "version": "1.0.0",
                 "description": "Read-only statistics and records for training offices. Every answer is limited "
                                "to the token owner's area (its org unit and everything below it; admins: the city). "
                                "Times are UTC (ISO 8601); dates and months are local (Asia/Shanghai)."},
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "tags": [{"name": "general"}, {"name": "statistics"}, {"name": "records"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token made on /api/tokens/ by an office or admin user."}},
            "schemas": SCHEMAS,
            "responses": {
                "Unauthorised": {"description": "No token, or a wrong or revoked one.", "content": error, "headers": {
                    **HEADERS, "WWW-Authenticate": {"description": "How to authenticate.", "required": True,
                                                    "schema": {"type": "string", "pattern": "^Bearer "}}}},
                "Forbidden": {"description": "The token's owner may not use the API.", "content": error,
                              "headers": HEADERS},
                "NotFound": {"description": "No such thing, or outside the token owner's area.", "content": error,
                             "headers": HEADERS},
                "BadRequest": {"description": "A parameter was not understood: `error.message` (and `error.details`, "
                                              "one message per filter) say which and what is accepted.",
                               "content": error, "headers": HEADERS},
            },
        },
    }
