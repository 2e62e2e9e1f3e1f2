"""What an office sees of the registrants in its area (docs/EXAM_PREP.md, "For offices").

A registrant is a worker with a PrepPlan; the area is an org unit the viewer may see (auth/scope.py), with
everything under it. Per subject: how many registrants, how many on track (track.progress, the one rule),
how many have a readiness (enough evidence) and in which band, the weakest topics across the area (the
registrants' settled estimates, averaged with each weighted by its number of answers), and the registrants
with no graded answer on the subject in PREP_INACTIVE_DAYS days. `methods()` says how, on the page and in
the exports.

Bounded reads: the plans with their workers and units (one query), their topic estimates (one query), and per
subject its blueprint and topic weights as the plan reads them (track.blueprint_of, track.subject_weights: a
query each), the bank's pool (cached) and the calibration (cached). No function here touches `request` or
commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..auth.models import User
from ..auth.scope import in_subtree
from ..exams.models import ExamSubject
from ..extensions import db
from ..orgs.models import OrgUnit
from ..stats.reports import Col, Report, person_columns
from ..util import count_rows, utc_to_local
from . import mastery, readiness, track
from .models import PrepPlan, TopicMastery

# Readiness bands an office reads: the lower bound of each, in %.
BANDS = ((0, 30), (30, 50), (50, 70), (70, 101))


def band_of(probability: float) -> int:
    """The index of the band of a chance 0…1."""
    pct = round(probability * 100)
    return next(i for i, (low, high) in enumerate(BANDS) if low <= pct < high)


@dataclass
class Registrant:
    user_id: int
    name: str
    username: str
    unit: str
    subject_id: int
    exam_date: date
    progress: track.Progress | None
    assessment: readiness.Assessment
    last_answer_at: datetime | None

    def inactive(self, since: datetime) -> bool:
        return self.last_answer_at is None or self.last_answer_at < since


@dataclass
class TopicRow:
    topic: str
    mean: float         # mean mastery (chance of a medium question right), 0…1, weighted by answers
    workers: int        # registrants with a settled estimate on the topic
    answers: int


@dataclass
class SubjectFigures:
    subject: ExamSubject
    registrants: list[Registrant] = field(default_factory=list)
    on_track: int = 0
    with_readiness: int = 0
    bands: list[int] = field(default_factory=lambda: [0] * len(BANDS))
    topics: list[TopicRow] = field(default_factory=list)
    inactive: list[Registrant] = field(default_factory=list)
    calibration: readiness.Calibration = field(default_factory=readiness.Calibration)


def inactive_since(now: datetime | None = None) -> datetime:
    return (now or clock.now()) - timedelta(days=current_app.config["PREP_INACTIVE_DAYS"])


def _plans_in(unit: OrgUnit):
    return (select(PrepPlan.user_id, PrepPlan.subject_id, PrepPlan.exam_date, PrepPlan.created_at,
                   User.name, User.username, OrgUnit.name)
            .join(User, PrepPlan.user_id == User.id).join(OrgUnit, User.org_unit_id == OrgUnit.id)
            .where(in_subtree(OrgUnit.path, unit), User.active.is_(True)))


def count_registrants(unit: OrgUnit) -> int:
    """Rows of the registrants' export: plans of active workers in the area."""
    return count_rows(_plans_in(unit))


