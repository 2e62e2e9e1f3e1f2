"""Readiness: the chance that a worker reaches the pass line of the subject's full mock exam, with its
uncertainty, calibrated against the mock exams workers actually sat (docs/EXAM_PREP.md, "Readiness").

The model, in three steps:
1. The paper (`paper_model`): the subject's mock exam blueprint (track.blueprint_of) as blocks of items,
   one per section and topic: how many items of the topic the section draws (its topic mix; topics it does
   not name share the rest, as assembly.quotas does), their points, and the difficulty mix (the blueprint's,
   or when it names none, the difficulties of the questions the bank holds on that topic). Only papers of
   objective questions (single, multiple choice, true/false) are modelled: a paper with cases or essays,
   marked by hand, has no readiness.
2. The score (`score`): each item is right with the chance mastery.expected(theta, b) of its topic's
   estimate and its difficulty; a multiple choice counts as right or wrong with that chance (its partial
   credit makes the real spread a little narrower: the calibration absorbs it). The expected score is the
   sum over the items; its variance has two parts: the paper's luck (the sum of the items' variances) and
   the estimates' own uncertainty (each topic's standard error, never below the Elo rating's own noise,
   carried through the slope of the expected score). The normal approximation gives P(score ≥ pass line).
   The range shown is where that chance lies when the worker's true mastery is anywhere within the
   estimates' 80 % band (the expected score moved 1.28 standard errors down and up).
3. The calibration (`fit`): for every graded full mock attempt, the chance the model gave just before it
   started (the worker's graded answers replayed up to its start, mastery.replay) against whether it
   passed; from PREP_CALIBRATION_MIN such pairs a Platt scaling, P' = σ(a · logit P + b), is fitted by
   maximum likelihood with a weak prior around a = 1, b = 0, and applied to the chance and its range.
   With fewer pairs the model's own chance is shown, marked "not yet calibrated". Making it reads the whole
   history (seconds at city scale), so it is kept in the database (prep_calibration, per blueprint and
   settings): pages read the stored one, the periodic work (lms/tasks/periodic.py) makes it again every
   PREP_CALIBRATION_MAX_AGE minutes, and a page finding none made for the current settings makes it once.

Never without enough evidence (`enough`): the topics with a settled estimate (mastery.settled) must carry at
least PREP_READINESS_COVERAGE % of the paper's points; otherwise the reason and the topics still missing.

No function here touches `request` or commits.
"""
from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import utcnow
from ..exams import assembly
from ..exams.models import Attempt, Exam, ExamSubject
from ..extensions import db
from . import mastery, track
from .models import GradedAnswer, PrepCalibration

OBJECTIVE = ("single", "multiple", "judge")
Z80 = 1.2815515655446004      # the 80 % band of a normal: ±1.28 standard deviations
PRIOR_SD = 1.0                 # the calibration's prior: a ~ N(1, 1), b ~ N(0, 1)


# --- 1. the paper ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """The items of one topic in one section: `count` of them (the expected number), worth `points` each,
    of difficulty 1, 2, 3 with the shares `mix`."""
    topic: str
    count: float
    points: float
    mix: tuple[float, float, float]


@dataclass(frozen=True)
class Paper:
    blocks: tuple[Block, ...]
    pass_score: float
    total: float
    step: float                      # the smallest step of a score (0.5 with partial credit)

    @property
    def weights(self) -> dict[str, float]:
        """topic → its share of the paper's points."""
        out: dict[str, float] = defaultdict(float)
        for b in self.blocks:
            out[b.topic] += b.count * b.points / (self.total or 1.0)
        return dict(out)


def _shares(keys: Sequence[str], mix: Mapping | None) -> dict[str, float]:
    return track.topic_weights(list(keys), {str(k): float(v) for k, v in (mix or {}).items()})


