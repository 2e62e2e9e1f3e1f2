"""The calendar feed: a per-user secret address serving the sessions of the classes the user is registered
for, parsed back with icalendar and compared with the sessions; a new address kills the old; a wrong one is 404."""
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from lms.extensions import db
from lms.messages.models import MessageAccount
from lms.training import rules
from lms.training.models import TrainingSession

from .conftest import login, post_form
from .test_training import make_training

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _user(username):
    from lms.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))


def feed_address(client) -> str:
    r = post_form(client, "/messages/settings/feed", page="/messages/settings")
    assert r.status_code == 302
    page = client.get("/messages/settings").get_data(as_text=True)
    m = re.search(r'id="feed-url" readonly value="([^"]+)"', page)
    assert m, "the settings page shows the new address"
    return m.group(1)


def test_the_feed_lists_the_registered_sessions_in_shanghai_time(app, client, world, clock):
    clock.set(datetime(2026, 6, 15, 2, 0))
    with app.app_context():
        mine = make_training(organiser="D1", sessions=((60 * 24, 120), (60 * 48, 90)))
        other = make_training(organiser="D1", sessions=((60 * 72, 60),))
        cancelled = make_training(organiser="D1", sessions=((60 * 96, 60),))
        rules.register(mine, _user("worker_a"))
        rules.register(cancelled, _user("worker_a"))
        rules.cancel(cancelled, _user("worker_a"))
        rules.register(other, _user("worker_b"))
        expected = {s.id: (s.starts_at, s.ends_at) for s in mine.sessions}
        db.session.commit()
    login(client, "worker_a")
    url = feed_address(client)
    path = url.split("://", 1)[1].split("/", 1)[1]
    stranger = app.test_client()  # no login: the address is the secret
    r = stranger.get("/" + path)
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.data)
    events = list(cal.walk("VEVENT"))
    got = {}
    for event in events:
        sid = int(re.fullmatch(r"training-session-(\d+)@shequ-xuetang", str(event["UID"])).group(1))
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert str(start.tzinfo) == "Asia/Shanghai"
        got[sid] = (start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None))
        assert str(event["SUMMARY"]) == "社区议事协商专题培训"
        assert str(event["LOCATION"]) == "桂香社区党群服务中心"
    assert got == expected
    first = min(expected)
    assert next(e for e in events if str(e["UID"]).endswith(f"-{first}@shequ-xuetang")).decoded("DTSTART") == \
        expected[first][0].replace(tzinfo=UTC).astimezone(SHANGHAI)
    # the UIDs are stable: the same feed again names the same events
    assert {str(e["UID"]) for e in Calendar.from_ical(stranger.get("/" + path).data).walk("VEVENT")} == \
        {str(e["UID"]) for e in events}


def test_a_new_address_kills_the_old_and_a_wrong_one_is_not_found(app, client, world):
    login(client, "worker_c")
    old = feed_address(client).split("/messages/", 1)[1]
    stranger = app.test_client()
    assert stranger.get(f"/messages/{old}").status_code == 200
    new = feed_address(client).split("/messages/", 1)[1]
    assert new != old
    assert stranger.get(f"/messages/{old}").status_code == 404
    assert stranger.get(f"/messages/{new}").status_code == 200
    assert stranger.get("/messages/calendar/not-a-token.ics").status_code == 404
    with app.app_context():  # only the hash is kept
        stored = db.session.get(MessageAccount, world["worker_c"]).feed_token_hash
        token = new.removeprefix("calendar/").removesuffix(".ics")
        assert token not in stored and len(stored) == 64


def test_the_session_count_matches_the_database(app, client, world):
    with app.app_context():
        training = make_training(organiser="D1", sessions=((60, 60), (60 * 30, 60), (60 * 54, 60)))
        rules.register(training, _user("worker_b"))
        count = db.session.scalar(select(db.func.count()).select_from(TrainingSession)
                                  .where(TrainingSession.training_id == training.id))
        db.session.commit()
    login(client, "worker_b")
    path = "/messages/" + feed_address(client).split("/messages/", 1)[1]
    assert len(list(Calendar.from_ical(app.test_client().get(path).data).walk("VEVENT"))) == count == 3
