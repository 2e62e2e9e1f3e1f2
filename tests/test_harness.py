"""The test harness itself: a test's rolled-back connection serves only the app under test.

`db.session` is one object for the whole process. The browser journeys' live server is another app
(on its own database) serving from a thread of the same xdist worker; a request it serves while a
later test of that worker runs must not run on that test's connection (it once added a statement to
a query budget, or wrote during a "GET never writes" check, now and then).
"""
import threading

from sqlalchemy import text

from lms import create_app
from lms.extensions import db

from .querycount import count_queries


def test_another_app_in_another_thread_never_uses_the_tests_connection(app, client, tmp_path):
    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.sqlite3'}", "TESTING": True})
    binds = []

    def serve():  # as the live server's thread serves a request
        with other.app_context():
            binds.append((db.session.get_bind(), db.engine))
            db.session.execute(text("SELECT 1 AS from_the_other_app"))
            db.session.remove()

    with count_queries(app) as statements:
        thread = threading.Thread(target=serve)
        thread.start()
        thread.join()
    bind, other_engine = binds[0]
    assert bind is other_engine
    assert not [s for s in statements if "from_the_other_app" in s]
    with app.app_context():  # the test's own session still runs on the test's connection
        assert db.session.get_bind() is not db.engine