def paper_model(sections: Sequence[dict], topic_mix: Mapping | None, difficulty_mix: Mapping | None,
                pass_score: float, candidates: Iterable[dict]) -> Paper | None:
    """The blueprint as blocks (see the module's doc); None for a paper that is not all objective or a
    section the bank has no question for."""
    pool = list(candidates)
    blocks: list[Block] = []
    total, step = 0.0, 1.0
    for section in sections:
        if section["type"] not in OBJECTIVE:
            return None
        fitting = [q for q in pool if q["type"] == section["type"] and assembly.fits(q, section)]
        topics = sorted({q["topic"] for q in fitting})
        if not topics:
            return None
        count, points = int(section["count"]), float(section["points"])
        total += count * points
        if section.get("partial_points"):
            step = min(step, float(section["partial_points"]))
        step = min(step, points)
        topic_share = _shares(topics, topic_mix)
        fixed = _shares(["1", "2", "3"], difficulty_mix) if difficulty_mix else None
        for topic in topics:
            if topic_share[topic] <= 0:
                continue
            if fixed is not None:
                mix = (fixed["1"], fixed["2"], fixed["3"])
            else:
                held = [min(max(int(q["difficulty"] or 2), 1), 3) for q in fitting if q["topic"] == topic]
                mix = (held.count(1) / len(held), held.count(2) / len(held), held.count(3) / len(held))
            blocks.append(Block(topic, count * topic_share[topic], points, mix))
    if not blocks:
        return None
    return Paper(tuple(blocks), float(pass_score), total, step)


def paper_of(exam: Exam) -> Paper | None:
    """The paper of a blueprint, from the bank's questions as assembly draws them (its cached pool)."""
    return paper_model(exam.sections, exam.topic_mix, exam.difficulty_mix, float(exam.pass_score),
                       assembly.candidates_for(exam))


# --- 2. the score and the chance ------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    mean: float
    var_paper: float       # the luck of the paper: items right or wrong at their chance
    var_estimate: float    # the estimates' uncertainty


def rating_noise(params: mastery.Params) -> float:
    """The standard error an Elo rating never falls below: with the floor step K_MIN its estimate keeps
    moving around the true ability by about sqrt(K_MIN / (2 − K_MIN/4)) logits (at p = ½)."""
    return math.sqrt(params.k_min / (2.0 - params.k_min / 4.0))


def theta_error(estimate: mastery.Estimate, params: mastery.Params) -> float:
    return max(mastery.standard_error(estimate.information), rating_noise(params))


def score(paper: Paper, estimates: Mapping[str, mastery.Estimate], params: mastery.Params) -> Score:
    """The score's expectation and variance on a paper drawn by the blueprint (see the module's doc)."""
    mean = var_paper = 0.0
    slope: dict[str, float] = defaultdict(float)
    for block in paper.blocks:
        theta = estimates[block.topic].theta if block.topic in estimates else 0.0
        right = sum(share * mastery.expected(theta, params.logits[d]) for d, share in enumerate(block.mix))
        bend = sum(share * mastery.expected(theta, params.logits[d]) * (1 - mastery.expected(theta, params.logits[d]))
                   for d, share in enumerate(block.mix))
        mean += block.count * block.points * right
        var_paper += block.count * block.points ** 2 * right * (1.0 - right)
        slope[block.topic] += block.count * block.points * bend
    var_estimate = sum((s * theta_error(estimates.get(t) or mastery.Estimate(), params)) ** 2
                       for t, s in slope.items())
    return Score(mean, var_paper, var_estimate)


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def chance(s: Score, paper: Paper) -> tuple[float, float, float]:
    """P(score ≥ pass line), and the low and high ends of its 80 % range (before calibration)."""
    line = paper.pass_score - paper.step / 2.0       # scores move in steps: a continuity correction
    luck = math.sqrt(max(s.var_paper, 1e-9))
    both = math.sqrt(max(s.var_paper + s.var_estimate, 1e-9))
    unsure = math.sqrt(max(s.var_estimate, 0.0))
    return (_phi((s.mean - line) / both), _phi((s.mean - Z80 * unsure - line) / luck),
            _phi((s.mean + Z80 * unsure - line) / luck))


