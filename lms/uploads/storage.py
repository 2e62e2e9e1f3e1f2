"""Storing uploaded files: type decided by content (never by the name), size-limited,
kept in UPLOAD_FOLDER outside static/, served with a safe type and disposition."""
import hashlib
import io
import os
import secrets
import zipfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..errors import DomainError
from ..extensions import db
from .models import Upload

MB = 1024 * 1024
LIMITS = {"image": 5 * MB, "document": 20 * MB, "video": 500 * MB}
OFFICE_TYPES = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
}


class UploadError(DomainError):
    pass


def sniff(data: bytes) -> tuple[str, str, str] | None:
    """(kind, mimetype, extension) from the first bytes of a file, or None if not accepted."""
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png", ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg", ".jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "image/gif", ".gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp", ".webp"
    if head.startswith(b"%PDF-"):
        return "document", "application/pdf", ".pdf"
    if head[4:8] == b"ftyp":
        return "video", "video/mp4", ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "video/webm", ".webm"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, (mimetype, ext) in OFFICE_TYPES.items():
                if any(n.startswith(prefix) for n in names):
                    return "document", mimetype, ext
    return None


KIND_LABELS = {"image": "PNG/JPEG/GIF/WebP", "document": "PDF/Word/Excel/PowerPoint", "video": "MP4/WebM"}


def save_upload(file_storage, kinds: tuple[str, ...], user=None) -> Upload:
    """Check and store one uploaded file; raises UploadError with a message for the user."""
    data = file_storage.read()
    name = os.path.basename(file_storage.filename or "file")[:200]
    if not data:
        raise UploadError(_("The file %(name)s is empty.", name=name))
    found = sniff(data)
    if found is None or found[0] not in kinds:
        allowed = "、".join(KIND_LABELS[k] for k in kinds)
        raise UploadError(_("%(name)s is not an accepted file: use %(types)s.", name=name, types=allowed))
    kind, mimetype, ext = found
    if len(data) > LIMITS[kind]:
        raise UploadError(_("%(name)s is larger than %(mb)d MB.", name=name, mb=LIMITS[kind] // MB))
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16) + ext
    (folder / stored).write_bytes(data)
    upload = Upload(stored_name=stored, original_name=name, kind=kind, mimetype=mimetype, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=getattr(user, "id", None))
    db.session.add(upload)
    db.session.flush()
    return upload


def path_of(upload: Upload) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / upload.stored_name
