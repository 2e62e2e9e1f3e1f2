"""The demo city's allowance programme (Ningguo's amounts as 安澜市's settings, never code constants): the city's
policy since January of last year, 锦屏区 paying more from the first day of last month, awards from the verified
results of the demo, certificates the offices confirmed (some last month: their rewards are due this month), and
last month closed (已发放) by the city office. Runs once; flushes, never commits."""
from datetime import date

from sqlalchemy import func, select

from .. import clock
from ..auth.models import User, UserRole
from ..exams.models import RealExamResult
from ..extensions import db
from ..orgs.models import OrgUnit
from . import awards, roster
from .models import AllowanceAward, AllowanceLine, AllowancePolicy

CITY_AMOUNTS = {"monthly_assistant": 100, "monthly_intermediate": 300, "monthly_senior": 500,
                "reward_assistant": 1000, "reward_intermediate": 2000, "reward_senior": 3000}


def seed(city_code: str = "AL", district_code: str = "JP") -> str:
    if db.session.scalar(select(func.count()).select_from(AllowancePolicy)):
        return "allowance policies already present"
    city = db.session.scalar(select(OrgUnit).where(OrgUnit.code == city_code))
    office = db.session.scalar(select(User).where(User.username == "office_city"))
    if city is None or office is None:
        return "no demo city"
    today = clock.today()
    this_month = roster.month_of(today)
    last_month = roster.add_months(this_month, -1)
    db.session.add(AllowancePolicy(org_unit_id=city.id, effective_from=date(today.year - 1, 1, 1),
                                   upgrade_reward="full", created_by_id=office.id,
                                   note="安澜市社区工作者职业津贴与一次性奖励办法（演示）",
                                   **CITY_AMOUNTS))
    district = db.session.scalar(select(OrgUnit).where(OrgUnit.code == district_code))
    if district is not None:
        db.session.add(AllowancePolicy(
            org_unit_id=district.id, effective_from=last_month, upgrade_reward="difference",
            note=f"{district.name}提高标准（演示）",
            monthly_assistant=150, monthly_intermediate=400, monthly_senior=600,
            reward_assistant=1500, reward_intermediate=3000, reward_senior=4000))
    db.session.flush()
    backfilled = 0
    verified = select(RealExamResult.user_id).where(RealExamResult.status == "verified").distinct()
    for worker in db.session.scalars(select(User).where(User.id.in_(verified)).order_by(User.id)):
        backfilled += awards.backfill(worker) is not None
    # Certificates typed into profiles, confirmed by the offices over the past months: a few in every month.
    awarded = select(AllowanceAward.user_id)
    holders = db.session.scalars(
        select(User).where(User.active.is_(True), User.username.like("w%"), User.cert_level != "none",
                           User.role_rows.any(UserRole.role == "learner"), User.id.not_in(awarded))
        .order_by(User.username).limit(48)).all()
    for n, worker in enumerate(holders):
        month = roster.add_months(this_month, -(1 + n % 6))   # last month … six months ago
        db.session.add(AllowanceAward(user_id=worker.id, level=worker.cert_level, source="office",
                                      earned_on=month.replace(day=1 + n % 25), recorded_by_id=office.id,
                                      reference=f"S{today.year - 1 - n % 5}{worker.id:06d}"))
    db.session.flush()
    closing = roster.close(city, last_month, office)
    due = roster.build(city, this_month)
    paid = db.session.scalar(select(func.count()).select_from(AllowanceLine)
                             .where(AllowanceLine.closing_id == closing.id))
    return (f"allowances: {backfilled + len(holders)} awards, {last_month:%Y-%m} closed ({paid} payments), "
            f"{len(due.of('monthly'))} allowances and {len(due.of('reward'))} rewards due in {this_month:%Y-%m}")
