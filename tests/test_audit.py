"""The audit trail: every change an office or admin makes is recorded, old → new, within scope."""
import csv
import io

from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.extensions import db

from .conftest import login, post_form


def entries(app, **where):
    with app.app_context():
        stmt = select(AuditEntry)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return [(e.actor_name, e.action, e.entity, e.changes) for e in db.session.scalars(stmt.order_by(AuditEntry.id))]


def test_an_office_edit_of_a_worker_is_recorded(app, client, world):
    login(client, "office_d1")
    r = post_form(
        client,
        f"/accounts/{world['worker_a']}/edit",
        {
            "name": "东一一甲（改）",
            "org_unit_id": world["C111"],
            "roles": "learner",
            "cert_level": "assistant",
            "active": "y",
        },
    )
    assert r.status_code == 302
    rows = entries(app, entity="user", entity_id=str(world["worker_a"]))
    assert len(rows) == 1
    actor, action, _entity, changes = rows[0]
    assert (actor, action) == ("东区培训办", "update")
    assert changes["name"] == ["东一一甲", "东一一甲（改）"] and changes["cert_level"] == ["none", "assistant"]


def test_secrets_are_masked_and_learner_changes_are_not_audited(app, client, world):
    login(client, "office_d1")
    post_form(client, f"/accounts/{world['worker_a']}/reset-password", page=f"/accounts/{world['worker_a']}")
    rows = entries(app, entity="user", entity_id=str(world["worker_a"]))
    assert rows and rows[-1][3]["password_hash"] == ["***", "***"]
    worker = app.test_client()
    login(worker, "worker_b")
    post_form(worker, "/auth/password", {"current": "Passw0rd", "new": "Better2026", "confirm": "Better2026"})
    assert entries(app, entity="user", entity_id=str(world["worker_b"])) == []


def test_admins_browse_and_export_offices_see_only_their_area(app, client, world):
    office = app.test_client()
    login(office, "office_d2")
    post_form(office, f"/accounts/{world['worker_d']}/edit", {"name": "西一一丁（改）", "org_unit_id": world["C211"],
                                                              "roles": "learner", "cert_level": "none", "active": "y"})
    login(client, "admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert "西一一丁（改）" in page
    exported = client.get("/audit/export.csv").data.decode("utf-8-sig")
    assert any("西一一丁（改）" in ",".join(row) for row in csv.reader(io.StringIO(exported)))
    d1 = app.test_client()
    login(d1, "office_d1")
    assert "西一一丁（改）" not in d1.get("/audit/").get_data(as_text=True)
    learner = app.test_client()
    login(learner, "worker_a")
    assert learner.get("/audit/").status_code == 403