def area(unit: OrgUnit, subject_id: int | None = None) -> dict[int, SubjectFigures]:
    """subject id → the figures of the registrants in `unit`'s subtree (the caller has checked the viewer
    may see `unit`). Subjects in their menu order; only subjects with registrants."""
    params, threshold, _minimum = readiness.settings()
    target = current_app.config["PREP_TARGET_MASTERY"]
    today, since = clock.today(), inactive_since()
    plans_stmt = _plans_in(unit)
    if subject_id is not None:
        plans_stmt = plans_stmt.where(PrepPlan.subject_id == subject_id)
    plans = db.session.execute(plans_stmt.order_by(OrgUnit.path, User.username)).all()
    if not plans:
        return {}
    subjects = {s.id: s for s in db.session.scalars(
        select(ExamSubject).where(ExamSubject.id.in_({p[1] for p in plans})).order_by(ExamSubject.position,
                                                                                      ExamSubject.id))}
    users = select(PrepPlan.user_id).join(User, PrepPlan.user_id == User.id).join(
        OrgUnit, User.org_unit_id == OrgUnit.id).where(in_subtree(OrgUnit.path, unit))
    estimates: dict[tuple[int, int], dict[str, mastery.Estimate]] = defaultdict(dict)
    last: dict[tuple[int, int], datetime] = {}
    for row in db.session.execute(select(TopicMastery.user_id, TopicMastery.subject_id, TopicMastery.topic,
                                         TopicMastery.theta, TopicMastery.evidence, TopicMastery.information,
                                         TopicMastery.last_answer_at)
                                  .where(TopicMastery.user_id.in_(users),
                                         TopicMastery.subject_id.in_(list(subjects)))):
        key = (row.user_id, row.subject_id)
        estimates[key][row.topic] = mastery.Estimate(row.theta, row.evidence, row.information)
        if key not in last or row.last_answer_at > last[key]:
            last[key] = row.last_answer_at
    out: dict[int, SubjectFigures] = {sid: SubjectFigures(s) for sid, s in subjects.items()}
    context: dict[int, tuple] = {}
    for sid, subject in subjects.items():
        exam = track.blueprint_of(subject)
        paper = readiness.paper_of(exam) if exam is not None else None
        calibration = readiness.calibration_for(exam, paper) if exam is not None and paper is not None \
            else readiness.Calibration()
        _names, weights = track.subject_weights(subject, exam)
        context[sid] = (paper, calibration, weights)
        out[sid].calibration = calibration
    for user_id, sid, exam_date, created_at, name, username, unit_name in plans:
        paper, calibration, weights = context[sid]
        est = estimates.get((user_id, sid), {})
        progress = track.progress(today, utc_to_local(created_at).date(), exam_date, weights, est, params, target) \
            if weights else None
        assessment = readiness.judge(paper, est, calibration, params, threshold)
        reg = Registrant(user_id, name, username, unit_name, sid, exam_date, progress, assessment,
                         last.get((user_id, sid)))
        figures = out[sid]
        figures.registrants.append(reg)
        figures.on_track += bool(progress and progress.on_track)
        if assessment.readiness is not None:
            figures.with_readiness += 1
            figures.bands[band_of(assessment.readiness.probability)] += 1
        if reg.inactive(since):
            figures.inactive.append(reg)
    for sid, figures in out.items():
        figures.topics = weakest_topics((estimates.get((r.user_id, sid), {}) for r in figures.registrants), params)
    return out


def weakest_topics(per_worker, params: mastery.Params) -> list[TopicRow]:
    """Topics by mean mastery across workers, weakest first: each worker's settled estimate counts with its
    number of answers as weight (unsettled estimates are left out)."""
    total: dict[str, float] = defaultdict(float)
    answers: dict[str, int] = defaultdict(int)
    workers: dict[str, int] = defaultdict(int)
    for est in per_worker:
        for topic, e in est.items():
            if not mastery.settled(e.evidence, params):
                continue
            total[topic] += e.evidence * mastery.expected(e.theta, params.logits[1])
            answers[topic] += e.evidence
            workers[topic] += 1
    rows = [TopicRow(t, total[t] / answers[t], workers[t], answers[t]) for t in answers]
    rows.sort(key=lambda r: (r.mean, -r.workers, r.topic))
    return rows


# --- how the figures are worked out: one text for the page and the exports' "About" sheet -------------

@dataclass(frozen=True)
class Method:
    key: str
    title: str
    text: str


