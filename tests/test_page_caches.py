"""What the pages keep between requests for speed (issue 15 point 4), and that each kept thing follows
what it depends on: the menu rendered per roles, language and page (lms/nav.py), the account and its
roles read afresh on every request, the request's translation catalogue (lms/i18n.py), the Markdown
converters reused between texts (lms/markdown.py), and the home page's prebuilt statements."""
from datetime import date
from decimal import Decimal

from flask import render_template_string
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from flask_babel import lazy_gettext as _l

from lms.auth.models import User, UserRole
from lms.extensions import db
from lms.learning.models import Credit
from lms.markdown import plain_text, render_markdown

from .conftest import login


def _page(client, url="/home") -> str:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


def test_a_role_taken_away_leaves_the_menu_on_the_next_page(app, client, world):
    login(client, "trainer")  # trainer and learner
    assert 'id="nav-learning-studio"' in _page(client)
    with app.app_context():
        db.session.execute(db.delete(UserRole).where(UserRole.user_id == world["trainer"],
                                                     UserRole.role == "trainer"))
        db.session.commit()
    home = _page(client)
    assert 'id="nav-learning-studio"' not in home and 'id="nav-learning-catalog"' in home
    assert client.get("/learn/studio").status_code == 403

    with app.app_context():  # and given back: the menu and the page come back at once
        db.session.add(UserRole(user_id=world["trainer"], role="trainer"))
        db.session.commit()
    assert 'id="nav-learning-studio"' in _page(client)
    assert client.get("/learn/studio").status_code == 200


def test_a_deactivated_account_is_logged_out_on_its_next_request(app, client, world):
    login(client, "worker_a")
    _page(client)
    with app.app_context():
        db.session.get(User, world["worker_a"]).active = False
        db.session.commit()
    r = client.get("/home")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_a_renamed_account_shows_its_new_name_at_once(app, client, world):
    login(client, "worker_a")
    assert "东一一甲" in _page(client)
    with app.app_context():
        db.session.get(User, world["worker_a"]).name = "东一一甲改"
        db.session.commit()
    assert "东一一甲改" in _page(client)


def test_the_menu_follows_the_language_and_marks_the_page_shown(client, world):
    login(client, "worker_a")
    home = _page(client)
    assert ">课程库<" in home and 'aria-current="page"' not in home.split('id="site-nav"')[1].split("</ul>")[0]
    catalogue = _page(client, "/learn/")
    assert 'id="nav-learning-catalog" href="/learn/" aria-current="page"' in catalogue
    assert 'aria-current' not in _page(client).split('id="menu-user"')[0].split('me-auto')[1]  # home again

    client.get("/auth/lang/en")
    home = _page(client)
    assert ">Course library<" in home and ">课程库<" not in home
    client.get("/auth/lang/zh_Hans_CN")
    assert ">课程库<" in _page(client)


def test_template_and_lazy_translations_follow_a_forced_locale(app):
    label = _l("Home")
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Home') }}") == "首页" and str(label) == "首页"
        with force_locale("en"):
            assert render_template_string("{{ _('Home') }}") == "Home"
            assert str(label) == "Home" and babel_gettext("Home") == "Home"
        assert render_template_string("{{ _('Home') }}") == "首页" and babel_gettext("Home") == "首页"


def test_template_gettext_escapes_variables_and_keeps_the_format_rules(app):
    with app.test_request_context("/"):
        out = render_template_string("{{ _('Welcome, %(name)s', name=n) }}", n="<b>甲</b>")
        assert "&lt;b&gt;甲&lt;/b&gt;" in out and "<b>" not in out
        assert render_template_string("{{ _('100%% done') }}") == "100% done"  # always a format string


def test_a_reused_markdown_converter_carries_nothing_from_one_text_to_the_next(app):
    first = render_markdown("社区 HTML 议事[^1]\n\n*[HTML]: 超文本\n\n[^1]: 脚注内容")
    assert "<abbr" in first and "脚注内容" in first
    second = render_markdown("另一段 HTML 文字")
    assert "<abbr" not in second and "脚注" not in second
    assert plain_text("**加粗** 与 [链接](https://example.org)") == "加粗 与 链接"
    assert plain_text("一二三四五六", limit=4) == "一二三…"


def test_the_home_page_shows_credit_hours_as_they_are_earned(app, client, world):
    login(client, "worker_a")
    with app.app_context():
        from lms import clock as lms_clock

        year = lms_clock.this_year()
    before = _page(client)
    with app.app_context():
        db.session.add(Credit(user_id=world["worker_a"], source="course", source_id=987654, hours=Decimal("2.5"),
                              earned_on=date(year, 3, 1)))
        db.session.commit()
    after = _page(client)
    hours = [page.split('id="home-hours">')[1].split("<")[0] for page in (before, after)]
    assert Decimal(hours[1]) - Decimal(hours[0]) == Decimal("2.5")


