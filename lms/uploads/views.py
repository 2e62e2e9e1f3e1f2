"""Serving uploaded files by their random token (logged-in users only)."""
from flask import Blueprint, abort, send_file
from flask_login import login_required
from sqlalchemy import select

from ..extensions import db
from .models import Upload
from .storage import path_of

bp = Blueprint("uploads", __name__, url_prefix="/files")


@bp.route("/<token>")
@login_required
def serve(token):
    upload = db.session.scalar(select(Upload).where(Upload.token == token))
    if upload is None or not path_of(upload).exists():
        abort(404)
    inline = upload.kind in ("image", "video")
    response = send_file(path_of(upload), mimetype=upload.mimetype, as_attachment=not inline,
                         download_name=upload.original_name, conditional=True, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    return response
