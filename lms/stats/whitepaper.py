"""The annual white paper (《社区工作者白皮书》) of a unit's subtree for a year (docs/WHITEPAPER.md).

Every figure is read from the functions the statistics pages use, never computed a second way:
- the workforce's structure from profile.profile() (this year: the workers now, compared with the latest
  earlier snapshot) or, for an earlier year, from that year's snapshot (as it stood at the year's end);
- 人次 by training level, 学时, mock exam figures, workers and certificate levels from queries.dashboard()
  (the dashboard's table: the unit's total and one row per unit directly below it);
- 学时 against the annual target from ce.summary() (the continuing-education page);
- real exam pass rates from the verified results (`real_results`, the one function for them).

`basis()` collects the figures (all rollups-backed, the workforce structure included since the profile reads
stats_profile_rollup) and `version()` fingerprints them: a stored white paper whose version differs is marked
stale. `content()` adds the version: plain JSON (keys, numbers), stored as it is and rendered in the reader's
language (HTML) or in Chinese (the PDF).
Small scopes are made on request; above WHITEPAPER_BACKGROUND_WORKERS workers a job ("whitepaper") makes
and stores them (`generate`). Plain functions: they flush, never commit.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..auth.models import User
from ..auth.scope import can_see_unit
from ..errors import DomainError
from ..exams.models import RealExamResult
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..orgs.models import OrgUnit
from ..tasks import jobs
from ..tasks.models import Job
from ..training.models import TRAINING_LEVELS as LEVEL_LABELS
from . import ce, charts, profile, queries, reports
from .models import WhitePaper, WorkforceSnapshot
from .queries import Figures, Filters, Population, rate

CERTIFIED = ("assistant", "intermediate", "senior")
DEGREE = ("bachelor", "postgraduate")
YOUNG = ("under_25", "25_34")
JOB_KIND = "whitepaper"
PENDING = ("queued", "running")


class WhitePaperError(DomainError):
    """A white paper that cannot be made; the message is for the user."""


# --- the figures ---------------------------------------------------------------------------------------

def real_results(viewer: User, unit: OrgUnit, year: int, by: str = "child") -> dict[int, tuple[int, int]]:
    """key → (results, passed): the verified real-exam results of `year` (one per worker and subject) of the
    workers of the subtree, by the unit below `unit` holding them (by="child") or in total (by="unit").
    Pending and rejected results count for nothing (DESIGN.md §4)."""
    pop = Population(viewer, unit, by=by)
    stmt = (pop.select(func.count().label("results"),
                       func.count().filter(RealExamResult.passed.is_(True)).label("passed"))
            .join(RealExamResult, RealExamResult.user_id == User.id)
            .where(RealExamResult.exam_year == year, RealExamResult.status == "verified"))
    return {key: (int(row["results"] or 0), int(row["passed"] or 0))
            for key, row in pop.aggregate(stmt, ["results", "passed"]).items()}


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _row(name: str, key: int, direct: bool, f: Figures, c: ce.CeFigures, real: tuple[int, int]) -> dict[str, Any]:
    certified = sum(f.cert[level] for level in CERTIFIED)
    return {
        "key": key, "name": name, "direct": direct,
        "workers": f.workers, "cert": dict(f.cert), "certified": certified,
        "certified_share": rate(certified, f.workers),
        "attended": dict(f.attended), "person_times": f.person_times, "attendance_rate": f.attendance_rate,
        "hours": _num(f.hours), "hours_per_worker": _num(f.hours_per_worker),
        "ce_workers": c.workers, "ce_reached": c.reached, "ce_rate": c.reached_rate, "ce_average": _num(c.average),
        "attempts": f.attempts, "takers": f.exam_takers, "passed": f.passed, "pass_rate": f.pass_rate,
        "participation": f.participation,
        "real_results": real[0], "real_passed": real[1], "real_rate": rate(real[1], real[0]),
    }


def _snapshot_meta(unit: OrgUnit, year: int) -> list:
    """When the snapshots the structure rests on were taken (each is rewritten daily during its year): this
    year's white paper compares the workers now with the latest earlier snapshot (this year's own, rewritten
    every day, is not used); an earlier year's describes that year's snapshot, compared with the one before."""
    used = WorkforceSnapshot.year < year if year >= clock.this_year() else WorkforceSnapshot.year <= year
    rows = db.session.execute(
        select(WorkforceSnapshot.year, func.max(WorkforceSnapshot.taken_at))
        .where(WorkforceSnapshot.org_unit_id == unit.id, used)
        .group_by(WorkforceSnapshot.year).order_by(WorkforceSnapshot.year.desc()).limit(2)).all()
    return [[y, taken.isoformat() if taken else None] for y, taken in rows]


def basis(viewer: User, unit: OrgUnit, year: int) -> dict[str, Any]:
    """The figures read from the rollups-backed functions (cheap at any scale): the total and one row per unit
    directly below `unit` (as on the dashboard), 学时 against the target, real exam results."""
    target = current_app.config["ANNUAL_CREDIT_HOURS_TARGET"]
    dash = queries.dashboard(viewer, unit, Filters.for_year(year))
    ces = ce.summary(viewer, unit, year, target)
    real = real_results(viewer, unit, year)
    ce_total, real_total = ce.CeFigures(), [0, 0]
    for c in ces.values():
        ce_total.add(c)
    for n, passed in real.values():
        real_total[0] += n
        real_total[1] += passed
    rows = [_row(r.unit.name, r.unit.id, r.direct, r.figures, ces.get(r.unit.id, ce.CeFigures()),
                 real.get(r.unit.id, (0, 0))) for r in dash.rows]
    return {
        "unit": {"id": unit.id, "name": unit.name, "code": unit.code, "level": unit.level},
        "year": year, "target": target,
        "total": _row(unit.name, unit.id, False, dash.total, ce_total, (real_total[0], real_total[1])),
        "rows": rows,
        "snapshots": _snapshot_meta(unit, year),
        "structure": _structure(viewer, unit, year),
    }


def version(data: dict[str, Any]) -> str:
    """The fingerprint of a basis: a stored white paper is stale once the figures it rests on differ."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _structure(viewer: User, unit: OrgUnit, year: int) -> dict[str, Any]:
    """The workforce's structure: this year's from profile() (the workers now), an earlier year's from its
    snapshot (what profile() showed at that year's end), each compared with the latest earlier snapshot."""
    prof: profile.Profile | None
    if year >= clock.this_year():
        prof = profile.profile(viewer, unit, year)
        source = "now"
    else:
        prof = _snapshot_profile(unit, year)
        source = "snapshot" if prof is not None else "none"
    if prof is None:
        return {"source": "none", "workers": None, "compared_year": None, "dimensions": {}}
    return {
        "source": source, "workers": prof.workers, "compared_year": prof.compared_year,
        "dimensions": {dim: [{"key": b.key, "count": b.count, "share": b.share, "before": b.before,
                              "before_share": b.before_share} for b in buckets]
                       for dim, buckets in prof.dimensions.items()},
    }