def test_template_url_for_gives_what_flask_builds_for_each_script_root_and_argument_order(app):
    from flask import url_for

    template = ("{{ url_for('learning.course', course_id=7) }}|"
                "{{ url_for('learning.catalog', q='社区 a&b', page=2) }}|"
                "{{ url_for('learning.catalog', page=2, q='社区 a&b') }}|"
                "{{ url_for('static', filename='css/site.css') }}|"
                "{{ url_for('learning.catalog', q=none) }}|{{ url_for('main.home', _anchor='x') }}")
    for root in ("", "/academy", ""):  # a second app mount, and back: each is built for its own root
        with app.test_request_context("/home", environ_overrides={"SCRIPT_NAME": root}):
            expected = "|".join([url_for("learning.course", course_id=7),
                                 url_for("learning.catalog", q="社区 a&b", page=2),
                                 url_for("learning.catalog", page=2, q="社区 a&b"),
                                 url_for("static", filename="css/site.css"),
                                 url_for("learning.catalog", q=None), url_for("main.home", _anchor="x")])
            out = render_template_string(template)
            assert str(out) == expected.replace("&", "&amp;")
            assert out.startswith(f"{root}/learn/courses/7|")
    with app.test_request_context("/home"):  # a string id and an int id build the same; a new id its own URL
        assert render_template_string("{{ url_for('learning.course', course_id=8) }}") == "/learn/courses/8"


def test_the_kept_csrf_token_belongs_to_its_session(app, client):
    from flask_wtf.csrf import validate_csrf

    login(client, "worker_a")
    first = _page(client).split('name="csrf-token" content="')[1].split('"')[0]
    assert first == _page(client).split('name="csrf-token" content="')[1].split('"')[0]
    from lms import templating

    assert first in templating._signed.values()  # the page's token is the kept one
    other = app.test_client()
    login(other, "worker_b")
    second = _page(other).split('name="csrf-token" content="')[1].split('"')[0]
    assert second != first
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    with app.test_request_context("/"):
        from flask import session as request_session

        request_session["csrf_token"] = raw
        validate_csrf(first)  # the kept token is a valid signature of the session's raw token
    # and it is what a form of the page posts: logging out with it works
    r = client.post("/auth/logout", data={"csrf_token": first})
    assert r.status_code == 302 and client.get("/home").status_code == 302


def test_the_datetime_filter_writes_what_flask_babel_writes(app):
    from datetime import UTC, datetime

    from flask_babel import format_datetime

    from lms.templating import datetime_filter

    patterns = ["yyyy-MM-dd HH:mm", "HH:mm", "HH:mm:ss", "MM-dd HH:mm", "MM-dd", "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss",
                "yyyy年M月d日", "EEEE HH:mm", "MMM d"]  # the last three are not numbers only: Flask-Babel's
    values = [datetime(2026, 12, 31, 16, 5, 9), datetime(2026, 3, 1, 0, 0), datetime(1985, 6, 30, 15, 59, 59),
              datetime(2027, 1, 1, 2, 3, tzinfo=UTC)]
    for lang in ("zh_Hans_CN", "en"):
        with app.test_request_context("/"), force_locale(lang):
            for value in values:
                for pattern in patterns:
                    assert datetime_filter(value, pattern) == format_datetime(value, pattern), (lang, value, pattern)
            assert datetime_filter(values[0]) == "2027-01-01 00:05"  # the default pattern, in Asia/Shanghai
            assert datetime_filter(None) == "" and render_template_string("{{ t|datetime('MM-dd') }}",
                                                                          t=values[0]) == "01-01"


def test_a_kept_session_cookie_is_a_copy_checked_like_any_cookie(app, client, world):
    login(client, "worker_a")
    cookie = client.get_cookie("session").value
    assert ">课程库<" in _page(client)
    r = client.get("/auth/lang/en")  # the request changes its session: a new cookie
    assert r.status_code == 302 and client.get_cookie("session").value != cookie
    assert ">Course library<" in _page(client)
    client.set_cookie("session", cookie)  # the old cookie again: its own contents, untouched by that change
    assert ">课程库<" in _page(client)
    client.set_cookie("session", cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))  # tampered: refused
    assert client.get("/home").status_code == 302
    client.set_cookie("session", cookie)
    lifetime = app.permanent_session_lifetime
    app.permanent_session_lifetime = -1  # every cookie is now too old: the kept one too
    try:
        assert client.get("/home").status_code == 302
    finally:
        app.permanent_session_lifetime = lifetime
    client.set_cookie("session", cookie)  # (the refusal's answer replaced it)
    assert client.get("/home").status_code == 200


def test_the_modules_lazy_labels_follow_the_request_language_and_a_forced_locale(app):
    from markupsafe import escape

    from lms.i18n import lazy_gettext

    label, formatted = lazy_gettext("Home"), lazy_gettext("%(n)d found", n=3)
    assert str(label) == "Home"  # no request: the English source
    with app.test_request_context("/"):
        assert str(label) == "首页" and escape(label) == "首页"
        assert str(formatted) == babel_gettext("%(n)d found", n=3) != "3 found"
        with force_locale("en"):
            assert str(label) == "Home" and str(formatted) == "3 found"
        assert str(label) == "首页"