def who_counts() -> str:
    return _("Registrants are the active workers in this area who have set a plan for a subject. Every figure is "
             "per subject and comes from each worker’s own graded answers to objective questions: practice, reviews "
             "of the mistakes book, mock exams, exam days and course quizzes.")


def methods() -> list[Method]:
    """How each figure of the page is worked out, in words an office can repeat to a worker (docs/EXAM_PREP.md
    says the same at length). Every number in them is the setting's or the rule's own value."""
    c = current_app.config
    evidence, target = c["PREP_MIN_EVIDENCE"], c["PREP_TARGET_MASTERY"]
    return [
        Method("mastery", _("Mastery"), _(
            "Each worker has a rating on each topic. A right answer moves it up and a wrong one down, more when the "
            "answer is a surprise (a hard question answered right, an easy one answered wrong); recent answers count "
            "more than old ones. Mastery is the chance, by that rating, of answering a medium question on the topic "
            "right. An estimate is settled once it rests on %(n)d answers or more; before that it is only a first "
            "impression.", n=evidence)),
        Method("on_track", _("On track"), _(
            "A topic is mastered when its estimate is settled and its mastery is at least %(target)d%%. Each topic "
            "weighs its share of the subject’s mock exam. The plan aims to have every topic mastered %(days)d days "
            "before the exam: from the day the worker made the plan to that day, the share of the exam’s weight "
            "that should be mastered grows evenly from none to all. A worker is on track when the share mastered is "
            "at most %(points)d percentage points below the share that should be mastered by today. The worker’s "
            "plan page uses the same rule.", target=target, days=track.REVIEW_DAYS,
            points=round(track.TOLERANCE * 100))),
        Method("chance", _("Chance of passing"), _(
            "From the worker’s mastery of each topic, the platform works out the expected score on the subject’s "
            "full mock exam and how far luck on the day and the uncertainty of the estimates may move it; the chance "
            "of passing is the chance of reaching the pass line. It is worked out only when the topics with settled "
            "estimates carry at least %(coverage)d%% of the exam’s points; the other registrants count as “%(none)s”. "
            "It is then checked against real results: for every full mock exam a worker sat, the chance the "
            "platform would have given just before is set against whether they passed. From %(pairs)d such results "
            "on, the chances are corrected to match how often workers given a similar chance went on to pass; until "
            "then the uncorrected figure is shown; the page says which under the table of subjects. It is the "
            "chance of passing the mock exam, the closest evidence there is of the national exam.",
            coverage=c["PREP_READINESS_COVERAGE"], none=_("not enough evidence"), pairs=c["PREP_CALIBRATION_MIN"])),
        Method("topics", _("Weakest topics"), _(
            "For each topic, the average mastery of the registrants whose estimate on it is settled, each counted "
            "as many times as the questions they answered on it, so that a worker with many answers weighs more "
            "than one with few. Registrants with fewer than %(n)d answers on a topic are left out of its average. "
            "The table says how many registrants and answers each average rests on.", n=evidence)),
        Method("inactive", _("Not practising"), _(
            "Registrants with no graded answer on the subject in the last %(days)d days (practice, review, mock "
            "exam, exam day or course quiz), and those who have never answered one. Reading lessons without "
            "answering questions does not count as practice.", days=c["PREP_INACTIVE_DAYS"])),
    ]


def about(unit: OrgUnit) -> list[list[str]]:
    """The "About" sheet of an export: the area, the day, and how its figures are worked out."""
    return [[_("Org unit"), unit.name], [_("As of"), clock.today().isoformat()], [_("Registrants"), who_counts()],
            *([m.title, m.text] for m in methods())]


# --- the tables: one definition for the page and its export -------------------------------------------

def band_labels() -> list[str]:
    return [_("under %(high)d%%", high=BANDS[0][1])] + [
        _("%(low)d–%(high)d%%", low=low, high=high) for low, high in BANDS[1:-1]] + [
        _("%(low)d%% or more", low=BANDS[-1][0])]


