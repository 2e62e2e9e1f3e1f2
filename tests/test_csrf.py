"""Every state-changing route refuses a request without a CSRF token."""
from .conftest import login


def _post_rules(app):
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            yield rule.endpoint, urls.build(rule.endpoint, {a: 1 for a in rule.arguments})


def test_every_post_route_refuses_a_request_without_csrf_token(app, client):
    login(client, "admin")
    routes = list(_post_rules(app))
    assert len(routes) >= 8
    for endpoint, url in routes:
        r = client.post(url, data={"username": "admin", "password": "x"})
        assert r.status_code == 400, (endpoint, url, r.status_code)
        assert "表单已失效" in r.get_data(as_text=True)
    assert client.get("/home").status_code == 200  # still logged in: logout was refused too


def test_login_itself_needs_the_token(client):
    r = client.post("/auth/login", data={"username": "worker_a", "password": "Passw0rd"})
    assert r.status_code == 400