# --- 3. the calibration ---------------------------------------------------------------------------

def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    predicted: float     # the mean chance given
    observed: float      # the share that passed


@dataclass(frozen=True)
class Calibration:
    a: float = 1.0
    b: float = 0.0
    pairs: int = 0
    fitted: bool = False
    bins: tuple[Bin, ...] = ()
    error: float | None = None          # expected calibration error over the pairs, after the map
    computed_at: datetime | None = None

    def apply(self, p: float) -> float:
        return _sigmoid(self.a * _logit(p) + self.b) if self.fitted else p


def platt(pairs: Sequence[tuple[float, bool]]) -> tuple[float, float]:
    """a, b maximising the likelihood of σ(a · logit p + b) for the outcomes, with the prior's weight
    (a ~ N(1, PRIOR_SD), b ~ N(0, PRIOR_SD)): Newton's method on two parameters."""
    xs = [_logit(p) for p, _y in pairs]
    ys = [1.0 if y else 0.0 for _p, y in pairs]
    a, b = 1.0, 0.0
    ridge = 1.0 / PRIOR_SD ** 2
    for _step in range(50):
        ga, gb = -ridge * (a - 1.0), -ridge * b
        haa = hab = hbb = -ridge
        for x, y in zip(xs, ys, strict=True):
            q = _sigmoid(a * x + b)
            ga += (y - q) * x
            gb += y - q
            w = q * (1 - q)
            haa -= w * x * x
            hab -= w * x
            hbb -= w
        det = haa * hbb - hab * hab
        if det == 0:
            break
        da = (hbb * ga - hab * gb) / det
        db_ = (haa * gb - hab * ga) / det
        largest = max(abs(da), abs(db_))
        if largest > 1.0:          # a damped step: the likelihood is flat far from the optimum
            da, db_ = da / largest, db_ / largest
        a, b = a - da, b - db_
        if abs(da) + abs(db_) < 1e-9:
            break
    return a, b


