"""The annual white paper (issue 17 point 3, docs/WHITEPAPER.md): every figure is the dashboard's, the
continuing-education page's or the profile page's for the same unit and year; year-on-year sentences; the PDF
(embedded subset font, Chinese text); generation in the background, stored and marked stale; scope.

Data: tests/test_stats.py's data set (year 2025), seen on 20 December 2025, plus real exam results."""
import re
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.exams.models import ExamSubject, RealExamResult
from lms.extensions import db
from lms.learning.models import Credit
from lms.stats.models import WhitePaper
from lms.stats.profile import record_snapshot
from lms.tasks.models import Job
from lms.training.models import Attendance

from .conftest import login, post_form
from .test_stats import _user, build_data, by_unit, page, tables

NOW = datetime(2025, 12, 20, 2, 0)  # 10:00 on 20 December 2025 in Shanghai: 2025 is this year
UNIT_KEYS = ("workers", "pt_city", "pt_district", "pt_street", "person_times", "hours", "hours_per_worker",
             "attempts", "pass_rate")
pdftools = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed: .ci/run installs it")


def _real(user, code, year, passed, status):
    subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == code))
    db.session.add(RealExamResult(user_id=user.id, subject_id=subject.id, exam_year=year, passed=passed,
                                  score=Decimal(70 if passed else 50), status=status))


@pytest.fixture
def data(app, tx, world, clock):
    clock.set(NOW)
    with app.app_context():
        ids = build_data()
        a, b, c, d = (_user(n) for n in ("worker_a", "worker_b", "worker_c", "worker_d"))
        _real(b, "junior-general", 2025, True, "verified")     # D1 (S11): a verified pass
        _real(c, "junior-general", 2025, False, "verified")    # D1 (S12): a verified failure
        _real(d, "junior-general", 2025, True, "pending")      # D2: a claim, counts for nothing
        _real(a, "junior-general", 2024, True, "verified")     # another year
        db.session.commit()
    return ids


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", html))


def _generate(client, unit_id):
    return post_form(client, f"/stats/unit/{unit_id}/whitepaper/generate?year=2025",
                     page=f"/stats/unit/{unit_id}/whitepaper?year=2025")


def _en(client, username):
    client.get("/auth/lang/en")
    login(client, username)


@pytest.mark.parametrize("office, unit", [("office_c", "C"), ("office_d1", "D1")])
def test_every_figure_is_the_dashboards_the_ce_pages_and_the_profiles(client, data, world, office, unit):
    _en(client, office)
    base = f"/stats/unit/{world[unit]}"
    paper = tables(page(client, f"{base}/whitepaper?year=2025"))
    dashboard = by_unit(tables(page(client, f"{base}?year=2025"))["table-units"])
    ce = by_unit(tables(page(client, f"{base}/continuing-education?year=2025&show=all"))["table-ce_units"])
    profile = tables(page(client, f"{base}/profile"))
    rows = by_unit(paper["table-whitepaper_units"])
    assert set(rows) == set(dashboard)  # the total, each unit below, the accounts on the unit itself
    for name, row in rows.items():
        assert {k: row[k] for k in UNIT_KEYS} == {k: dashboard[name][k] for k in UNIT_KEYS}, name
        if name in ce:
            assert (row["reached"], row["reached_rate"]) == (ce[name]["reached"], ce[name]["reached_rate"]), name
        else:
            assert row["reached"] == "0"
        certified = round(float(row["workers"]) * (1 - float(dashboard[name]["cert_none"].rstrip("%")) / 100))
        assert row["certified"] == str(certified), name
    for dimension in ("age", "gender", "education", "political_status", "cert_level", "years_in_work"):
        assert paper[f"table-profile_{dimension}"] == profile[f"table-profile_{dimension}"], dimension
    # the verified real results of 2025 only (the pending claim and 2024's pass count for nothing)
    total = rows[f"Total: {'测试市' if unit == 'C' else '东区'}"]
    assert (total["real_results"], total["real_passed"], total["real_rate"]) == ("2", "1", "50.0%")


def test_the_sentences_carry_the_figures(client, data, world):
    _en(client, "office_c")
    html = page(client, f"/stats/unit/{world['C']}/whitepaper?year=2025")
    text = _text(html)
    assert "attended training 10 times (person-times): 3 at city-level demonstration classes, 5 at district-level" \
           " classes for all and 2 at street-level basic classes" in text
    assert "They earned 25.5 credit hours in the year, 4.3 per worker." in text
    assert "3 workers sat 4 graded mock exams; 2 passed (a pass rate of 50.0%)." in text
    assert "offices have verified 2 (one per worker and subject): 1 passed (50.0%)." in text
    # no snapshot of an earlier year: it says so, and compares nothing
    assert "There is no recorded profile of an earlier year for 测试市" in text
    assert "percentage points" not in text


