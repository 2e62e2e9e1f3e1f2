"""The demo city's evaluations and needs survey, dated from the day `seed-demo` runs (lms/clock):

- 青禾区's class "社区议事协商能力提升班" ended five days ago: most attendees have evaluated it and its
  trainers (王晓梅's 师资库 profile shows the running rating);
- the street class of the README's first demo login (w0001) ended yesterday: w0001 attended and finds it
  "待评价" on 我的培训 (two others have evaluated it: below the small-number rule, its trainer sees no figures);
- the city office's 2027 training-needs survey is open for ten more days, answered by workers of every district.
Flushes, never commits; does nothing when the demo's evaluations are there already.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from .. import clock
from ..auth.models import User, UserRole
from ..demo_activity import _write_attendance  # the rows the check-in rules write, in bulk
from ..extensions import db
from ..library.models import Trainer
from ..orgs.models import OrgUnit
from ..training import rules
from ..training.models import Registration, Training
from .models import Evaluation, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse, TrainerRating

ENDED_CLASS = "社区议事协商能力提升班"
DUE_CLASS = "{unit}楼栋长骨干培训班"
SURVEY_TITLE = "2027 年度社区工作者培训需求调研"
CLASS_COMMENTS = [
    "案例都来自身边的社区，听完就能用。", "议事流程讲得很细，希望多发一些会议记录模板。",
    "现场教学环节很有收获，建议时间再长一些。", "小组研讨时间偏短，很多问题来不及讨论。",
    "课件内容充实，希望提前发放资料。", "老师互动多，气氛很好。", "", "", "",
]
TRAINER_COMMENTS = [
    "讲得清楚，举例贴近实际。", "回答问题很耐心。", "节奏稍快，可以多留些提问时间。", "经验丰富，方法实用。",
    "", "", "",
]
SURVEY_QUESTIONS = [
    ("single", "您最希望采用哪种培训形式？",
     ["集中面授", "线上学习", "现场教学（到示范社区观摩）", "线上线下结合"], True),
    ("multiple", "您最希望提升哪些方面的能力？（可多选）",
     ["居民议事协商", "矛盾纠纷调解", "“一老一小”服务", "数字化工具使用", "职业水平考试备考", "应急管理"], True),
    ("single", "每月您能安排多少时间参加培训？", ["半天以内", "半天到一天", "一到两天", "两天以上"], True),
    ("text", "对明年的培训安排，您还有什么建议？", [], False),
]
SURVEY_TEXTS = [
    "希望培训尽量安排在工作日下午，上午社区事务较多。", "建议多组织到其他区示范社区的交流学习。",
    "线上课程希望能在手机上离线观看。", "希望增加与居民沟通技巧方面的情景演练。", "考试辅导班希望提前到三月开班。",
    "希望邀请一线社区书记分享真实案例。", "培训通知能否提前两周发布，便于安排值班。",
]


def seed() -> str:
    if db.session.scalar(select(func.count()).select_from(Evaluation)):
        return "evaluations already present"
    rng = random.Random(20261208)
    now = clock.now().replace(microsecond=0)
    learners = db.session.scalars(select(User).where(User.active.is_(True), User.username.like("w%"),
                                                     User.role_rows.any(UserRole.role == "learner"))
                                  .order_by(User.username)).all()
    trainers = db.session.scalars(select(Trainer).where(Trainer.user_id.is_not(None)).order_by(Trainer.id)).all()
    district = db.session.scalar(select(OrgUnit).where(OrgUnit.level == "district").order_by(OrgUnit.id))
    if not learners or not trainers or district is None:
        return "no evaluations (no demo workers)"
    ended = _ended_class(rng, district, ENDED_CLASS, trainers[:2], learners, now - timedelta(days=12),
                         now - timedelta(days=5), share=0.8, skip=set())
    first = learners[0]
    street = first.org_unit.parent or first.org_unit
    due = _ended_class(rng, street, DUE_CLASS.format(unit=street.name), trainers[:1], learners,
                       now - timedelta(days=8), now - timedelta(days=1), share=0.0, skip={first.id}, evaluators=2)
    answers = _survey(rng, learners, now)
    return (f"{ended + due} class evaluations, {answers} answers to the needs survey")


def _ended_class(rng: random.Random, organiser: OrgUnit, title: str, trainers: Sequence[Trainer],
                 learners: Sequence[User], first: datetime, last: datetime, share: float, skip: set[int],
                 evaluators: int = 0) -> int:
    """A class of two sessions (`first`, `last`: their starts, 14:00 for three hours) held for the workers of
    `organiser`'s area; `share` of the attendees (or `evaluators` of them) evaluated it, never those in `skip`."""
    training = Training(title=title, level=organiser.level, org_unit=organiser, audience_unit=organiser,
                        capacity=60, status="closed", registration_deadline=first - timedelta(days=3), lock_version=0,
                        description="专题讲授与分组研讨相结合，最后一次课到示范社区现场观摩。")
    training.trainers = list(trainers)
    db.session.add(training)
    db.session.flush()
    sessions = [rules.new_session(training, starts_at=start, ends_at=start + timedelta(hours=3),
                                  credit_hours=Decimal("3"), place_kind="text",
                                  place_text=f"{organiser.name}党群服务中心")
                for start in (first.replace(minute=0, second=0), last.replace(minute=0, second=0) - timedelta(hours=3))]
    users = [u for u in learners if organiser.contains(u.org_unit)][:40]
    db.session.add_all([Registration(training_id=training.id, user_id=u.id, status="registered", source="assigned",
                                     created_at=first - timedelta(days=5)) for u in users])
    records = [(s, u, "present" if rng.random() < 0.85 or u.id in skip else rng.choice(("late", "absent")))
               for s in sessions for u in users]
    _write_attendance(records)
    for s in sessions:
        s.closed_at = s.ends_at + timedelta(minutes=5)
    attended = sorted({u.id for s, u, status in records if status in rules.CREDITED} - skip)
    chosen = attended[:evaluators] if evaluators else [i for i in attended if rng.random() < share]
    for user_id in chosen:
        overall = rng.choices((5, 4, 3, 2), weights=(50, 35, 12, 3))[0]
        written = sessions[-1].ends_at + timedelta(hours=2)
        evaluation = Evaluation(training_id=training.id, user_id=user_id, overall=overall,
                                comment=rng.choice(CLASS_COMMENTS), created_at=written, updated_at=written)
        evaluation.ratings = [TrainerRating(trainer_id=t.id, rating=max(1, min(5, overall + rng.choice((-1, 0, 0, 1)))),
                                            comment=rng.choice(TRAINER_COMMENTS)) for t in trainers]
        db.session.add(evaluation)
    db.session.flush()
    return len(chosen)


