"""The OpenAPI 3.1 description of /api/v1/ (served at /api/v1/openapi.json; validated in the tests)."""


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


NUM, INT, STR, BOOL = {"type": "number"}, {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
RATE = _nullable({"type": "number", "minimum": 0, "maximum": 1, "description": "A share (0–1); null when nothing to divide by."})


def _param(name, description, schema=None, where="query", required=False):
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema or STR}


UNIT = _param("unit", "Org unit id (default: the root of the token owner's scope). Outside the scope: 404.", INT)
PAGE = [_param("page", "Page number, from 1.", {"type": "integer", "minimum": 1}),
        _param("per_page", "Items per page (default 100, at most 500).", {"type": "integer", "minimum": 1, "maximum": 500})]
FILTERS = [
    _param("year", "A year (default: this year), or `all`.", STR),
    _param("from", "First day (YYYY-MM-DD, local time); with `to` it replaces `year`.", {"type": "string", "format": "date"}),
    _param("to", "Last day (YYYY-MM-DD, local time, inclusive).", {"type": "string", "format": "date"}),
    _param("level", "Training level: narrows attendance, person-times and training credit hours.",
           {"type": "string", "enum": ["city", "district", "street"]}),
    _param("course", "Course id: narrows enrolments and course credit hours.", INT),
    _param("training", "Training class id: narrows attendance, person-times and training credit hours.", INT),
    _param("exam", "Exam (blueprint) id: narrows the exam figures.", INT),
]


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}},
            "401": {"$ref": "#/components/responses/Unauthorised"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "400": {"$ref": "#/components/responses/BadRequest"}}


def _get(op_id: str, summary: str, schema: dict, params=(), tag="statistics") -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "tags": [tag], "parameters": list(params),
                    "responses": _ok(schema)}}


def _page_of(item: dict) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total", "pages"],
            "properties": {"items": {"type": "array", "items": item}, "page": INT, "per_page": INT,
                           "total": _nullable(INT), "pages": _nullable(INT),
                           "next": _nullable({"type": "string", "format": "uri"}),
                           "prev": _nullable({"type": "string", "format": "uri"})}}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["status", "message"],
        "properties": {"status": INT, "message": STR, "details": {"type": "array", "items": STR}}}}},
    "Unit": {"type": "object", "required": ["id", "code", "name", "level"], "properties": {
        "id": INT, "code": STR, "name": STR, "level": {"type": "string", "enum": ["city", "district", "street", "community"]},
        "parent_id": _nullable(INT)}},
    "Period": {"type": "object", "properties": {
        "from": _nullable({"type": "string", "format": "date"}), "to": _nullable({"type": "string", "format": "date"}),
        "year": _nullable(INT), "training_level": _nullable(STR), "course_id": _nullable(INT),
        "training_id": _nullable(INT), "exam_id": _nullable(INT)}},
    "Figures": {"type": "object", "description": "The dashboard figures of a unit (docs/API.md defines each).",
                "properties": {
                    "workers": INT, "courses_enrolled": INT, "courses_completed": INT, "completion_rate": RATE,
                    "credit_hours": NUM, "credit_hours_courses": NUM, "credit_hours_training": NUM,
                    "credit_hours_per_worker": _nullable(NUM),
                    "person_times": {"type": "object", "properties": {"city": INT, "district": INT, "street": INT,
                                                                      "total": INT}},
                    "attendance_records": INT, "attendance_rate": RATE, "exam_takers": INT,
                    "exam_participation": RATE, "exam_attempts": INT, "exam_average_score": _nullable(NUM),
                    "exam_passed": INT, "exam_pass_rate": RATE,
                    "cert_levels": {"type": "object", "additionalProperties": {
                        "type": "object", "properties": {"workers": INT, "share": RATE}}}}},
    "Worker": {"type": "object", "required": ["id", "username", "name", "org_unit"], "properties": {
        "id": INT, "username": STR, "name": STR, "gender": _nullable(STR), "birth_year": _nullable(INT),
        "education": _nullable(STR), "political_status": _nullable(STR), "cert_level": STR,
        "years_in_work": _nullable(INT), "active": BOOL, "roles": {"type": "array", "items": STR},
        "org_unit": _ref("Unit")}},
    "CeFigures": {"type": "object", "properties": {"workers": INT, "reached": INT, "behind": INT,
                                                   "reached_rate": RATE, "average_hours": _nullable(NUM)}},
    "Course": {"type": "object", "required": ["id", "title"], "properties": {
        "id": INT, "slug": STR, "title": STR, "series": _nullable(STR), "category": STR, "level": STR,
        "credit_hours": NUM, "status": STR, "featured": BOOL, "published_at": _nullable({"type": "string", "format": "date-time"}),
        "enrolled_in_area": INT, "completed_in_area": INT}},
    "Training": {"type": "object", "required": ["id", "title", "level"], "properties": {
        "id": INT, "title": STR, "level": STR, "status": STR, "capacity": INT, "organiser": _ref("Unit"),
        "audience_unit_id": INT, "course_id": _nullable(INT),
        "registration_deadline": {"type": "string", "format": "date-time"}, "sessions": _nullable(INT)}},
    "Attendance": {"type": "object", "required": ["id", "session_id", "user_id", "status"], "properties": {
        "id": INT, "session_id": INT, "training_id": INT, "session_starts_at": {"type": "string", "format": "date-time"},
        "user_id": INT, "status": {"type": "string", "enum": ["present", "late", "excused", "absent"]},
        "method": STR, "checked_in_at": _nullable({"type": "string", "format": "date-time"}),
        "updated_at": {"type": "string", "format": "date-time"}}},
}


