"""The task queue (issue 15, point 2): jobs enqueued only after their transaction commits, retried and
then recorded as failed for an admin to see and retry; periodic work done once; exports above the
threshold made in the background and downloadable by their requester alone. The domain runs in Huey's
immediate mode on both databases; real consumers (`flask worker` subprocesses) run jobs end to end on
Huey's SQLite storage and on a real redis-server."""
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms import create_app
from lms.extensions import db
from lms.tasks import jobs, periodic
from lms.tasks.models import Job
from lms.transaction import after_commit, unit

from . import world as world_module
from .conftest import login, post_form

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")

# Kinds of job for these tests: a probe that records its runs, one that fails until an attempt number.
RUNS: list[int] = []


@jobs.kind("test_probe")
def _probe(job, progress):
    RUNS.append(job.id)


@jobs.kind("test_flaky")
def _flaky(job, progress):
    if job.attempts < job.params["succeed_at"]:
        raise RuntimeError(f"attempt {job.attempts} failed on purpose")


@pytest.fixture
def retries(app):
    saved = app.config["JOB_RETRIES"]
    app.config["JOB_RETRIES"] = 2
    yield 2
    app.config["JOB_RETRIES"] = saved


# --- after commit ---------------------------------------------------------------------------------

def test_after_commit_runs_once_committed_and_never_after_a_rollback(ctx):
    seen = []
    with unit():
        after_commit(lambda: seen.append("committed"))
        assert seen == []
    assert seen == ["committed"]
    with pytest.raises(RuntimeError), unit():
        after_commit(lambda: seen.append("rolled back"))
        raise RuntimeError("boom")
    with unit():  # nothing left over from the rolled-back one
        pass
    assert seen == ["committed"]


def test_a_job_reaches_the_queue_only_when_its_row_is_committed(ctx):
    RUNS.clear()
    with unit():
        job = jobs.start("test_probe")
        assert job.status == "queued" and RUNS == []  # flushed, not yet handed to the queue
    assert RUNS == [job.id]
    db.session.refresh(job)
    assert (job.status, job.attempts, job.error) == ("done", 1, None)
    assert job.started_at is not None and job.finished_at is not None

    with pytest.raises(RuntimeError), unit():
        jobs.start("test_probe")
        raise RuntimeError("the request failed")
    assert RUNS == [job.id]  # the rolled-back job never ran


# --- retries and the failure record -------------------------------------------------------------------

def test_a_failing_job_is_retried_then_recorded_as_failed_with_its_error(ctx, retries):
    with unit():
        job = jobs.start("test_flaky", {"succeed_at": 99})
    db.session.refresh(job)
    assert job.status == "failed"
    assert job.attempts == retries + 1
    assert "RuntimeError: attempt 3 failed on purpose" in job.error
    assert "_flaky" in job.error  # where it happened
    assert job.finished_at is not None


def test_a_job_that_fails_once_succeeds_on_its_retry(ctx, retries):
    with unit():
        job = jobs.start("test_flaky", {"succeed_at": 2})
    db.session.refresh(job)
    assert (job.status, job.attempts, job.error) == ("done", 2, None)


# --- the admin's page ----------------------------------------------------------------------------------

def _job(**values) -> Job:
    job = Job(**values)
    db.session.add(job)
    db.session.flush()
    return job


def test_the_admin_sees_failed_jobs_first_with_their_error_and_retries_one(client, world, app, clock):
    with app.app_context():
        done = _job(kind="test_probe", status="done", attempts=1, created_at=datetime(2026, 6, 15, 1, 0))
        failed = _job(kind="test_flaky", params={"succeed_at": 4}, status="failed", attempts=3,
                      error="RuntimeError: attempt 3 failed on purpose\n\ntraceback", created_at=datetime(2026, 6, 14))
        db.session.commit()
        done_id, failed_id = done.id, failed.id
    office = app.test_client()
    login(office, "office_d1")
    assert office.get("/jobs/").status_code == 403  # admins only
    login(client, "admin")
    html = client.get("/jobs/").get_data(as_text=True)
    assert html.index(f'id="job-{failed_id}"') < html.index(f'id="job-{done_id}"')  # failed first, though older
    assert "attempt 3 failed on purpose" in html
    assert f'id="retry-{failed_id}"' in html and f'id="retry-{done_id}"' not in html
    assert "失败" in html  # in Chinese by default

    r = post_form(client, f"/jobs/{failed_id}/retry", page="/jobs/")
    assert r.status_code == 302
    with app.app_context():
        job = db.session.get(Job, failed_id)
        assert (job.status, job.attempts, job.error) == ("done", 4, None)  # the fourth attempt succeeded
    r = post_form(client, f"/jobs/{done_id}/retry", page="/jobs/", follow_redirects=True)
    assert "没有可重试" in r.get_data(as_text=True)


