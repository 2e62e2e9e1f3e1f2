"""Chinese by default, English on request, every string translated, dates in Asia/Shanghai."""
from datetime import datetime
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import login

ROOT = Path(__file__).resolve().parent.parent


def test_every_string_in_the_code_has_a_chinese_translation():
    """Extract the strings afresh from the code and templates and check the catalogue covers them."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT / "lms"), method_map, options_map, keywords=keywords
    ):
        ids.add(message if isinstance(message, str) else message[0])
    with open(ROOT / "lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, f"translations whose placeholders do not match: {problems}"

    def translated(message):  # a plural has one string per form, and every form must be filled
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(strings) and not message.fuzzy

    missing = sorted(str(i) for i in ids if not (catalog.get(i) and translated(catalog.get(i))))
    assert not missing, f"untranslated strings (run make translations-update and fill them): {missing}"
    assert len(ids) > 150


def test_chinese_is_the_default_and_english_is_a_click_away(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "登录" in html and 'lang="zh-CN"' in html
    r = client.get("/auth/lang/en?next=/auth/login")
    assert r.status_code == 302 and r.location.endswith("/auth/login")
    html = client.get("/auth/login").get_data(as_text=True)
    assert "Log in" in html and 'lang="en"' in html and "登录" not in html
    client.get("/auth/lang/zh_Hans_CN")
    assert "登录" in client.get("/auth/login").get_data(as_text=True)


def test_language_survives_login(client):
    client.get("/auth/lang/en")
    login(client, "worker_a")
    assert "Welcome" in client.get("/home").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.get("/auth/lang/xx")
    assert "登录" in client.get("/auth/login").get_data(as_text=True)


def test_language_switch_does_not_redirect_offsite(client):
    r = client.get("/auth/lang/en?next=//evil.example/")
    assert r.location.endswith("/home")


def test_error_pages_are_friendly_and_translated(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)
    login(client, "worker_a")
    r = client.get("/accounts/")
    text = r.get_data(as_text=True)
    assert r.status_code == 403 and "您的账号不能打开此页面" in text and "此页面仅供培训办、系统管理员使用" in text
    assert "无权访问" not in text  # it says why and what to do (tests/test_refusals.py)


def test_times_are_shown_in_shanghai(app):
    with app.test_request_context("/"):
        from flask import render_template_string

        out = render_template_string("{{ t|datetime }}", t=datetime(2026, 1, 1, 16, 30))  # stored as UTC
    assert out == "2026-01-02 00:30"
