"""Jobs on the web: an admin's list (failed first, with their errors, and a retry), and a requester's
page of their own job (a progress bar, then the download)."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, select

from ..auth.forms import ConfirmForm
from ..auth.scope import can_see_job, get_in_scope_or_404, roles_required
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..util import get_or_404
from . import jobs
from .models import Job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
LISTED = 200
KIND_LABELS = {"backup": _l("Nightly backup"), "stats_export": _l("Statistics export"),
               "accounts_export": _l("Accounts export"), "whitepaper": _l("White paper")}
STATUS_LABELS = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}


@bp.context_processor
def _labels():
    return {"job_kinds": KIND_LABELS, "job_statuses": STATUS_LABELS}


@bp.route("/")
@roles_required("admin")
def index():
    failed_first = case((Job.status == "failed", 0), else_=1)
    rows = db.session.scalars(select(Job).order_by(failed_first, Job.created_at.desc(), Job.id.desc())
                              .limit(LISTED)).all()
    return render_template("jobs/index.html", jobs=rows, form=ConfirmForm(), may_retry=jobs.may_retry,
                           stuck=jobs.stuck)


@bp.route("/<int:job_id>/retry", methods=["POST"])
@roles_required("admin")
def retry(job_id):
    job = get_or_404(Job, job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not jobs.may_retry(job):
        flash(_("This job has not failed: there is nothing to retry."), "warning")
    else:
        jobs.retry(job)
        flash(_("The job has been queued again."), "success")
    return redirect(url_for(".index"))


def _own(job_id: int) -> Job:
    return get_in_scope_or_404(Job, job_id, can_see_job)


@bp.route("/<int:job_id>")
@login_required
def show(job_id):
    return render_template("jobs/show.html", job=_own(job_id))


@bp.route("/k/<token>")
@login_required
def by_key(token):
    """Where a background export sends its requester: the job made for it (after the request that asked)."""
    from .exports import KEY_PREFIX

    job = db.session.scalar(select(Job).where(Job.key == KEY_PREFIX + token))
    if job is None or not can_see_job(current_user, job):
        abort(404)
    return redirect(url_for(".show", job_id=job.id))


@bp.route("/<int:job_id>.json")
@login_required
def status(job_id):
    job = _own(job_id)
    return jsonify(status=job.status, done=job.done, total=job.total, percent=job.percent,
                   download=url_for(".download", job_id=job.id) if job.status == "done" and job.result_path else None)


@bp.route("/<int:job_id>/download")
@login_required
def download(job_id):
    from pathlib import Path

    from ..tabular import content_disposition

    job = _own(job_id)
    if job.status != "done" or not job.result_path or not Path(job.result_path).is_file():
        abort(404)
    response = send_file(job.result_path, as_attachment=True, download_name=job.result_name or "download")
    response.headers["Content-Disposition"] = content_disposition(job.result_name or "download")
    return response