def _snapshot_profile(unit: OrgUnit, year: int) -> profile.Profile | None:
    """profile.Profile of a year's snapshot, compared with the latest snapshot before it (None: no snapshot)."""
    now = profile.snapshot_counts(unit, year)
    return profile.compare(unit, year, now) if now else None


def content(viewer: User, unit: OrgUnit, year: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the white paper shows (plain JSON), with the version of the data it rests on."""
    data = data if data is not None else basis(viewer, unit, year)
    return {**data, "version": version(data)}


# --- where a white paper comes from: made now, stored, or being made ---------------------------------------

def background_workers() -> int:
    return int(current_app.config["WHITEPAPER_BACKGROUND_WORKERS"])


@dataclass
class Shown:
    """What the page shows: `paper` (content) made now (`live`) or stored (then maybe `stale`), the job making
    one, if any."""
    paper: dict[str, Any] | None
    live: bool
    generated_at: datetime | None = None
    stale: bool = False
    job: Job | None = None


def stored(unit: OrgUnit, year: int) -> WhitePaper | None:
    return db.session.scalar(select(WhitePaper).where(WhitePaper.org_unit_id == unit.id, WhitePaper.year == year))


def _key_prefix(unit: OrgUnit, year: int) -> str:
    return f"{JOB_KIND}:{unit.id}:{year}:"


def pending_job(unit: OrgUnit, year: int) -> Job | None:
    return db.session.scalar(select(Job).where(Job.key.like(_key_prefix(unit, year) + "%"), Job.status.in_(PENDING))
                             .order_by(Job.id.desc()).limit(1))


def current(viewer: User, unit: OrgUnit, year: int) -> Shown:
    """The white paper to show: made now for a small scope; for a large one the stored one (stale when the
    figures it rests on have changed since), and the job making a new one, if any."""
    data = basis(viewer, unit, year)
    if data["total"]["workers"] <= background_workers():
        return Shown(content(viewer, unit, year, data), live=True, generated_at=clock.now())
    row = stored(unit, year)
    job = pending_job(unit, year)
    if row is None:
        return Shown(None, live=False, job=job)
    return Shown(row.content, live=False, generated_at=row.generated_at, stale=row.version != version(data), job=job)


def is_large(viewer: User, unit: OrgUnit, year: int) -> bool:
    workers = queries.dashboard(viewer, unit, Filters.for_year(year)).total.workers
    return workers > background_workers()


def request_generation(viewer: User, unit: OrgUnit, year: int, token: str) -> Job | None:
    """Queue the job making (again) the unit's white paper of `year`; None when one is already queued or running
    (that one is returned by pending_job)."""
    if pending_job(unit, year) is not None:
        return None
    return jobs.start(JOB_KIND, {"unit_id": unit.id, "year": year}, viewer.id, key=_key_prefix(unit, year) + token)


def generate(viewer: User, unit: OrgUnit, year: int) -> WhitePaper:
    """Make the white paper and its PDF now, and store them (replacing the one stored before)."""
    from .whitepaper_pdf import render_pdf

    paper = content(viewer, unit, year)
    pdf = render_pdf(paper)
    row = stored(unit, year)
    if row is None:
        row = WhitePaper(org_unit_id=unit.id, year=year)
        db.session.add(row)
    row.version, row.content, row.pdf = paper["version"], paper, pdf
    row.generated_at, row.generated_by_id = clock.now(), viewer.id
    db.session.flush()
    return row


def pdf_name(paper: dict[str, Any]) -> str:
    return f"whitepaper-{paper['unit']['code']}-{paper['year']}.pdf"


@jobs.kind(JOB_KIND)
def whitepaper_job(job: Job, progress: jobs.Progress) -> jobs.Result:
    """Make and store a white paper for the requester (their scope as it is when the job runs); its PDF is
    also the job's download."""
    user = db.session.get(User, job.user_id) if job.user_id else None
    unit = db.session.get(OrgUnit, job.params.get("unit_id"))
    if user is None or not user.active or not can_see_unit(user, unit):
        raise WhitePaperError("the account that asked for this white paper may no longer see its unit")
    assert unit is not None  # can_see_unit(…, None) is False
    row = generate(user, unit, int(job.params["year"]))
    folder = jobs.jobs_dir() / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / pdf_name(row.content)
    path.write_bytes(row.pdf)
    return jobs.Result(path=path, name=path.name)


# --- the words ---------------------------------------------------------------------------------------------

def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _points(now: float | None, before: float | None) -> float | None:
    if now is None or before is None:
        return None
    return round((now - before) * 100, 1)


def _share_sentence(label: str, now: float | None, before: float | None, year: int) -> str:
    points = _points(now, before)
    if points is None:
        return ""
    if points > 0:
        return _("%(what)s rose from %(before)s at the end of %(year)d to %(now)s, up %(points).1f percentage points.",
                 what=label, before=pct(before), now=pct(now), points=points, year=year)
    if points < 0:
        return _("%(what)s fell from %(before)s at the end of %(year)d to %(now)s, down %(points).1f percentage "
                 "points.", what=label, before=pct(before), now=pct(now), points=-points, year=year)
    return _("%(what)s held steady at %(now)s, the same as at the end of %(year)d.", what=label, now=pct(now),
             year=year)


def _group_share(buckets: list[dict[str, Any]], keys: tuple[str, ...], workers: int,
                 before_total: int | None) -> tuple[float | None, float | None]:
    now = rate(sum(b["count"] for b in buckets if b["key"] in keys), workers)
    if before_total is None:
        return now, None
    return now, rate(sum(b["before"] or 0 for b in buckets if b["key"] in keys), before_total)


def structure_sentences(paper: dict[str, Any]) -> list[str]:
    """The workforce and its year-on-year change, in sentences (the reader's language)."""
    s, name, year = paper["structure"], paper["unit"]["name"], paper["year"]
    if s["source"] == "none":
        return [_("No profile of the workforce was recorded for %(unit)s in %(year)d, so this white paper cannot "
                  "describe its structure for that year.", unit=name, year=year)]
    dims, workers = s["dimensions"], s["workers"]
    out = []
    if s["source"] == "now":
        out.append(_("%(unit)s has %(n)s community workers (active accounts with the community-worker role) as "
                     "this white paper is made.", unit=name, n=f"{workers:,}"))
    else:
        out.append(_("At the end of %(year)d, %(unit)s had %(n)s community workers.", unit=name, year=year,
                     n=f"{workers:,}"))
    certified, _before = _group_share(dims["cert_level"], CERTIFIED, workers, None)
    degree, _before = _group_share(dims["education"], DEGREE, workers, None)
    young, _before = _group_share(dims["age"], YOUNG, workers, None)
    party, _before = _group_share(dims["political_status"], ("cpc_member", "cpc_probationary"), workers, None)
    out.append(_("%(certified)s hold a social-work certificate; %(degree)s have a bachelor's degree or higher; "
                 "%(young)s are under 35; %(party)s are members or probationary members of the CPC.",
                 certified=pct(certified), degree=pct(degree), young=pct(young), party=pct(party)))
    compared = s["compared_year"]
    if compared is None:
        out.append(_("There is no recorded profile of an earlier year for %(unit)s: this white paper makes no "
                     "year-on-year comparison.", unit=name))
        return out
    before_total = sum(b["before"] or 0 for b in dims["gender"])
    change = workers - before_total
    if change > 0:
        out.append(_("The workforce grew by %(n)s from %(before)s at the end of %(year)d.", n=f"{change:,}",
                     before=f"{before_total:,}", year=compared))
    elif change < 0:
        out.append(_("The workforce shrank by %(n)s from %(before)s at the end of %(year)d.", n=f"{-change:,}",
                     before=f"{before_total:,}", year=compared))
    else:
        out.append(_("The workforce is the same size as at the end of %(year)d.", year=compared))
    for label, dim, keys in ((_("The share of certified workers"), "cert_level", CERTIFIED),
                             (_("The share with a bachelor's degree or higher"), "education", DEGREE),
                             (_("The share under 35"), "age", YOUNG)):
        now, before = _group_share(dims[dim], keys, workers, before_total)
        out.append(_share_sentence(label, now, before, compared))
    return [line for line in out if line]


def activity_sentences(paper: dict[str, Any]) -> dict[str, list[str]]:
    """Training, 学时 and exams, in sentences (the reader's language)."""
    t, name, year = paper["total"], paper["unit"]["name"], paper["year"]
    training = [_("In %(year)d the community workers of %(unit)s attended training %(n)s times (person-times): "
                  "%(city)s at city-level demonstration classes, %(district)s at district-level classes for all and "
                  "%(street)s at street-level basic classes.", year=year, unit=name, n=f"{t['person_times']:,}",
                  city=f"{t['attended']['city']:,}", district=f"{t['attended']['district']:,}",
                  street=f"{t['attended']['street']:,}")]
    if t["attendance_rate"] is not None:
        training.append(_("Of those expected at a session, %(rate)s came (present or late).",
                          rate=pct(t["attendance_rate"])))
    hours = [_("They earned %(hours)s credit hours in the year, %(per)s per worker.",
               hours=f"{Decimal(t['hours']):,.1f}",
               per=t["hours_per_worker"] or "—"),
             _("Against the annual target of %(target)s credit hours, %(reached)s of %(workers)s workers reached it "
               "(%(rate)s); the average was %(average)s credit hours.", target=f"{paper['target']:g}",
               reached=f"{t['ce_reached']:,}", workers=f"{t['ce_workers']:,}", rate=pct(t["ce_rate"]),
               average=t["ce_average"] or "—")]
    exams = []
    if t["attempts"]:
        exams.append(_("%(takers)s workers sat %(attempts)s graded mock exams; %(passed)s passed (a pass rate of "
                       "%(rate)s).", takers=f"{t['takers']:,}", attempts=f"{t['attempts']:,}",
                       passed=f"{t['passed']:,}", rate=pct(t["pass_rate"])))
    else:
        exams.append(_("No mock exam was graded in %(year)d.", year=year))
    if t["real_results"]:
        exams.append(_("Of the results of the national social-worker exam of %(year)d, offices have verified "
                       "%(n)s (one per worker and subject): %(passed)s passed (%(rate)s).", year=year,
                       n=f"{t['real_results']:,}", passed=f"{t['real_passed']:,}", rate=pct(t["real_rate"])))
    else:
        exams.append(_("No verified result of the national exam of %(year)d has been recorded yet.", year=year))
    units = [_("The table compares the %(n)d units directly below %(unit)s with the same figures.",
               n=len([r for r in paper["rows"] if not r["direct"]]), unit=name)] if paper["rows"] else []
    return {"training": training, "hours": hours, "exams": exams, "units": units}


def labels(dimension: str) -> dict[str, str]:
    return {k: str(v) for k, v in profile.bucket_labels(dimension).items()}


# --- the page's tables and charts (the reader's language) --------------------------------------------------

def _profile_of(structure: dict[str, Any], year: int) -> profile.Profile:
    """The stored structure as a profile.Profile, so that its tables are the profile page's (reports.py)."""
    prof = profile.Profile(year=year, workers=structure["workers"] or 0, compared_year=structure["compared_year"])
    for dim, buckets in structure["dimensions"].items():
        names = labels(dim)
        prof.dimensions[dim] = [profile.Bucket(b["key"], names.get(b["key"], b["key"]), b["count"], b["share"],
                                               b["before"], b["before_share"]) for b in buckets]
    return prof


def units_report(paper: dict[str, Any]) -> reports.Report:
    """The comparison table: the total, then each unit directly below, with the columns (and keys) of the
    dashboard's and the continuing-education page's tables, plus the certified share and real exam results."""
    Col = reports.Col
    cols = [Col("unit", _l("Org unit"), "text", 22), Col("workers", _l("Workers"), "int", 9),
            Col("certified", _l("Certified workers"), "int", 9),
            Col("certified_share", _l("Certified share"), "pct", 9)]
    cols += [Col(f"pt_{level}", _l("Person-times: %(level)s", level=label), "int", 10)
             for level, label in LEVEL_LABELS.items()]
    cols += [Col("person_times", _l("Person-times"), "int", 10), Col("hours", _l("Credit hours"), "dec", 11),
             Col("hours_per_worker", _l("Credit hours per worker"), "dec", 10),
             Col("reached", _l("Reached the target"), "int", 10), Col("reached_rate", _l("Share reached"), "pct", 10),
             Col("attempts", _l("Graded attempts"), "int", 9), Col("pass_rate", _l("Pass rate"), "pct", 9),
             Col("real_results", _l("Real exam results verified"), "int", 10),
             Col("real_passed", _l("Real exam passes"), "int", 9),
             Col("real_rate", _l("Real exam pass rate"), "pct", 9)]
    report = reports.Report("whitepaper_units", _l("The units below"), cols)
    for r in [paper["total"]] + paper["rows"]:
        if r is paper["total"]:
            name, css = _("Total: %(unit)s", unit=r["name"]), "table-secondary fw-semibold"
        else:
            name = _("Attached directly to %(unit)s", unit=r["name"]) if r["direct"] else r["name"]
            css = ""
        report.add([name, r["workers"], r["certified"], r["certified_share"]]
                   + [r["attended"][level] for level in LEVEL_LABELS]
                   + [r["person_times"], r["hours"], r["hours_per_worker"], r["ce_reached"], r["ce_rate"],
                      r["attempts"], r["pass_rate"], r["real_results"], r["real_passed"], r["real_rate"]], None, css)
    return report


def page_parts(paper: dict[str, Any]) -> dict[str, Any]:
    """The sentences, tables and SVG charts of the page, from the stored (or just made) content."""
    s = paper["structure"]
    prof = _profile_of(s, paper["year"])
    tables = reports.profile_reports(prof) if s["dimensions"] else []
    dim_charts = {}
    for table in tables:
        dim = table.name.removeprefix("profile_")
        dim_charts[dim] = charts.percent_bars_svg(
            f"wp-chart-{dim}", str(table.title),
            [charts.Bar(str(row[0]), round((row[2] or 0) * 100, 1)) for row in table.rows])
    below = [r for r in paper["rows"] if not r["direct"]]
    levels_chart = charts.stacked_bars_svg(
        "wp-chart-levels", _("Person-times by training level"),
        [(r["name"], [r["attended"][level] for level in LEVEL_LABELS]) for r in below],
        [str(label) for label in LEVEL_LABELS.values()]) if below else None
    ce_chart = charts.percent_bars_svg(
        "wp-chart-ce", _("Share reaching the annual target"),
        [charts.Bar(r["name"], round((r["ce_rate"] or 0) * 100, 1)) for r in below]) if below else None
    return {"structure_lines": structure_sentences(paper), "words": activity_sentences(paper),
            "dimension_tables": tables, "dimension_charts": dim_charts, "units_table": units_report(paper),
            "levels_chart": levels_chart, "ce_chart": ce_chart, "note": note()}


def note() -> str:
    return _("Person-times count attendance marked present or late; credit hours are those of the year’s ledger; the "
             "target is the annual target of continuing education; real exam results count once verified by an "
             "office. The workers and their certificates are as they stand now.")
