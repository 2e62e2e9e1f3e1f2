"""One clock: "today" and "this year" are the Asia/Shanghai day, and tests inject time."""
from datetime import date, datetime
from decimal import Decimal

from lms import clock as app_clock
from lms.auth.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.learning import progress

from .conftest import login
from .study import complete
from .test_learning import make_course


def test_today_is_the_shanghai_day(ctx, clock):
    clock.set(datetime(2026, 12, 31, 16, 30))  # 00:30 on 1 January in Shanghai
    assert app_clock.today() == date(2027, 1, 1)
    assert app_clock.this_year() == 2027
    assert utcnow() == datetime(2026, 12, 31, 16, 30)  # the database's naive UTC reads the same clock
    clock.set(datetime(2026, 12, 31, 15, 59))  # 23:59 on 31 December in Shanghai
    assert app_clock.today() == date(2026, 12, 31)


def test_new_year_night_agrees_everywhere(app, client, world, clock):
    """A course finished at 00:30 on 1 January (China time) counts for the new year on the worker's
    home page, on 我的学习 and in the ledger; before the fix the views used the server's UTC date."""
    clock.set(datetime(2026, 12, 31, 16, 30))
    with app.app_context():
        user = db.session.get(User, world["worker_a"])
        course = make_course(hours="2.0", lessons=1)
        progress.enroll(user, course)
        complete(user, course.lessons[0])
        db.session.commit()
        assert progress.hours_in_year(user.id, 2027) == Decimal("2.0")
    login(client, "worker_a")
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert '<span id="home-hours">2.0</span>' in home
    mine = client.get("/learn/mine").get_data(as_text=True)
    assert '<strong id="hours-total">2.0</strong>' in mine