def reliability(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> tuple[Bin, ...]:
    """The pairs by chance given, in `bins` equal-width bins: how many, the mean chance, the share passed."""
    groups: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, y in pairs:
        groups[min(int(p * bins), bins - 1)].append((p, y))
    return tuple(Bin(i / bins, (i + 1) / bins, len(g), sum(p for p, _y in g) / len(g),
                     sum(1 for _p, y in g if y) / len(g)) for i, g in enumerate(groups) if g)


def calibration_error(table: Sequence[Bin]) -> float | None:
    """The expected calibration error: the gap between chance given and share passed, weighted by the bins."""
    n = sum(b.count for b in table)
    return sum(b.count * abs(b.predicted - b.observed) for b in table) / n if n else None


def fit(pairs: Sequence[tuple[float, bool]], minimum: int, now: datetime | None = None) -> Calibration:
    """The calibration from (model's chance, passed) pairs: Platt scaling from `minimum` pairs on."""
    if len(pairs) < minimum or not pairs:
        table = reliability(pairs, 5)
        return Calibration(pairs=len(pairs), bins=table, error=calibration_error(table), computed_at=now)
    a, b = platt(pairs)
    mapped = [(_sigmoid(a * _logit(p) + b), y) for p, y in pairs]
    table = reliability(mapped, 5)
    return Calibration(a, b, len(pairs), True, table, calibration_error(table), now)


# --- enough evidence --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    topic: str
    weight: float      # share of the paper's points
    evidence: int      # answers so far
    needed: int        # answers still needed to settle it


def coverage(paper: Paper, estimates: Mapping[str, mastery.Estimate], params: mastery.Params
             ) -> tuple[float, list[Missing]]:
    """The share of the paper's points whose topic is settled, and the unsettled topics, heaviest first."""
    covered, missing = 0.0, []
    for topic, weight in paper.weights.items():
        est = estimates.get(topic)
        n = est.evidence if est else 0
        if mastery.settled(n, params):
            covered += weight
        else:
            missing.append(Missing(topic, weight, n, params.min_evidence - n))
    missing.sort(key=lambda m: (-m.weight, m.topic))
    return covered, missing


def enough(covered: float, threshold_percent: int) -> bool:
    return covered * 100 >= threshold_percent - 1e-9


# --- one worker ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Readiness:
    probability: float        # calibrated (when the calibration is fitted), 0…1
    low: float
    high: float
    calibrated: bool
    pairs: int                # the mock results the calibration rests on
    expected_score: float
    pass_score: float
    total: float
    coverage: float           # share of the paper's points with a settled estimate
    answers: int              # graded answers behind the estimates of the paper's topics
    settled_topics: int
    topics: int

    @property
    def percent(self) -> int:
        return round(self.probability * 100)

    @property
    def low_percent(self) -> int:
        return round(self.low * 100)

    @property
    def high_percent(self) -> int:
        return round(self.high * 100)


@dataclass(frozen=True)
class Assessment:
    """A worker's readiness for a subject, or why there is none (`reason`, and the topics `missing`)."""
    readiness: Readiness | None
    reason: str | None = None
    missing: tuple[Missing, ...] = ()
    coverage: float = 0.0
    threshold: int = 80


def settings() -> tuple[mastery.Params, int, int]:
    c = current_app.config
    return mastery.Params.from_config(), c["PREP_READINESS_COVERAGE"], c["PREP_CALIBRATION_MIN"]


def judge(paper: Paper | None, estimates: Mapping[str, mastery.Estimate], calibration: Calibration,
          params: mastery.Params, threshold: int) -> Assessment:
    """The readiness (or why not) from a paper, the worker's estimates and the subject's calibration."""
    if paper is None:
        return Assessment(None, _("This exam is not made of objective questions only (or the question bank cannot "
                                  "make its paper yet), so no chance of passing is estimated."), threshold=threshold)
    covered, missing = coverage(paper, estimates, params)
    if not enough(covered, threshold):
        return Assessment(None, _("Not enough evidence yet: the topics with settled estimates carry %(have)d%% of the "
                                  "exam's points, and %(want)d%% is needed.", have=math.floor(covered * 100),
                                  want=threshold), tuple(missing), covered, threshold)
    s = score(paper, estimates, params)
    p, low, high = chance(s, paper)
    weights = paper.weights
    return Assessment(Readiness(
        probability=calibration.apply(p), low=calibration.apply(low), high=calibration.apply(high),
        calibrated=calibration.fitted, pairs=calibration.pairs, expected_score=s.mean, pass_score=paper.pass_score,
        total=paper.total, coverage=covered,
        answers=sum(estimates[t].evidence for t in weights if t in estimates),
        settled_topics=sum(1 for t in weights if t in estimates and mastery.settled(estimates[t].evidence, params)),
        topics=len(weights)), None, tuple(missing), covered, threshold)


def estimates_of(rows: Iterable) -> dict[str, mastery.Estimate]:
    """topic → Estimate from TopicMastery rows (or rows with topic, theta, evidence, information)."""
    return {r.topic: mastery.Estimate(r.theta, r.evidence, r.information) for r in rows}


def assess(user_id: int, subject: ExamSubject) -> Assessment:
    """The worker's readiness for `subject` now, or why there is none."""
    params, threshold, _minimum = settings()
    exam = track.blueprint_of(subject)
    if exam is None:
        return Assessment(None, _("This subject has no active mock exam to measure readiness against."),
                          threshold=threshold)
    paper = paper_of(exam)
    if paper is None:
        return judge(None, {}, Calibration(), params, threshold)
    return judge(paper, estimates_of(mastery.of_user(user_id, subject.id).values()), calibration_for(exam, paper),
                 params, threshold)


def for_worker(user_id: int, subject: ExamSubject) -> Readiness | None:
    """The worker's readiness, or None (assess() says why)."""
    return assess(user_id, subject).readiness


# --- the calibration from the mock exams sat -----------------------------------------------------------

def history_pairs(exam: Exam, paper: Paper, params: mastery.Params, threshold: int) -> list[tuple[float, bool]]:
    """(the model's chance just before the attempt started, passed) for every graded full mock attempt of the
    blueprint whose worker had enough evidence then: two queries, the workers' logs streamed in order."""
    attempts = db.session.execute(
        select(Attempt.user_id, Attempt.started_at, Attempt.passed)
        .where(Attempt.exam_id == exam.id, Attempt.status == "graded", Attempt.passed.is_not(None))
        .order_by(Attempt.user_id, Attempt.started_at)).all()
    by_user: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for user_id, started_at, passed in attempts:
        by_user[user_id].append((started_at, bool(passed)))
    if not by_user:
        return []
    pairs: list[tuple[float, bool]] = []
    rows = db.session.execute(
        select(GradedAnswer.user_id, GradedAnswer.topic, GradedAnswer.difficulty, GradedAnswer.credit,
               GradedAnswer.answered_at)
        .where(GradedAnswer.subject_id == exam.subject_id, GradedAnswer.user_id.in_(list(by_user)))
        .order_by(GradedAnswer.user_id, GradedAnswer.id)).yield_per(5000)
    current: int | None = None
    estimates: dict[str, mastery.Estimate] = {}
    queue: list[tuple[datetime, bool]] = []

    def close(upto: datetime | None) -> None:
        while queue and (upto is None or queue[0][0] <= upto):
            _at, passed = queue.pop(0)
            covered, _missing = coverage(paper, estimates, params)
            if enough(covered, threshold):
                pairs.append((chance(score(paper, estimates, params), paper)[0], passed))

    for user_id, topic, difficulty, credit, answered_at in rows:
        if user_id != current:
            if current is not None:
                close(None)
            current, estimates, queue = user_id, {}, list(by_user[user_id])
        close(answered_at)   # the attempts that started before this answer see the estimates so far
        estimates[topic] = mastery.step(estimates.get(topic, mastery.Estimate()), difficulty, credit, params)
    if current is not None:
        close(None)
    return pairs


# --- the calibration kept in the database ---------------------------------------------------------------
# Making a calibration replays every graded answer of the workers who sat the mock exam (seconds at city
# scale): pages read the stored one (one query), the periodic work makes it again off the request path.

def settings_key(params: mastery.Params, threshold: int, minimum: int) -> str:
    """The settings a calibration depends on, as the string it is stored under: the mastery model's (the replay),
    the evidence needed (which pairs count) and the pairs needed (whether it is fitted)."""
    logits = ",".join(repr(float(x)) for x in params.logits)
    return (f"k={params.k!r};decay={params.k_decay!r};kmin={params.k_min!r};logits={logits};"
            f"evidence={params.min_evidence};coverage={threshold};pairs={minimum}")


def current_key() -> str:
    return settings_key(*settings())


def stored(exam_id: int, key: str) -> Calibration | None:
    """The calibration stored for the blueprint under these settings, or None: one query."""
    c = PrepCalibration
    row = db.session.execute(select(c.a, c.b, c.pairs, c.fitted, c.bins, c.error, c.computed_at)
                             .where(c.exam_id == exam_id, c.settings_key == key)).first()
    if row is None:
        return None
    return Calibration(row.a, row.b, row.pairs, row.fitted, tuple(Bin(*b) for b in row.bins), row.error,
                       row.computed_at)


def keep(exam_id: int, key: str, calibration: Calibration) -> None:
    """Store the calibration (in place of the one stored under the same settings): one statement, safe when
    another process stores the same at the same moment."""
    values = {"a": calibration.a, "b": calibration.b, "fitted": calibration.fitted, "pairs": calibration.pairs,
              "error": calibration.error, "computed_at": calibration.computed_at or utcnow(),
              "bins": [[b.low, b.high, b.count, b.predicted, b.observed] for b in calibration.bins]}
    row, unique = {"exam_id": exam_id, "settings_key": key, **values}, ["exam_id", "settings_key"]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(pg_insert(PrepCalibration).values(**row)
                           .on_conflict_do_update(index_elements=unique, set_=values))
    else:
        db.session.execute(sqlite_insert(PrepCalibration).values(**row)
                           .on_conflict_do_update(index_elements=unique, set_=values))


def make(exam: Exam, paper: Paper, now: datetime | None = None) -> Calibration:
    """The calibration from the mock exams graded so far (history_pairs: the long read), not stored."""
    params, threshold, minimum = settings()
    return fit(history_pairs(exam, paper, params, threshold), minimum, now or utcnow())


_MADE: dict[tuple, Calibration] = {}
_MADE_LOCK = threading.Lock()


def calibration_for(exam: Exam, paper: Paper, now: datetime | None = None) -> Calibration:
    """The subject's calibration as stored for the current settings (one query). When none is stored yet (a fresh
    install, new settings), it is made now: a command or a task stores it in its transaction; a request (a GET
    never writes) keeps it in this process for PREP_CALIBRATION_MAX_AGE minutes (60 when 0), until the periodic
    work (lms/tasks/periodic.py, every minute for a missing one) has stored it."""
    key = current_key()
    kept = stored(exam.id, key)
    if kept is not None:
        return kept
    now = now or utcnow()
    if not has_request_context():
        made = make(exam, paper, now)
        keep(exam.id, key, made)
        return made
    memo = (str(db.session.get_bind().engine.url), exam.id, key)
    found = _MADE.get(memo)
    max_age = timedelta(minutes=current_app.config["PREP_CALIBRATION_MAX_AGE"] or 60)
    if found is not None and found.computed_at is not None and timedelta(0) <= now - found.computed_at < max_age:
        return found
    made = make(exam, paper, now)
    with _MADE_LOCK:
        if len(_MADE) >= 256:
            _MADE.clear()
        _MADE[memo] = made
    return made


def blueprints() -> list[Exam]:
    """Every subject's blueprint (track.blueprint_of: the active mock exam whose code is its subject's) whose paper
    is objective questions only (the others have no readiness): one query."""
    exams = db.session.scalars(select(Exam).join(ExamSubject, Exam.subject_id == ExamSubject.id)
                               .where(Exam.code == ExamSubject.code, Exam.kind == "mock", Exam.active.is_(True))
                               .order_by(Exam.id)).all()
    return [e for e in exams if e.sections and all(s["type"] in OBJECTIVE for s in e.sections)]


def made_again(older_than: timedelta | None = None, now: datetime | None = None) -> list[tuple[int, Calibration]]:
    """(exam id, calibration) made again from the mock exams sat, for every blueprint whose stored calibration
    (under the current settings) is missing or at least `older_than` old (None: every blueprint). Reads only:
    the caller stores them with keep(), in a short write of its own (lms/tasks/periodic.py)."""
    now = now or utcnow()
    key = current_key()
    exams = blueprints()
    if older_than is not None and exams:
        fresh = set(db.session.scalars(select(PrepCalibration.exam_id).where(
            PrepCalibration.settings_key == key, PrepCalibration.computed_at > now - older_than,
            PrepCalibration.exam_id.in_([e.id for e in exams]))))
        exams = [e for e in exams if e.id not in fresh]
    out: list[tuple[int, Calibration]] = []
    for exam in exams:
        paper = paper_of(exam)
        if paper is not None:
            out.append((exam.id, make(exam, paper, now)))
    return out


def refresh(older_than: timedelta | None = None, now: datetime | None = None) -> int:
    """Make again and store the calibrations (made_again, then keep) in the caller's transaction (`flask
    prep-rebuild`); returns how many were made."""
    made = made_again(older_than, now)
    key = current_key()
    for exam_id, calibration in made:
        keep(exam_id, key, calibration)
    return len(made)


def forget_calibrations() -> None:
    """Delete every stored calibration: the next page (or the periodic work) makes them again (after a change of
    the bank or the blueprint that must show at once; tests), and what this process made for its pages."""
    db.session.execute(delete(PrepCalibration))
    with _MADE_LOCK:
        _MADE.clear()