def document(server: str) -> dict:
    unit_row = {"type": "object", "properties": {"unit": _ref("Unit"), "direct": BOOL, "figures": _ref("Figures")}}
    paths = {
        "/me": _get("me", "The token's owner and the root of its scope.", {"type": "object", "properties": {
            "id": INT, "username": STR, "name": STR, "roles": {"type": "array", "items": STR},
            "scope": _nullable(_ref("Unit"))}}, tag="general"),
        "/units": _get("units", "Org units in scope, in tree order.", _page_of(_ref("Unit")),
                       [_param("parent", "Only the children of this unit.", INT), *PAGE], tag="general"),
        "/stats/dashboard": _get("statsDashboard", "The dashboard: a unit's total and each unit directly below it.", {
            "type": "object", "properties": {"unit": _ref("Unit"), "period": _ref("Period"), "total": _ref("Figures"),
                                             "rows": {"type": "array", "items": unit_row}}}, [UNIT, *FILTERS]),
        "/stats/trends": _get("statsTrends", "The unit's figures month by month (local months).", {
            "type": "object", "properties": {"unit": _ref("Unit"), "period": _ref("Period"), "months": {
                "type": "array", "items": {"type": "object", "properties": {
                    "month": STR, "credit_hours": NUM, "person_times": INT, "courses_enrolled": INT,
                    "courses_completed": INT, "exam_attempts": INT, "exam_pass_rate": RATE}}}}}, [UNIT, *FILTERS]),
        "/stats/continuing-education": _get("statsContinuingEducation",
                                            "Workers reaching the annual credit-hour target, by unit.", {
            "type": "object", "properties": {"unit": _ref("Unit"), "year": INT, "target": NUM, "total": _ref("CeFigures"),
                                             "rows": {"type": "array", "items": {"allOf": [_ref("CeFigures"), {
                                                 "type": "object", "properties": {"unit": _ref("Unit"), "direct": BOOL}}]}}}},
            [UNIT, _param("year", "The year (default: this year).", INT),
             _param("cert", "`certified`: only workers holding a certificate.", {"type": "string", "enum": ["", "certified"]})]),
        "/stats/continuing-education/workers": _get("statsContinuingEducationWorkers",
                                                    "Workers and their credit hours for the year, most behind first.", {
            "allOf": [_page_of({"type": "object", "properties": {"worker": _ref("Worker"), "hours": NUM, "behind": NUM}}),
                      {"type": "object", "properties": {"year": INT, "target": NUM}}]},
            [UNIT, _param("year", "The year (default: this year).", INT),
             _param("cert", "`certified`: only workers holding a certificate.", {"type": "string", "enum": ["", "certified"]}),
             _param("show", "`all`: every worker, not only those behind target.", {"type": "string", "enum": ["", "all"]}),
             *PAGE]),
        "/stats/profile": _get("statsProfile", "The workforce profile, with the change since the latest earlier snapshot.", {
            "type": "object", "properties": {"unit": _ref("Unit"), "year": INT, "workers": INT,
                                             "compared_with_snapshot_of": _nullable(INT),
                                             "dimensions": {"type": "object", "additionalProperties": {
                                                 "type": "array", "items": {"type": "object", "properties": {
                                                     "bucket": STR, "label": STR, "workers": INT, "share": RATE,
                                                     "workers_before": _nullable(INT), "share_before": RATE,
                                                     "change": _nullable(INT),
                                                     "share_change_points": _nullable(NUM)}}}}}}, [UNIT]),
        "/workers": _get("workers", "Workers of a unit's subtree (active community workers; all=1: every account).",
                         _page_of(_ref("Worker")), [UNIT, _param("all", "`1`: every account in the area.", STR), *PAGE],
                         tag="records"),
        "/workers/{user_id}": _get("worker", "One worker's figures and record for the period.", {
            "type": "object", "properties": {
                "worker": _ref("Worker"), "period": _ref("Period"), "figures": _ref("Figures"),
                "courses": {"type": "array", "items": {"type": "object"}},
                "classes": {"type": "array", "items": {"type": "object"}},
                "credits": {"type": "array", "items": {"type": "object"}},
                "exams": {"type": "array", "items": {"type": "object"}}}},
            [_param("user_id", "The worker's id.", INT, where="path", required=True), *FILTERS], tag="records"),
        "/courses": _get("courses", "The course library, with enrolments of the workers in the area.",
                         _page_of(_ref("Course")), [_param("status", "Only courses with this status.", STR), *PAGE],
                         tag="records"),
        "/trainings": _get("trainings", "Training classes organised in the area.", _page_of(_ref("Training")),
                           [_param("level", "Only classes of this level.", STR), *PAGE], tag="records"),
        "/trainings/{training_id}": _get("training", "One class with its sessions and their attendance in the area.", {
            "allOf": [_ref("Training"), {"type": "object", "properties": {"sessions": {"type": "array", "items": {
                "type": "object", "properties": {
                    "id": INT, "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": "string", "format": "date-time"}, "credit_hours": NUM, "place_kind": STR,
                    "place": _nullable(STR), "attendance_records": INT, "person_times": INT}}}}}]},
            [_param("training_id", "The class's id.", INT, where="path", required=True)], tag="records"),
        "/attendance": _get("attendance", "Attendance records of the workers in the area, oldest first.",
                            _page_of(_ref("Attendance")), [
                                UNIT, _param("training", "Only this class.", INT), _param("session", "Only this session.", INT),
                                _param("status", "Only this status.", STR),
                                _param("from", "Sessions from this day (local).", {"type": "string", "format": "date"}),
                                _param("to", "Sessions up to this day (local, inclusive).", {"type": "string", "format": "date"}),
                                _param("updated_since", "Records changed since (ISO 8601).", {"type": "string", "format": "date-time"}),
                                *PAGE], tag="records"),
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
                "Unauthorised": {"description": "No token, or a wrong or revoked one.", "content": error},
                "Forbidden": {"description": "The token's owner may not use the API.", "content": error},
                "NotFound": {"description": "No such thing, or outside the token owner's area.", "content": error},
                "BadRequest": {"description": "A parameter was not understood.", "content": error},
            },
        },
    }
