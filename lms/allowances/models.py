"""Certificate allowances and one-time rewards (职业津贴与一次性奖励): the policy versions of the org units,
the awards (a certificate level earned, and the verified result behind it), the leave dates, and the
lines of the months an office has closed (已发放). The rules are in docs/ALLOWANCES.md."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..exams import models as _exam_models  # noqa: F401 (real_exam_result)
from ..extensions import Model
from ..orgs.models import OrgUnit

# The certificate levels that earn money, lowest first (keys of auth.choices.CERT_LEVELS).
PAID_LEVELS = ("assistant", "intermediate", "senior")
UPGRADE_MODES = ("full", "difference")   # the reward of a higher level: its full amount, or the difference
AWARD_SOURCES = ("result", "office")     # a verified exam result; an office's explicit confirmation
LINE_KINDS = ("monthly", "adjustment", "reward")


class AllowancePolicy(Model):
    """One version of an org unit's programme: in force from `effective_from` to `effective_to` (both
    included; open-ended when None). Amounts are whole 元. The units below inherit it unless they hold
    a version of their own in force."""

    __tablename__ = "allowance_policy"
    __table_args__ = (
        UniqueConstraint("org_unit_id", "effective_from", name="uq_allowance_policy_unit_from"),
        one_of("upgrade_reward", UPGRADE_MODES),
        CheckConstraint("monthly_assistant >= 0 AND monthly_intermediate >= 0 AND monthly_senior >= 0 "
                        "AND reward_assistant >= 0 AND reward_intermediate >= 0 AND reward_senior >= 0",
                        name="amounts_not_negative"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    monthly_assistant: Mapped[int] = mapped_column(Integer, default=0)
    monthly_intermediate: Mapped[int] = mapped_column(Integer, default=0)
    monthly_senior: Mapped[int] = mapped_column(Integer, default=0)
    reward_assistant: Mapped[int] = mapped_column(Integer, default=0)
    reward_intermediate: Mapped[int] = mapped_column(Integer, default=0)
    reward_senior: Mapped[int] = mapped_column(Integer, default=0)
    upgrade_reward: Mapped[str] = mapped_column(String(16), default="full")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org_unit: Mapped[OrgUnit] = relationship()

    def monthly(self, level: str) -> int:
        return int(getattr(self, f"monthly_{level}", 0) or 0)

    def reward(self, level: str) -> int:
        return int(getattr(self, f"reward_{level}", 0) or 0)

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    @property
    def label(self) -> str:
        end = self.effective_to.isoformat() if self.effective_to else "…"
        return f"{self.org_unit.name} {self.effective_from.isoformat()}–{end} (#{self.id})"


class AllowanceAward(Model):
    """A certificate level a worker earned for the programme: once per worker and level, ever. Its
    source is the office-verified real exam result that completed the level, or an office's explicit
    confirmation of the profile's level with the certificate's reference. `earned_on` is the day of that
    verification (Asia/Shanghai)."""

    __tablename__ = "allowance_award"
    __table_args__ = (
        UniqueConstraint("user_id", "level", name="uq_allowance_award_user_level"),
        one_of("level", PAID_LEVELS),
        one_of("source", AWARD_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    earned_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="result")
    result_id: Mapped[int | None] = mapped_column(ForeignKey("real_exam_result.id"))
    reference: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    result = relationship("RealExamResult")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])


class AllowanceDeparture(Model):
    """The day a worker left the job, as the office recorded it: paid through that month, nothing after."""

    __tablename__ = "allowance_departure"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    left_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user = relationship("User", foreign_keys=[user_id])


class AllowanceClosing(Model):
    """An office closed (已发放) a month for a unit's subtree: the lines it wrote are fixed from then on."""

    __tablename__ = "allowance_closing"
    __table_args__ = (UniqueConstraint("org_unit_id", "month", name="uq_allowance_closing_unit_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    month: Mapped[date] = mapped_column(Date)            # the first day of the month
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org_unit: Mapped[OrgUnit] = relationship()
    closed_by = relationship("User")


class AllowanceLine(Model):
    """One payment of a closed month: a monthly allowance, an adjustment of an earlier closed month, or a
    one-time reward. `slot` makes a double payment impossible: "m:2026-07" (one allowance per worker and
    month), "r:intermediate" (one reward per worker and level, ever), "a:2026-07:2026-09" (one adjustment
    of July paid in September)."""

    __tablename__ = "allowance_line"
    __table_args__ = (
        UniqueConstraint("user_id", "slot", name="uq_allowance_line_user_slot"),
        one_of("kind", LINE_KINDS),
        one_of("level", PAID_LEVELS, nullable=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    closing_id: Mapped[int] = mapped_column(ForeignKey("allowance_closing.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    month: Mapped[date] = mapped_column(Date, index=True)   # the month it is paid in
    kind: Mapped[str] = mapped_column(String(16))
    slot: Mapped[str] = mapped_column(String(40))
    level: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    corrects: Mapped[date | None] = mapped_column(Date)      # an adjustment: the month it corrects
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))   # the worker's unit when paid
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("allowance_policy.id"))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("allowance_award.id"))

    closing: Mapped[AllowanceClosing] = relationship()
    user = relationship("User")
    org_unit: Mapped[OrgUnit] = relationship()
    policy: Mapped[AllowancePolicy | None] = relationship()
    award: Mapped[AllowanceAward | None] = relationship()
