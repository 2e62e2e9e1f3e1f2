"""Figures for offices (an exam day) and trainers (item analysis)."""
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select

from ..auth.models import User, UserRole
from ..auth.scope import in_subtree, unit_filter
from ..extensions import db
from ..orgs.models import OrgUnit
from . import qtypes
from .models import Attempt, AttemptAnswer, Exam, MockExamDay

UPPER_LOWER_SHARE = 0.27
MAX_ATTEMPTS = 5000


def day_figures(day: MockExamDay, viewer) -> dict:
    """Participation, average score and pass rate for the day, in total and per unit below its unit,
    limited to the viewer's scope. All aggregation in SQL over the org tree."""
    child = OrgUnit.__table__.alias("child")
    member = OrgUnit.__table__.alias("member")
    eligible = (select(child.c.id, child.c.name, func.count(User.id).label("workers"))
                .select_from(child).join(member, in_subtree(member.c.path, child.c.path))
                .join(User, and_(User.org_unit_id == member.c.id, User.active.is_(True),
                                 User.role_rows.any(UserRole.role == "learner")))
                .where(child.c.parent_id == day.org_unit_id, unit_filter(viewer, member.c.path))
                .group_by(child.c.id, child.c.name))
    took = (
        select(
            child.c.id,
            func.count(Attempt.id).label("attempts"),
            func.avg(case((Attempt.status == "graded", Attempt.score))).label("avg"),
            func.sum(case((Attempt.passed.is_(True), 1), else_=0)).label("passed"),
            func.sum(case((Attempt.status == "graded", 1), else_=0)).label("graded"),
        )
        .select_from(child)
        .join(member, in_subtree(member.c.path, child.c.path))
        .join(User, User.org_unit_id == member.c.id)
        .join(Attempt, Attempt.user_id == User.id)
        .where(child.c.parent_id == day.org_unit_id, Attempt.mock_day_id == day.id, unit_filter(viewer, member.c.path))
        .group_by(child.c.id)
    )
    workers = {r.id: (r.name, r.workers) for r in db.session.execute(eligible)}
    results = {r.id: r for r in db.session.execute(took)}
    rows = []
    for unit_id, (name, count) in sorted(workers.items(), key=lambda kv: kv[1][0]):
        r = results.get(unit_id)
        rows.append(_figures(name, count, r.attempts if r else 0, r.avg if r else None, r.passed if r else 0,
                             r.graded if r else 0))
    total = _figures("", sum(c for _n, c in workers.values()), sum(r.attempts for r in results.values()), None,
                     sum(r.passed or 0 for r in results.values()), sum(r.graded or 0 for r in results.values()))
    total["avg"] = db.session.scalar(
        select(func.avg(Attempt.score))
        .join(User, Attempt.user_id == User.id)
        .join(OrgUnit, User.org_unit_id == OrgUnit.id)
        .where(Attempt.mock_day_id == day.id, Attempt.status == "graded", unit_filter(viewer))
    )
    return {"rows": rows, "total": total}


def _figures(name, workers, attempts, avg, passed, graded) -> dict:
    return {"name": name, "workers": workers, "attempts": attempts,
            "participation": attempts / workers if workers else None,
            "avg": Decimal(avg).quantize(Decimal("0.1")) if avg is not None else None,
            "pass_rate": (passed or 0) / graded if graded else None}


def item_analysis(exam: Exam) -> list[dict]:
    """For each question of the exam's graded attempts: facility (share of the points scored),
    discrimination (facility in the top 27 % of attempts minus the bottom 27 %) and the options chosen."""
    graded = db.session.execute(
        select(Attempt.id, Attempt.score, Attempt.paper)
        .where(Attempt.exam_id == exam.id, Attempt.status == "graded")
        .order_by(Attempt.graded_at.desc())
        .limit(MAX_ATTEMPTS)
    ).all()
    if not graded:
        return []
    ids = [a.id for a in graded]
    answers: defaultdict[int, dict[str, Any]] = defaultdict(dict)

    for chunk in range(0, len(ids), 900):
        for row in db.session.execute(
            select(AttemptAnswer.attempt_id, AttemptAnswer.item, AttemptAnswer.score, AttemptAnswer.response).where(
                AttemptAnswer.attempt_id.in_(ids[chunk : chunk + 900])
            )
        ):
            answers[row.attempt_id][row.item] = row
    ranked = sorted(graded, key=lambda a: a.score or 0)
    n = max(1, int(len(ranked) * UPPER_LOWER_SHARE))
    lower, upper = {a.id for a in ranked[:n]}, {a.id for a in ranked[-n:]}
    stats: dict[int, dict] = {}
    for a in graded:
        for key, item in a.paper["items"].items():
            if not qtypes.get(item["type"]).answerable:  # a case: its parts are counted
                continue
            entry = stats.setdefault(
                item["qid"],
                {
                    "qid": item["qid"],
                    "no": key,
                    "type": item["type"],
                    "stem": item["stem"],
                    "topic": item["topic"],
                    "n": 0,
                    "got": 0.0,
                    "upper": [0.0, 0],
                    "lower": [0.0, 0],
                    "options": Counter(),
                },
            )
            given = answers[a.id].get(key)
            share = float(given.score or 0) / float(item["points"]) if given is not None and item["points"] else 0.0
            entry["n"] += 1
            entry["got"] += share
            for group, ids_ in (("upper", upper), ("lower", lower)):
                if a.id in ids_:
                    entry[group][0] += share
                    entry[group][1] += 1
            if given is not None and isinstance(given.response, str) and item.get("key_map"):
                for letter in given.response:
                    entry["options"][item["key_map"].get(letter, letter)] += 1
            elif given is not None and isinstance(given.response, bool):
                entry["options"]["true" if given.response else "false"] += 1
    out = []
    for entry in stats.values():
        facility = entry["got"] / entry["n"]
        up = entry["upper"][0] / entry["upper"][1] if entry["upper"][1] else 0.0
        low = entry["lower"][0] / entry["lower"][1] if entry["lower"][1] else 0.0
        out.append(
            {
                **entry,
                "facility": facility,
                "discrimination": up - low,
                "options": dict(sorted(entry["options"].items())),
            }
        )
    return sorted(out, key=lambda e: (e["discrimination"], e["facility"]))