def test_year_on_year_in_words(app, client, data, world):
    with app.app_context():
        assert record_snapshot(2024) > 0      # at the end of 2024: b assistant, c intermediate (2 of 6)
        _user("worker_a").cert_level = "assistant"  # a certified since: 3 of 6
        db.session.commit()
    _en(client, "office_c")
    text = _text(page(client, f"/stats/unit/{world['C']}/whitepaper?year=2025"))
    assert "The share of certified workers rose from 33.3% at the end of 2024 to 50.0%, up 16.7 percentage points." \
        in text
    assert "The workforce is the same size as at the end of 2024." in text
    assert "The share with a bachelor's degree or higher held steady at 100.0%, the same as at the end of 2024." \
        in text
    # everyone was born in 1990: 34 in 2024, 35 in 2025
    assert "The share under 35 fell from 100.0% at the end of 2024 to 0.0%, down 100.0 percentage points." in text
    client.get("/auth/lang/zh_Hans_CN")
    text = _text(page(client, f"/stats/unit/{world['C']}/whitepaper?year=2025"))
    assert "持证比例提高 16.7 个百分点" in text and "持平" in text


def _pdf_text(tmp_path, data: bytes) -> tuple[str, list[list[str]]]:
    pdf = tmp_path / "whitepaper.pdf"
    pdf.write_bytes(data)
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
                   .stdout.split())
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    return text, [line.split() for line in fonts[2:]]


@pdftools
def test_the_pdf_is_chinese_in_an_embedded_subset_font(client, data, world, tmp_path):
    _en(client, "office_d1")  # the reader's language is English: the white paper itself is Chinese
    r = client.get(f"/stats/unit/{world['D1']}/whitepaper.pdf?year=2025")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:5] == b"%PDF-"
    assert "whitepaper-D1-2025.pdf" in r.headers["Content-Disposition"]
    text, fonts = _pdf_text(tmp_path, r.data)
    assert "东区社区工作者白皮书（2025年）" in text, text[:200]
    assert "市级示范培训2人次" in text and "东一街道" in text and "东二街道" in text
    assert fonts and all(row[-5] == "yes" for row in fonts), fonts   # the "emb" column
    assert any(re.fullmatch(r"[A-Z]{6}\+WenQuanYi[\w-]*", row[0]) for row in fonts), fonts  # a subset (XXXXXX+)


def test_a_large_scope_is_generated_in_the_background_stored_and_marked_stale(app, client, data, world, tmp_path,
                                                                              monkeypatch, clock):
    monkeypatch.setitem(app.config, "WHITEPAPER_BACKGROUND_WORKERS", 3)  # D1 has 4 workers: large
    _en(client, "office_d1")
    url = f"/stats/unit/{world['D1']}/whitepaper?year=2025"
    html = page(client, url)
    assert 'id="wp-none"' in html and 'id="whitepaper"' not in html and 'id="wp-pdf"' not in html
    assert client.get(f"/stats/unit/{world['D1']}/whitepaper.pdf?year=2025").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(WhitePaper)) is None  # opening the page made nothing

    r = _generate(client, world['D1'])
    assert r.status_code == 302 and "/jobs/" in r.location
    job_page = page(client, r.location)
    assert "whitepaper-D1-2025.pdf" in job_page  # the job's download
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "whitepaper"))
        assert job.status == "done" and job.params == {"unit_id": world["D1"], "year": 2025}
        stored = db.session.scalar(select(WhitePaper))
        assert (stored.org_unit_id, stored.year, stored.generated_at) == (world["D1"], 2025, NOW)
    html = page(client, url)
    assert 'id="wp-generated"' in html and "2025-12-20 10:00" in html and 'id="wp-stale"' not in html
    assert by_unit(tables(html)["table-whitepaper_units"])["Total: 东区"]["person_times"] == "8"
    pdf = client.get(f"/stats/unit/{world['D1']}/whitepaper.pdf?year=2025")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    with app.app_context():
        record_snapshot(2025)  # the sweeper's daily snapshot of this year: not what this year's paper rests on
        db.session.commit()
    assert 'id="wp-stale"' not in page(client, url)

    # a record changes: the stored white paper is marked stale, and still shown as generated
    with app.app_context():
        att = db.session.scalar(select(Attendance).where(Attendance.user_id == data["b"],
                                                         Attendance.status == "absent"))
        att.status = "present"
        db.session.add(Credit(user_id=data["b"], source="session", source_id=att.session_id, hours=Decimal("1.5"),
                              earned_on=datetime(2025, 4, 10).date()))
        db.session.commit()
    html = page(client, url)
    assert 'id="wp-stale"' in html
    assert by_unit(tables(html)["table-whitepaper_units"])["Total: 东区"]["person_times"] == "8"  # as generated

    clock.set(datetime(2025, 12, 20, 3, 0))
    r = _generate(client, world['D1'])
    assert r.status_code == 302 and "/jobs/" in r.location
    html = page(client, url)
    assert 'id="wp-stale"' not in html and "2025-12-20 11:00" in html
    assert by_unit(tables(html)["table-whitepaper_units"])["Total: 东区"]["person_times"] == "9"
    with app.app_context():
        assert len(db.session.scalars(select(WhitePaper)).all()) == 1  # replaced, not added

    # a profile corrected alone (no figure of sections 2–5 moves): the structure changed, so stale too
    with app.app_context():
        worker = db.session.get(User, data["b"])
        worker.gender = "female" if worker.gender != "female" else "male"
        db.session.commit()
    assert 'id="wp-stale"' in page(client, url)


