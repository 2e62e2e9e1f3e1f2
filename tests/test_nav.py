"""The site menu by role (issue 14 point 1): grouped by task, each role sees only what it uses, every link it
sees opens for it, and the page being shown is marked."""
from html.parser import HTMLParser

import pytest

from lms.nav import MENU, menu_for

from .conftest import login


class _Menu(HTMLParser):
    """The main menu of a page as {top-level label: [(id, href, label, current)]} (a plain top-level link is a
    group of one), and the toggles' ids and classes."""

    def __init__(self):
        super().__init__()
        self.groups: dict[str, list[tuple[str, str, str, bool]]] = {}
        self.toggles: dict[str, str] = {}  # label → class attribute
        self.in_nav = self.in_main = False
        self.ul_depth = 0
        self.open: dict | None = None  # the <a>/<button> whose text is being read
        self.group: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "nav" and a.get("id") == "site-nav":
            self.in_nav = True
        if not self.in_nav:
            return
        if tag == "ul":
            if "navbar-nav" in cls and "me-auto" in cls:
                self.in_main = True
            if self.in_main:
                self.ul_depth += 1
        if not self.in_main:
            return
        if tag == "a" and ("nav-link" in cls or "dropdown-item" in cls):
            self.open = {"kind": "link", "top": "nav-link" in cls, "id": a.get("id"), "href": a.get("href"),
                         "current": a.get("aria-current") == "page", "cls": cls, "text": ""}
        elif tag == "button" and "dropdown-toggle" in cls:
            self.open = {"kind": "toggle", "cls": cls, "text": ""}

    def handle_data(self, data):
        if self.open is not None:
            self.open["text"] += data

    def handle_endtag(self, tag):
        if self.in_main and tag == "ul":
            self.ul_depth -= 1
            if self.ul_depth == 0:
                self.in_main = False
        if self.open is None or tag not in ("a", "button"):
            return
        o, self.open = self.open, None
        text = o["text"].strip()
        if o["kind"] == "toggle":
            self.group = self.groups.setdefault(text, [])
            self.toggles[text] = o["cls"]
        elif o["top"]:
            self.groups[text] = [(o["id"], o["href"], text, o["current"])]
            self.toggles[text] = o["cls"]
        else:
            self.group.append((o["id"], o["href"], text, o["current"]))


def menu(client, url="/home") -> _Menu:
    r = client.get(url)
    assert r.status_code == 200, url
    parser = _Menu()
    parser.feed(r.get_data(as_text=True))
    return parser


def hrefs(m: _Menu) -> set[str]:
    return {href for links in m.groups.values() for _id, href, _t, _c in links}


WORKER_PAGES = {"/learn/", "/learn/mine", "/training/open", "/training/mine", "/training/checkin",
                "/prep/", "/mock/", "/mock/practice", "/mock/mistakes", "/mock/progress", "/library/", "/ask/"}
WORKER_PAGES |= {"/surveys/mine"}  # issue 17: evaluations and needs surveys
TRAINER_PAGES = WORKER_PAGES | {"/learn/studio", "/exams/", "/mock/marking", "/mock/analysis", "/ask/to-answer"}
TRAINER_PAGES |= {"/surveys/teaching"}
OFFICE_PAGES = {"/learn/", "/learn/studio", "/learn/review", "/training/", "/training/flags", "/exams/",
                "/mock/marking", "/mock/analysis", "/mock/days", "/mock/results", "/mock/marking/assignments",
                "/library/", "/stats/", "/prep/office", "/allowances/", "/accounts/", "/accounts/import", "/orgs/",
                "/audit/", "/api/tokens/", "/ask/", "/ask/office", "/ask/office/stats"}
OFFICE_PAGES |= {"/surveys/"}
ADMIN_PAGES = OFFICE_PAGES | {"/jobs/"}


@pytest.mark.parametrize("username, groups, pages", [
    ("worker_a", ["学习", "培训", "考试", "资源库"], WORKER_PAGES),
    ("trainer", ["学习", "培训", "考试", "资源库"], TRAINER_PAGES),
    ("office_d1", ["学习", "培训", "考试", "资源库", "统计", "管理"], OFFICE_PAGES),
    ("admin", ["学习", "培训", "考试", "资源库", "统计", "管理"], ADMIN_PAGES),
])
def test_each_role_sees_its_groups_and_only_the_pages_it_uses(client, world, username, groups, pages):
    login(client, username)
    m = menu(client)
    assert list(m.groups) == groups
    assert hrefs(m) == pages
    assert all(links for links in m.groups.values())  # no empty dropdown


@pytest.mark.parametrize("username", ["worker_a", "trainer", "office_d1", "office_s11", "admin"])
def test_every_link_a_role_sees_opens_for_it(client, world, username):
    login(client, username)
    for href in sorted(hrefs(menu(client))):
        assert client.get(href, follow_redirects=True).status_code == 200, href  # /stats/ opens the own unit


def test_the_links_tests_and_people_rely_on_keep_their_ids(client, world):
    login(client, "office_d1")
    m = menu(client)
    ids = {i: href for links in m.groups.values() for i, href, _t, _c in links}
    assert ids["nav-stats"] == "/stats/" and ids["nav-results"] == "/mock/results"
    assert len(ids) == len(hrefs(m))  # one id per link
    page = client.get("/home").get_data(as_text=True)
    for element in ('id="logout"', 'id="lang-en"', 'id="menu-user"', 'id="nav-password"', 'id="mainnav"'):
        assert element in page, element
    assert "退出" in page


def test_small_groups_are_plain_links_and_larger_ones_dropdowns(client, world):
    login(client, "office_d1")
    m = menu(client)
    assert "dropdown-toggle" not in m.toggles["资源库"]
    assert all("dropdown-toggle" in m.toggles[g] for g in ("学习", "培训", "考试", "统计", "管理"))
    labels = [label for _i, _h, label, _c in m.groups["管理"]]
    assert labels == ["账号管理", "导入账号", "组织架构", "操作日志", "API 令牌"]


def test_the_page_being_shown_is_marked_in_the_menu(client, world):
    login(client, "worker_a")
    m = menu(client, "/mock/mistakes")
    assert "active" in m.toggles["考试"] and "active" not in m.toggles["学习"]
    current = [(i, label) for links in m.groups.values() for i, _h, label, here in links if here]
    assert current == [("nav-mock-mistakes", "错题本")]
    assert not any(here for links in menu(client, "/home").groups.values() for *_x, here in links)


def test_a_logged_out_visitor_sees_no_menu_but_the_language(client, world):
    m = menu(client, "/auth/login")
    assert m.groups == {}
    assert 'id="lang-en"' in client.get("/auth/login").get_data(as_text=True)


def test_every_menu_link_names_a_page_that_exists(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if not rule.arguments}
    links = [link for group in MENU for section in group.sections for link in section]
    assert {link.endpoint for link in links} <= endpoints
    assert len({link.dom_id for link in links}) == len(links)
    assert menu_for(set()) == []  # no role, no menu