def _survey(rng: random.Random, learners: Sequence[User], now: datetime) -> int:
    city = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))
    office = db.session.scalar(select(User).where(User.username == "office_city"))
    survey = Survey(title=SURVEY_TITLE, org_unit=city, deadline=now + timedelta(days=10),
                    created_by_id=office.id if office else None, created_at=now - timedelta(days=4),
                    description="为科学安排明年的培训计划，请各位社区工作者花两分钟填写本问卷。**感谢支持！**")
    survey.questions = [SurveyQuestion(position=i, kind=kind, text=text, options="\n".join(options), required=required)
                        for i, (kind, text, options, required) in enumerate(SURVEY_QUESTIONS, start=1)]
    db.session.add(survey)
    db.session.flush()
    count = 0
    for user in learners[40:]:  # the README's demo logins (w0001…w0040) have not answered: they can
        if rng.random() > 0.45:
            continue
        response = SurveyResponse(survey_id=survey.id, user_id=user.id, org_path=user.org_unit.path,
                                  created_at=now - timedelta(days=4) + timedelta(minutes=rng.randint(0, 5000)))
        for q in survey.questions:
            if q.kind == "single":
                weights = [len(q.choices) - i + rng.random() * 2 for i in range(len(q.choices))]
                response.answers.append(SurveyAnswer(question_id=q.id,
                                                     option=rng.choices(range(len(q.choices)), weights=weights)[0]))
            elif q.kind == "multiple":
                for i in sorted(rng.sample(range(len(q.choices)), k=rng.randint(1, 3))):
                    response.answers.append(SurveyAnswer(question_id=q.id, option=i))
            elif rng.random() < 0.3:
                response.answers.append(SurveyAnswer(question_id=q.id, text=rng.choice(SURVEY_TEXTS)))
        db.session.add(response)
        count += 1
    db.session.flush()
    return count