# --- periodic work ---------------------------------------------------------------------------------------

def test_periodic_work_is_due_at_its_minute(app):
    app.config["SWEEP_MINUTES"] = 5
    try:
        assert periodic.sweep_due(app, datetime(2026, 6, 15, 2, 10))
        assert not periodic.sweep_due(app, datetime(2026, 6, 15, 2, 11))
        app.config["SWEEP_MINUTES"] = 0
        assert not periodic.sweep_due(app, datetime(2026, 6, 15, 2, 10))
    finally:
        app.config["SWEEP_MINUTES"] = 1
    assert periodic.snapshot_due(app, datetime(2026, 6, 15, 2, 5))
    assert not periodic.backup_due(app, datetime(2026, 6, 14, 18, 30))  # no BACKUP_FOLDER: no backup
    app.config["BACKUP_FOLDER"] = "/nonexistent"
    try:
        assert periodic.backup_due(app, datetime(2026, 6, 14, 18, 30))  # 02:30 in Shanghai
        assert not periodic.backup_due(app, datetime(2026, 6, 14, 18, 29))  # 02:29 there: not yet
        assert not periodic.backup_due(app, datetime(2026, 6, 14, 16, 0))  # midnight there: a new day, not yet
        assert periodic.backup_due(app, datetime(2026, 6, 15, 2, 30))  # 10:30 there: still due until it is made
    finally:
        app.config["BACKUP_FOLDER"] = None


def test_the_nightly_backup_is_made_once_when_two_consumers_ask(ctx, app, clock, tmp_path):
    app.config["BACKUP_FOLDER"] = str(tmp_path)
    try:
        assert periodic.start_backup() is True
        assert periodic.start_backup() is False  # the other host's consumer, the same minute
    finally:
        app.config["BACKUP_FOLDER"] = None
    backups = db.session.scalars(select(Job).where(Job.kind == "backup")).all()
    assert len(backups) == 1
    job = backups[0]
    assert job.status == "done", job.error
    assert job.key == "backup:2026-06-15"
    assert Path(job.result_path).is_file() and Path(job.result_path).parent == tmp_path


def test_the_sweep_task_grades_and_marks_as_the_command_does(ctx):
    periodic.sweep.call_local()  # the periodic task's body, in the app's context (finds nothing to do here)


# --- background exports ---------------------------------------------------------------------------------

@pytest.fixture
def threshold(app):
    saved = app.config["EXPORT_BACKGROUND_ROWS"]
    app.config["EXPORT_BACKGROUND_ROWS"] = 3
    yield 3
    app.config["EXPORT_BACKGROUND_ROWS"] = saved


def _sheet(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))


@pytest.mark.parametrize("url", ["/accounts/export.xlsx", "/stats/unit/{city}/export/workers.xlsx"])
def test_a_large_export_runs_in_the_background_for_its_requester_alone(client, app, world, threshold, url):
    url = url.format(city=world["C"])
    login(client, "admin")
    app.config["EXPORT_BACKGROUND_ROWS"] = 10_000
    inline = client.get(url)
    assert inline.status_code == 200 and len(_sheet(inline.data)) > threshold + 1
    app.config["EXPORT_BACKGROUND_ROWS"] = threshold

    r = client.get(url)
    assert r.status_code == 302 and "/jobs/k/" in r.headers["Location"]
    r = client.get(r.headers["Location"])
    assert r.status_code == 302
    page_url = r.headers["Location"]
    job_id = int(page_url.rstrip("/").rsplit("/", 1)[1])
    html = client.get(page_url).get_data(as_text=True)
    assert f'href="/jobs/{job_id}/download"' in html
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done" and status["percent"] == 100
    file = client.get(f"/jobs/{job_id}/download")
    assert file.status_code == 200
    assert file.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _sheet(file.data) == _sheet(inline.data)  # the same file the request would have made

    other = app.test_client()
    login(other, "office_c")  # the city's office sees every row of it: still not theirs
    for path in (page_url, f"/jobs/{job_id}.json", f"/jobs/{job_id}/download"):
        assert other.get(path).status_code == 404