def test_a_small_scope_is_made_on_request_and_has_nothing_to_regenerate(app, client, data, world):
    _en(client, "office_d1")
    html = page(client, f"/stats/unit/{world['D1']}/whitepaper?year=2025")
    assert 'id="wp-generated"' in html and 'id="wp-generate"' not in html
    r = _generate(client, world['D1'])
    assert r.status_code == 302 and r.location.endswith("/whitepaper?year=2025")
    with app.app_context():
        assert db.session.scalar(select(Job).where(Job.kind == "whitepaper")) is None


def test_scope_and_bad_input(client, data, world):
    _en(client, "office_d1")
    d2 = world["D2"]
    assert client.get(f"/stats/unit/{d2}/whitepaper?year=2025").status_code == 404
    assert client.get(f"/stats/unit/{d2}/whitepaper.pdf?year=2025").status_code == 404
    assert post_form(client, f"/stats/unit/{d2}/whitepaper/generate?year=2025",
                     page=f"/stats/unit/{world['D1']}/whitepaper").status_code == 404
    assert client.get(f"/stats/unit/{world['C']}/whitepaper").status_code == 404  # above its own unit
    r = client.get(f"/stats/unit/{world['D1']}/whitepaper?year=abc")
    assert r.status_code == 400 and "is not a year" in r.get_data(as_text=True)
    r = client.get(f"/stats/unit/{world['D1']}/whitepaper?year=2026")
    assert r.status_code == 400 and "once that year has begun" in r.get_data(as_text=True)
    html = page(client, f"/stats/unit/{world['D1']}/whitepaper")  # this year by default
    assert "东二街道" in html and "西区" not in html and "西一街道" not in html


def test_a_worker_is_refused(client, data, world):
    login(client, "worker_a")
    assert client.get(f"/stats/unit/{world['D1']}/whitepaper").status_code == 403


def test_an_earlier_year_describes_the_workforce_from_its_snapshot(app, client, data, world, clock):
    with app.app_context():
        record_snapshot(2025)  # as the sweeper leaves it on 31 December 2025
        _user("worker_b").cert_level = "intermediate"  # later, in 2026
        db.session.commit()
    clock.set(datetime(2026, 3, 1, 2, 0))
    _en(client, "office_d1")
    html = page(client, f"/stats/unit/{world['D1']}/whitepaper?year=2025")
    assert "At the end of 2025, 东区 had 4 community workers." in html
    rows = {r["bucket"]: r["count"] for r in tables(html)["table-profile_cert_level"]}
    assert (rows["Assistant social worker"], rows["Social worker"]) == ("1", "1")  # as recorded, not as now
    html = page(client, f"/stats/unit/{world['D1']}/whitepaper?year=2024")
    assert "No profile of the workforce was recorded for 东区 in 2024" in html


def test_the_demo_records_last_years_snapshot_without_changing_anyone(app, client, data, world):
    from lms.auth.models import User
    from lms.stats import whitepaper_demo

    with app.app_context():
        for username in ("worker_a", "worker_d", "worker_e", "trainer"):
            _user(username).cert_level = "assistant"
        db.session.commit()
        before = {u.id: (u.cert_level, u.education) for u in db.session.scalars(select(User))}
        assert "workforce snapshot of 2024" in whitepaper_demo.seed()
        assert whitepaper_demo.seed() == "last year's workforce snapshot already recorded"
        db.session.commit()
        db.session.expire_all()
        assert {u.id: (u.cert_level, u.education) for u in db.session.scalars(select(User))} == before
    _en(client, "office_c")
    text = _text(page(client, f"/stats/unit/{world['C']}/whitepaper?year=2025"))
    assert "The share of certified workers rose from" in text  # some were a level lower last year
