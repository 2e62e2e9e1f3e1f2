"""Course certificates: issued once per completed enrolment, as a PDF with a QR code
that opens the public verification page. Rendered with reportlab and segno (the QR drawn as
vectors). The Chinese text is set in WenQuanYi Micro Hei (Debian's fonts-wqy-microhei), embedded
as a subset: reportlab's built-in CID fonts are not embedded and show blank in many viewers.

What the certificate says the holder did is frozen on it at issue (`achievement`): "完成学习" for
a course without a quiz, "完成学习并通过课后测验（成绩 N 分）" for one whose quiz was passed."""
import io
import os
import secrets

import segno
from flask import current_app
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from sqlalchemy import select

from ..extensions import db
from ..orgs.models import OrgUnit
from ..util import utc_to_local
from . import quiz
from .models import Certificate, Enrollment

FONT = "WenQuanYiMicroHei"
FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # apt: fonts-wqy-microhei
FALLBACK_FONT = "STSong-Light"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _issuer() -> str:
    root = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))
    return f"{root.name}社区工作者培训办" if root else "社区学堂"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(12))


def issue(enrollment: Enrollment) -> Certificate:
    """The enrolment's certificate, created on first request once the course is complete."""
    if enrollment.completed_at is None:
        raise ValueError(_("The course is not complete yet."))
    cert = db.session.scalar(select(Certificate).where(Certificate.enrollment_id == enrollment.id))
    if cert is None:
        cert = Certificate(enrollment_id=enrollment.id, code=new_code(), holder_name=enrollment.user.name,
                           course_title=enrollment.course.title, credit_hours=enrollment.course.credit_hours,
                           issuer=_issuer(), completed_on=utc_to_local(enrollment.completed_at).date(),
                           achievement=quiz.achievement(enrollment))
        db.session.add(cert)
        db.session.flush()
    return cert


def for_enrollment(enrollment: Enrollment) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.enrollment_id == enrollment.id))


def for_enrollments(enrollment_ids: list[int]) -> dict[int, Certificate]:
    """The certificates issued for these enrolments, by enrolment id (one query)."""
    if not enrollment_ids:
        return {}
    rows = db.session.scalars(select(Certificate).where(Certificate.enrollment_id.in_(enrollment_ids)))
    return {cert.enrollment_id: cert for cert in rows}


def find(code: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))


def statement(cert: Certificate) -> str:
    """The certificate's sentence, as the PDF prints it."""
    return (f"于 {cert.completed_on:%Y年%m月%d日} 参加社区学堂在线课程《{cert.course_title}》，"
            f"{cert.achievement}，计 {cert.credit_hours} 学时，特发此证。")


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break Chinese text into lines no wider than `width` (any character may end a line)."""
    lines, line = [], ""
    for ch in text:
        if line and pdfmetrics.stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + ([line] if line else [])


def _register_font() -> str:
    """The font to set the certificate in: the embedded TrueType subset, or (font package missing)
    reportlab's CID font, which needs no file but is not embedded, with a warning in the log."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    if os.path.exists(FONT_FILE):
        pdfmetrics.registerFont(TTFont(FONT, FONT_FILE, subfontIndex=0))
        return FONT
    current_app.logger.warning("%s is missing (apt-get install fonts-wqy-microhei): certificates fall back to the "
                               "unembedded CID font %s", FONT_FILE, FALLBACK_FONT)
    if FALLBACK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def render_pdf(cert: Certificate, verify_url: str) -> bytes:
    font = _register_font()
    buf = io.BytesIO()
    width, height = landscape(A4)
    # no unembedded Helvetica; types-reportlab declares initialFontName a float by mistake
    pdf = canvas.Canvas(buf, pagesize=(width, height), initialFontName=font)  # type: ignore[arg-type]

    pdf.setTitle(f"结业证书 {cert.code}")
    pdf.setAuthor(cert.issuer)
    pdf.setStrokeColorRGB(0.71, 0.16, 0.18)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(1)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFillColorRGB(0.71, 0.16, 0.18)
    pdf.setFont(font, 36)
    pdf.drawCentredString(width / 2, height - 50 * mm, "结 业 证 书")
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont(font, 18)
    y = height - 80 * mm
    pdf.drawString(40 * mm, y, f"{cert.holder_name} 同志：")
    y -= 13 * mm
    for line in _wrap("　　" + statement(cert), font, 18, width - 80 * mm):
        pdf.drawString(40 * mm, y, line)
        y -= 11 * mm
    pdf.setFont(font, 14)
    pdf.drawRightString(width - 60 * mm, 45 * mm, cert.issuer)
    pdf.drawRightString(width - 60 * mm, 36 * mm, f"{cert.issued_at:%Y年%m月%d日}")
    pdf.setFont(font, 10)
    pdf.drawString(25 * mm, 22 * mm, f"证书编号（验证码）：{cert.code}    验证：{verify_url}")
    _draw_qr(pdf, verify_url, x=width - 52 * mm, y=24 * mm, size=32 * mm)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _draw_qr(pdf, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m")
    rows = list(qr.matrix_iter(border=2))
    cell = size / len(rows)
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)