def test_a_background_export_is_scoped_as_the_export_itself(client, app, world, threshold):
    login(client, "office_d1")
    r = client.get("/accounts/export.csv", follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        job = db.session.scalars(select(Job).where(Job.kind == "export").order_by(Job.id.desc())).first()
        assert job.user_id == world["office_d1"] and job.status == "done", job.error
        text = Path(job.result_path).read_text(encoding="utf-8-sig")
    usernames = {line.split(",")[0] for line in text.strip().splitlines()[1:]}
    assert usernames == {"office_d1", "office_s11", "worker_a", "worker_b", "worker_c"}  # 东区 only


# --- real consumers -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """Debian's redis-server on a free port, in a temporary folder, without persistence."""

    def __init__(self):
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="lms-redis-")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)  # a real server starting up
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis_server():
    if not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server")):
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing (apt-get install redis-server)")
        pytest.skip("no redis-server on this machine")
    server = RedisServer().start()
    yield server
    server.stop()


def _wait_for(app, job_ids: list[int], proc: subprocess.Popen, seconds: float = 90) -> dict[int, Job]:
    """Poll the database until the consumer has ended every job (a real process: real time passes)."""
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            found = {j.id: j for j in db.session.scalars(select(Job).where(Job.id.in_(job_ids)))}
            for j in found.values():
                db.session.expunge(j)
        if all(j.status in ("done", "failed") for j in found.values()):
            return found
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "the worker exited"
        assert time.monotonic() < deadline, {j.id: (j.status, j.attempts, j.error) for j in found.values()}
        time.sleep(0.2)


@pytest.fixture
def restore_queue():
    """A consumer test's app becomes the process's consumer app; put the one before back."""
    from lms import tasks

    saved = tasks._app
    yield
    tasks._app = saved


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_a_real_consumer_runs_jobs_end_to_end(tmp_path, request, storage, restore_queue):
    setting = f"sqlite:{tmp_path / 'tasks.sqlite3'}"
    if storage == "redis":
        setting = f"redis://127.0.0.1:{request.getfixturevalue('redis_server').port}/0"
    url = f"sqlite:///{tmp_path / 'lms.sqlite3'}"
    env = {**os.environ, "LMS_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url,
           "TASK_QUEUE": setting, "JOBS_FOLDER": str(tmp_path / "jobs"), "JOB_RETRIES": "1",
           "JOB_RETRY_DELAY": "0", "SWEEP_MINUTES": "0", "EXPORT_BACKGROUND_ROWS": "2"}
    subprocess.run([FLASK, "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    config = {key: env[key] for key in ("TASK_QUEUE", "JOBS_FOLDER")}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JOB_RETRIES": 1, "JOB_RETRY_DELAY": 0, **config})
    proc = None
    try:
        with app.app_context():
            world_module.build()
            db.session.commit()
            with unit():
                export = jobs.start("export", {"url": "/accounts/export.xlsx", "rows": len(world_module.USERS)},
                                    world_module.IDS["admin"])
                broken = jobs.start("export", {"url": "/accounts/no-such-page", "rows": 1}, world_module.IDS["admin"])
            ids = [export.id, broken.id]
        proc = subprocess.Popen([FLASK, "--app", "wsgi", "worker", "--workers", "2", "--no-periodic",
                                 "--max-delay", "0.5"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        found = _wait_for(app, ids, proc)
        done, failed = found[ids[0]], found[ids[1]]
        assert done.status == "done", done.error
        assert done.attempts == 1 and done.done == done.total == len(world_module.USERS)
        rows = _sheet(Path(done.result_path).read_bytes())
        assert len(rows) == 1 + len(world_module.USERS)
        assert failed.status == "failed" and failed.attempts == 2  # tried, retried once, then given up
        assert "answered 404" in failed.error
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_progress_page_polls_its_json_and_refreshes_itself_without_scripts(client, app, world):
    with app.app_context():
        job = _job(kind="export", status="running", attempts=1, done=2500, total=10000, user_id=world["office_d1"])
        db.session.commit()
        job_id = job.id
    login(client, "office_d1")
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert 'style="width: 25%"' in html and "已处理 2500 / 10000 行" in html
    assert f'data-status-url="/jobs/{job_id}.json"' in html and "/static/js/job.js" in html
    assert f"/jobs/{job_id}/download" not in html
    assert client.get(f"/jobs/{job_id}.json").get_json() == {
        "status": "running", "done": 2500, "total": 10000, "percent": 25, "download": None}
    assert client.get(f"/jobs/{job_id}/download").status_code == 404  # not ready
