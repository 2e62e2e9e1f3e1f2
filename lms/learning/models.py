"""课程库 and studying: courses, lessons, enrolments, progress, 学时, certificates, ratings."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..extensions import Model, db
from ..i18n import lazy_gettext as _l
from ..library import models as _library_models  # noqa: F401 (Course.authors → Trainer)
from ..library.models import SERIES as SERIES  # a course belongs to the series of the textbook (一教)

CATEGORIES = {
    "policy": _l("Policy and theory"),
    "station": _l("Social work stations"),
    "methods": _l("Professional methods"),
    "governance": _l("Community governance"),
    "service": _l("Community services"),
    "development": _l("Community development"),
    "exam": _l("Exam preparation"),
}
LEVELS = {"beginner": _l("Beginner"), "intermediate": _l("Intermediate"), "advanced": _l("Advanced")}
STATUSES = {
    "draft": _l("Draft"),
    "review": _l("In review"),
    "returned": _l("Returned"),
    "published": _l("Published"),
}
ENROLMENT_SOURCES = ("self", "assigned")

course_author = Table(
    "course_author",
    db.metadata,
    Column("course_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    Column("trainer_id", ForeignKey("trainer.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Course(Model):
    __tablename__ = "course"
    __table_args__ = (
        one_of("status", STATUSES),
        one_of("level", LEVELS),
        Index("ix_course_status_featured", "status", "featured"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    series: Mapped[str | None] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    tags: Mapped[str] = mapped_column(String(300), default="")  # 、-separated
    level: Mapped[str] = mapped_column(String(16), default="beginner")
    credit_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("1"))
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # jieba tokens of the title, summary, tags, description and lessons, space-separated:
    # indexed with title_tokens by FTS5 on SQLite and by a GIN tsvector index on PostgreSQL (search.py).
    search_tokens: Mapped[str] = mapped_column(Text, default="")
    # jieba tokens of the title alone: the search ranks a match in the title above one in the text.
    title_tokens: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The exam topics (知识点, question_bank/topics.yaml) the course teaches: exam preparation
    # recommends it to a worker weak on one of them (lms/prep).
    topics: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # A revision (修订版) is a draft copy of a published course, edited and reviewed while the
    # published course stays live; approving it copies it onto the live course (courses.approve_revision).
    # Unique: one revision of a course at a time.
    revision_of_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), unique=True)

    authors = relationship("Trainer", secondary=course_author, order_by="Trainer.id", backref="courses")
    lessons: Mapped[list["Lesson"]] = relationship(back_populates="course", order_by="Lesson.position",
                                                   cascade="all, delete-orphan")
    cover = relationship("Upload", foreign_keys=[cover_id])
    # The end-of-course quiz (课后测验), an Exam of kind 'course'; None: the course has no quiz.
    quiz = relationship("Exam", back_populates="course", uselist=False)
    created_by = relationship("User", foreign_keys=[created_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    revision_of: Mapped["Course | None"] = relationship(remote_side=[id], foreign_keys=[revision_of_id])

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split("、") if t]


lesson_attachment = Table(
    "lesson_attachment",
    db.metadata,
    Column("lesson_id", ForeignKey("lesson.id", ondelete="CASCADE"), primary_key=True),
    Column("upload_id", ForeignKey("upload.id"), primary_key=True),
)


class Lesson(Model):
    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("course_id", "slug", name="uq_lesson_course_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    minutes: Mapped[int] = mapped_column(Integer, default=30)
    # The least active study time that completes the lesson, in minutes; None: a share of `minutes`
    # (STUDY_MIN_PERCENT). Set for short texts whose nominal time is mostly for exercises.
    min_minutes: Mapped[int | None] = mapped_column(Integer)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    video_url: Mapped[str | None] = mapped_column(String(500))
    video_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # The exam topics this lesson teaches.
    topics: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # In a revision: the live lesson this copy revises (None: a lesson the revision adds).
    live_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship(back_populates="lessons")
    video = relationship("Upload", foreign_keys=[video_id])
    attachments = relationship("Upload", secondary=lesson_attachment, order_by="Upload.id")


class CatalogueVersion(Model):
    """One row: a new random number whenever a course or lesson is added, changed or deleted
    (lms/prep/lessons.py bump_catalogue_version, in the same transaction). What a process keeps from the
    published catalogue (the lessons that teach each exam topic) is kept under it."""
    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Enrollment(Model):
    __tablename__ = "enrollment"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="uq_enrollment_user_course"),
        one_of("source", ENROLMENT_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="self")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Quiz sittings an office granted beyond the course's retries (after the worker used them all).
    extra_quiz_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    user = relationship("User", foreign_keys=[user_id])
    course: Mapped[Course] = relationship()


class LessonProgress(Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)  # active study time credited
    last_beat_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Video lessons: the parts of the video watched while counting, as JSON [[start, end], …] in
    # seconds (merged, sorted), their total, and the longest duration the player reported.
    video_ranges: Mapped[str] = mapped_column(Text, default="[]")
    video_seconds: Mapped[int] = mapped_column(Integer, default=0)
    video_duration: Mapped[int | None] = mapped_column(Integer)


class StudyClock(Model):
    """One row per learner: the moment up to which study time was last credited, over every
    lesson, tab and device, so that time is credited at most once per wall-clock second.
    Heartbeats lock this row (PostgreSQL: FOR UPDATE; SQLite: the write lock) before crediting."""

    __tablename__ = "study_clock"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    credited_until: Mapped[datetime | None] = mapped_column(DateTime)


class Credit(Model):
    """The 学时 ledger: one row per thing that earns credit, so each is credited once.

    source is 'course' (source_id = course id) or, for training attendance, 'session'.
    A correction changes `hours` (0 when revoked); statistics sum this table by year.
    """

    __tablename__ = "credit"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "source_id", name="uq_credit_user_source"),
        Index("ix_credit_user_earned", "user_id", "earned_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    earned_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Certificate(Model):
    """Issued once per completed enrolment; what it says is frozen at issue time."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    holder_name: Mapped[str] = mapped_column(String(64))
    course_title: Mapped[str] = mapped_column(String(200))
    credit_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    issuer: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[date] = mapped_column(Date)
    # What the holder did, frozen at issue: "完成学习" or "完成学习并通过课后测验（成绩 86 分）".
    achievement: Mapped[str] = mapped_column(String(200), default="完成学习", server_default="完成学习")
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    enrollment: Mapped[Enrollment] = relationship()


class CourseRating(Model):
    __tablename__ = "course_rating"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="uq_course_rating_user_course"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User")


from ..exams import models as _exam_models  # noqa: E402,F401 (Course.quiz → Exam; imported last: exams.models imports this module)
