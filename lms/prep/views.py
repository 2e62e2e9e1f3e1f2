"""Exam preparation's pages, under /prep. Each part keeps its routes in its own module on this blueprint
(imported at the end): the subject page and recommendations here, the review session (review_views),
the plan and its calendar (plan_views), the office's readiness page (office_views)."""
from flask import Blueprint

bp = Blueprint("prep", __name__, url_prefix="/prep")
from . import office_views, plan_views, review_views  # noqa: E402,F401
