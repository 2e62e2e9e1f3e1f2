"""一教五库: textbooks and the five pools (trainers, bases, experts, institutions; courses live in learning)."""
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..extensions import Model
from ..i18n import lazy_gettext as _l
from ..uploads import models as _upload_models  # noqa: F401 (Textbook.attachment → Upload)

SERIES = {  # of textbooks and courses
    "development": _l("Community development capacity"),    # 社区发展提能
    "governance": _l("Community governance efficiency"),     # 社区治理增效
    "service": _l("Community service quality"),              # 社区服务提质
}
TRAINER_KINDS = {
    "practitioner": _l("Local practitioner"),
    "expert": _l("Expert"),
    "college": _l("College teacher"),
}
BASE_KINDS = {
    "demo_community": _l("Demonstration community"),
    "theme_street": _l("Theme street"),
    "model_compound": _l("Model residential compound"),
    "other": _l("Other"),
}
INSTITUTION_KINDS = {
    "university": _l("University"),
    "vocational": _l("Vocational college"),
    "party_school": _l("Party school"),
    "research": _l("Research institute"),
    "other": _l("Other"),
}


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Textbook(_Timestamps, Model):
    __tablename__ = "textbook"
    __table_args__ = (one_of("series", SERIES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    series: Mapped[str] = mapped_column(String(16), index=True)
    topics: Mapped[str] = mapped_column(String(500), default="")  # 、-separated
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    editors: Mapped[str] = mapped_column(String(200), default="")
    publisher: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    link: Mapped[str | None] = mapped_column(String(500))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id"))
    attachment = relationship("Upload")


class Trainer(_Timestamps, Model):
    """师资库: a person who teaches, with or without an account on the site."""

    __tablename__ = "trainer"
    __table_args__ = (one_of("kind", TRAINER_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(100), default="")  # 职称 / position
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    expertise: Mapped[str] = mapped_column(String(500), default="")  # 、-separated fields
    bio: Mapped[str] = mapped_column(Text, default="")  # Markdown
    phone: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    user = relationship("User")
    org_unit = relationship("OrgUnit")


class TrainingBase(_Timestamps, Model):
    """基地库: an on-site teaching base (demonstration community, theme street, model compound)."""

    __tablename__ = "training_base"
    __table_args__ = (one_of("kind", BASE_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    theme: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    org_unit = relationship("OrgUnit")


class Expert(_Timestamps, Model):
    """专家智库."""

    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[str] = mapped_column(String(500), default="")  # 、-separated
    bio: Mapped[str] = mapped_column(Text, default="")  # Markdown
    contact: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The expert's account on the site, if any: the office routes 请教一下 questions to it (lms/ask).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)

    user = relationship("User")


class Institution(_Timestamps, Model):
    """院校库: a partner college or university."""

    __tablename__ = "institution"
    __table_args__ = (one_of("kind", INSTITUTION_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    cooperation: Mapped[str] = mapped_column(String(500), default="")  # kinds of cooperation, 、-separated
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    active: Mapped[bool] = mapped_column(Boolean, default=True)