def subjects_report(figures: dict[int, SubjectFigures]) -> Report:
    labels = band_labels()
    report = Report("subjects", _l("Registrants by subject"), [
        Col("subject", _l("Subject"), "text", 24), Col("registrants", _l("Registrants"), "int", 9),
        Col("on_track", _l("On track"), "int", 9), Col("on_track_rate", _l("Share on track"), "pct", 9),
        Col("with_readiness", _l("With enough evidence for a readiness"), "int", 12)]
        + [Col(f"band_{i}", _l("Chance of passing %(band)s", band=label), "int", 10) for i, label in enumerate(labels)]
        + [Col("inactive", _l("No practice in %(days)d days", days=current_app.config["PREP_INACTIVE_DAYS"]),
               "int", 11)])
    for f in figures.values():
        n = len(f.registrants)
        report.add([f.subject.name, n, f.on_track, f.on_track / n if n else None, f.with_readiness, *f.bands,
                    len(f.inactive)])
    return report


def topics_report(f: SubjectFigures, params: mastery.Params) -> Report:
    report = Report("topics", _l("Weakest topics: %(subject)s", subject=f.subject.name), [
        Col("topic", _l("Topic"), "text", 24), Col("mastery", _l("Mean mastery"), "pct", 10),
        Col("workers", _l("Registrants with a settled estimate"), "int", 12),
        Col("answers", _l("Answers behind it"), "int", 10)])
    for row in f.topics:
        report.add([row.topic, row.mean, row.workers, row.answers])
    return report


def _last(reg: Registrant) -> str:
    return f"{utc_to_local(reg.last_answer_at):%Y-%m-%d}" if reg.last_answer_at else _("never")


def inactive_report(f: SubjectFigures) -> Report:
    report = Report("inactive", _l("Registrants who have not practised for %(days)d days: %(subject)s",
                                   days=current_app.config["PREP_INACTIVE_DAYS"], subject=f.subject.name),
                    person_columns() + [Col("last", _l("Last answer"), "text", 12),
                                        Col("exam_date", _l("Exam date"), "text", 12)])
    for reg in f.inactive:
        report.add([reg.name, reg.username, reg.unit, _last(reg), reg.exam_date.isoformat()])
    return report


def readiness_text(a: readiness.Assessment) -> str:
    r = a.readiness
    if r is None:
        return _("not enough evidence")
    return _("%(p)d%% (%(low)d%%–%(high)d%%)", p=r.percent, low=r.low_percent, high=r.high_percent)


def registrants_report(figures: dict[int, SubjectFigures]) -> Report:
    """One row per registrant and subject: what every figure of the page is counted from."""
    report = Report("registrants", _l("Registrants"), person_columns() + [
        Col("subject", _l("Subject"), "text", 24),
        Col("exam_date", _l("Exam date"), "text", 12), Col("on_track", _l("On track"), "text", 8),
        Col("mastered", _l("Exam weight mastered"), "pct", 10), Col("expected", _l("Expected by today"), "pct", 10),
        Col("readiness", _l("Chance of passing"), "pct", 10), Col("low", _l("Low end"), "pct", 9),
        Col("high", _l("High end"), "pct", 9), Col("evidence", _l("Readiness"), "text", 16),
        Col("last", _l("Last answer"), "text", 12)])
    for f in figures.values():
        for reg in f.registrants:
            p, r = reg.progress, reg.assessment.readiness
            report.add([reg.name, reg.username, reg.unit, f.subject.name, reg.exam_date.isoformat(),
                        (_("yes") if p.on_track else _("no")) if p else "—", p.mastered if p else None,
                        p.expected if p else None, r.probability if r else None, r.low if r else None,
                        r.high if r else None, readiness_text(reg.assessment), _last(reg)])
    return report
