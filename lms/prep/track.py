"""Whether a worker preparing for an exam is on track: one rule, used by the worker's plan and calendar
and by the office's page (docs/EXAM_PREP.md, "On track").

A plan aims to have every topic of the subject mastered (a settled estimate of at least
PREP_TARGET_MASTERY %) by REVIEW_DAYS before the exam, the last days being for review and mock
exams. Topics count by their weight in the exam (the subject's mock exam blueprint, `topic_mix`;
topics it does not name share the rest equally). The worker is on track when the weight mastered is
at least the share of the study period that has passed, less TOLERANCE:
"by today 40 % of the exam's weight should be mastered; 45 % is".

No function here touches `request` or commits.
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..exams import practice
from ..exams.models import Exam, ExamSubject
from ..extensions import db
from . import mastery

REVIEW_DAYS = 14     # the last two weeks before the exam: review and mock exams, no new topics
TOLERANCE = 0.10     # a tenth of the exam's weight behind the line still counts as on track


@dataclass(frozen=True)
class Progress:
    mastered: float    # share of the exam's weight mastered, 0…1
    expected: float    # share that should be mastered by today, 0…1
    on_track: bool


def blueprint_of(subject: ExamSubject) -> Exam | None:
    """The subject's mock exam (the blueprint whose code is the subject's), if active."""
    return db.session.scalar(select(Exam).where(Exam.code == subject.code, Exam.kind == "mock",
                                                Exam.active.is_(True)))


def topic_weights(topics: Sequence[str], topic_mix: Mapping[str, float] | None) -> dict[str, float]:
    """topic → its share of the exam (adding up to 1): the blueprint's shares for the topics it names,
    the rest shared equally by the others."""
    if not topics:
        return {}
    mix = {t: float(share) for t, share in (topic_mix or {}).items() if t in topics and float(share) > 0}
    named = sum(mix.values())
    rest = [t for t in topics if t not in mix]
    left = max(0.0, 1.0 - named)
    weights = {t: mix.get(t, left / len(rest) if rest else 0.0) for t in topics}
    total = sum(weights.values()) or 1.0
    return {t: w / total for t, w in weights.items()}


def subject_weights(subject: ExamSubject, blueprint: Exam | None) -> tuple[list[str], dict[str, float]]:
    """The topics the rule weighs, those practice can draw from in the subject's order, and their weights in
    the exam by `blueprint` (the subject's mock exam, blueprint_of; None: all alike): the plan's and the
    office's one reading of "the subject's topics and what each is worth"."""
    names = practice.topics_by_subject([subject])[subject.id]
    return names, topic_weights(names, blueprint.topic_mix if blueprint else None)


def mastered(estimate: mastery.Estimate | None, params: mastery.Params, target_percent: int) -> bool:
    return (estimate is not None and mastery.settled(estimate.evidence, params)
            and mastery.percent(estimate.theta, params) >= target_percent)


def mastered_share(weights: Mapping[str, float], estimates: Mapping[str, mastery.Estimate],
                   params: mastery.Params, target_percent: int) -> float:
    return sum(w for t, w in weights.items() if mastered(estimates.get(t), params, target_percent))


def expected_share(today: date, start: date, exam_date: date) -> float:
    """The share of the study period (start … REVIEW_DAYS before the exam) that has passed."""
    end = exam_date - timedelta(days=REVIEW_DAYS)
    if today >= end or end <= start:
        return 1.0
    if today <= start:
        return 0.0
    return (today - start).days / (end - start).days


def progress(today: date, start: date, exam_date: date, weights: Mapping[str, float],
             estimates: Mapping[str, mastery.Estimate], params: mastery.Params, target_percent: int) -> Progress:
    have = mastered_share(weights, estimates, params, target_percent)
    want = expected_share(today, start, exam_date)
    return Progress(mastered=have, expected=want, on_track=have >= want - TOLERANCE)
