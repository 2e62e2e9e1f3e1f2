"""Login, logout, password change, sessions."""
from sqlalchemy import select

from lms.auth.models import User
from lms.extensions import db

from .conftest import PASSWORD, csrf_token, login, post_form


def test_wrong_password_fails_with_a_clear_message(client):
    r = login(client, "worker_a", "not-the-password")
    assert r.status_code == 200
    assert "用户名或密码错误" in r.get_data(as_text=True)
    assert client.get("/home").status_code == 302  # still logged out


def test_unknown_user_gets_the_same_message(client):
    r = login(client, "nobody-here", "whatever1")
    assert "用户名或密码错误" in r.get_data(as_text=True)


def test_login_home_and_logout(client):
    r = login(client, "worker_a")
    assert r.status_code == 302 and r.location.endswith("/home")
    home = client.get("/home").get_data(as_text=True)
    assert "东一一甲" in home and "社区学堂" in home
    r = post_form(client, "/auth/logout", page="/home")
    assert r.status_code == 302
    assert client.get("/home").status_code == 302


def test_login_follows_only_local_next(client):
    token = csrf_token(client)
    r = client.post(
        "/auth/login?next=https://evil.example/x",
        data={"username": "worker_a", "password": PASSWORD, "csrf_token": token},
    )
    assert r.location.endswith("/home")
    client.get("/auth/lang/en")
    post_form(client, "/auth/logout", page="/home")
    token = csrf_token(client)
    r = client.post(
        "/auth/login?next=/auth/password", data={"username": "worker_a", "password": PASSWORD, "csrf_token": token}
    )
    assert r.location.endswith("/auth/password")


def test_login_gives_a_new_session(client):
    client.get("/auth/login")
    with client.session_transaction() as s:
        s["planted"] = "by-an-attacker"
    login(client, "worker_a")
    with client.session_transaction() as s:
        assert "planted" not in s


def test_deactivated_account_cannot_log_in(app, client, world):
    with app.app_context():
        db.session.get(User, world["worker_b"]).active = False
        db.session.commit()
    r = login(client, "worker_b")
    assert "该账号已停用" in r.get_data(as_text=True)


def test_change_password_enforces_the_policy(app, client):
    login(client, "worker_a")
    page = "/auth/password"
    r = post_form(client, page, {"current": PASSWORD, "new": "short", "confirm": "short"})
    assert "至少使用 8 个字符" in r.get_data(as_text=True)
    r = post_form(client, page, {"current": PASSWORD, "new": "onlyletters", "confirm": "onlyletters"})
    assert "须同时包含字母和数字" in r.get_data(as_text=True)
    r = post_form(client, page, {"current": "wrong", "new": "Better2026", "confirm": "Better2026"})
    assert "当前密码不正确" in r.get_data(as_text=True)
    r = post_form(client, page, {"current": PASSWORD, "new": "Better2026", "confirm": "Other2026"})
    assert "两次输入的新密码不一致" in r.get_data(as_text=True)
    r = post_form(client, page, {"current": PASSWORD, "new": "Better2026", "confirm": "Better2026"})
    assert r.status_code == 302
    post_form(client, "/auth/logout", page="/home")
    assert "用户名或密码错误" in login(client, "worker_a").get_data(as_text=True)
    assert login(client, "worker_a", "Better2026").status_code == 302


def test_password_change_logs_out_other_devices(app, client):
    other = app.test_client()
    login(other, "worker_a")
    assert other.get("/home").status_code == 200
    login(client, "worker_a")
    post_form(client, "/auth/password", {"current": PASSWORD, "new": "Better2026", "confirm": "Better2026"})
    assert client.get("/home").status_code == 200  # this device stays logged in
    assert other.get("/home").status_code == 302  # the other one is out


def test_reset_password_forces_a_change_at_next_login(app, client, world):
    login(client, "office_s11")
    r = post_form(client, f"/accounts/{world['worker_a']}/reset-password", page=f"/accounts/{world['worker_a']}")
    assert r.status_code == 302
    flashed = client.get(r.location).get_data(as_text=True)
    assert "新初始密码" in flashed
    with app.app_context():
        assert db.session.get(User, world["worker_a"]).must_change_password
    # The reset password works once and leads straight to the password page.
    import re
    password = re.search(r"新初始密码为 (\w+)", flashed).group(1)
    worker = app.test_client()
    assert login(worker, "worker_a", password).status_code == 302
    r = worker.get("/home")
    assert r.status_code == 302 and r.location.endswith("/auth/password")


def test_pages_need_login(client):
    for url in ("/home", "/accounts/", "/orgs/", "/auth/password"):
        r = client.get(url)
        assert r.status_code == 302 and "/auth/login" in r.location


def test_passwords_are_hashed(ctx, world):
    user = db.session.scalar(select(User).where(User.username == "worker_a"))
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
