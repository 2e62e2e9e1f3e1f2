"""一教五库: browse the pools (everyone), manage them (offices within scope), import/export, safe Markdown."""
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from lms.auth.models import User
from lms.extensions import db
from lms.learning.models import Course
from lms.library.models import Expert, Institution, Textbook, Trainer, TrainingBase
from lms.orgs.models import OrgUnit

from .conftest import login, post_form

KINDS = ("textbooks", "trainers", "bases", "experts", "institutions")
MODELS = {"textbooks": Textbook, "trainers": Trainer, "bases": TrainingBase, "experts": Expert,
          "institutions": Institution}


# ----- helpers ---------------------------------------------------------------------------------

def unit(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


@pytest.fixture
def pools(app, client):
    """A few records in every pool, committed inside the test's rolled-back transaction."""
    with app.app_context():
        trainer_user = db.session.scalar(select(User).where(User.username == "trainer"))
        zhang = Trainer(name="张三", kind="practitioner", title="社工站站长", affiliation="东一街道社工站",
                        expertise="议事协商、居民骨干", bio="擅长**居民议事**与骨干培育。", phone="13811112222",
                        org_unit=unit("S11"), active=True)
        li = Trainer(name="李四", kind="college", title="副教授", affiliation="东方大学", expertise="个案工作",
                     bio="高校教师。", phone="13811113333", active=False)
        wang = Trainer(name="王五", kind="expert", title="研究员", affiliation="市研究中心", expertise="政策研究",
                       bio="政策专家。", user=trainer_user, active=True)
        east = TrainingBase(name="东一一示范社区", kind="demo_community", org_unit=unit("C111"), address="东一路1号",
                            theme="小区治理", capacity=40, contact_name="赵主任", contact_phone="13833334444",
                            description="示范社区。", active=True)
        west = TrainingBase(name="西一主题街区", kind="theme_street", org_unit=unit("S21"), theme="应急",
                            contact_phone="13833335555", description="主题街区。", active=True)
        expert = Expert(name="钱教授", title="教授", affiliation="东方大学", fields="社区治理",
                        contact="13844445555", bio="治理专家。", active=True)
        inst = Institution(name="东方大学", kind="university", cooperation="课程共建", contact_name="孙老师",
                           contact_phone="13855556666", description="合作高校。", active=True)
        book = Textbook(title="社区议事协商指南", series="governance", topics="议事协商", editors="张三",
                        publisher="东方出版社", year=2024, description="指南。")
        book2 = Textbook(title="社区养老服务手册", series="service", topics="养老", description="手册。")
        published = Course(slug="lib-pub", title="已发布的课程", category="governance", status="published")
        draft = Course(slug="lib-draft", title="草稿课程", category="governance", status="draft")
        published.authors = [wang]
        draft.authors = [wang]
        db.session.add_all([zhang, li, wang, east, west, expert, inst, book, book2, published, draft])
        db.session.commit()
        return {"zhang": zhang.id, "li": li.id, "wang": wang.id, "east": east.id, "west": west.id,
                "expert": expert.id, "inst": inst.id, "book": book.id, "published": published.id, "draft": draft.id}


def as_user(app, username: str, lang: str | None = None):
    """A fresh client logged in as `username` (a logged-in client cannot log in again)."""
    c = app.test_client()
    if lang:
        c.get(f"/auth/lang/{lang}")
    login(c, username)
    return c


def count(app, model, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def table_text(html: str) -> str:
    return html.split('id="records"', 1)[1].split("</table>", 1)[0]


def record_names(html: str) -> set[str]:
    """The names linked from a list page's table."""
    return set(re.findall(r'<a href="/library/\w+/\d+">([^<]+)</a>', table_text(html)))


def xlsx(header, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, url, data: bytes, name="pool.xlsx"):
    return post_form(client, url, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def error_cells(html: str) -> set[tuple[int, str]]:
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return {(int(r), c) for r, c, _m in re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)}


# ----- browsing --------------------------------------------------------------------------------

def test_index_links_every_pool_with_counts_and_the_nav_has_it(client, pools):
    login(client, "worker_a")
    r = client.get("/library/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'href="/library/"' in html.split("</nav>", 1)[0]  # the nav item
    for kind in KINDS:
        assert f'href="/library/{kind}/"' in html
    counts = dict(re.findall(r'id="pool-(\w+)".*?data-count="(\d+)"', html, re.S))
    # A learner counts what they can see: the inactive trainer and the draft course are not counted.
    assert int(counts["trainers"]) == 2 and int(counts["bases"]) == 2 and int(counts["textbooks"]) == 2
    assert int(counts["courses"]) == count(client.application, Course, status="published")
    html = as_user(client.application, "office_d1").get("/library/").get_data(as_text=True)
    counts = dict(re.findall(r'id="pool-(\w+)".*?data-count="(\d+)"', html, re.S))
    assert int(counts["trainers"]) == 3


def test_learners_browse_active_records_without_phones(client, pools):
    login(client, "worker_a")
    for kind in KINDS:
        assert client.get(f"/library/{kind}/").status_code == 200, kind
    html = client.get("/library/trainers/").get_data(as_text=True)
    assert "张三" in html and "王五" in html and "李四" not in html
    assert "13811112222" not in html
    assert client.get(f"/library/trainers/{pools['li']}").status_code == 404  # inactive: not in the pool
    html = client.get(f"/library/trainers/{pools['zhang']}").get_data(as_text=True)
    assert "13811112222" not in html and "社工站站长" in html
    for kind, key, phone in (("bases", "east", "13833334444"), ("experts", "expert", "13844445555"),
                             ("institutions", "inst", "13855556666")):
        html = client.get(f"/library/{kind}/{pools[key]}").get_data(as_text=True)
        assert phone not in html, kind
        assert phone not in client.get(f"/library/{kind}/").get_data(as_text=True), kind
    assert 'id="edit-record"' not in html


def test_staff_see_phones_and_inactive_records(client, pools):
    login(client, "office_d2")
    html = client.get("/library/trainers/").get_data(as_text=True)
    assert "李四" in html and "13811112222" in html
    html = client.get(f"/library/bases/{pools['east']}").get_data(as_text=True)
    assert "13833334444" in html
    assert 'id="edit-record"' not in html  # D2's office may not edit a base in D1
    html = client.get(f"/library/bases/{pools['west']}").get_data(as_text=True)
    assert 'id="edit-record"' in html
    html = client.get(f"/library/trainers/{pools['wang']}").get_data(as_text=True)
    assert 'id="account"' in html and ">trainer<" in html


def test_filters_and_search(client, pools, world):
    login(client, "office_c")

    def names(url):
        return record_names(client.get(url).get_data(as_text=True))

    assert names("/library/trainers/?type=college") == {"李四"}
    assert names("/library/trainers/?status=inactive") == {"李四"}
    assert names("/library/trainers/?status=active") == {"张三", "王五"}
    assert names("/library/trainers/?q=议事") == {"张三"}             # expertise
    assert names("/library/trainers/?q=骨干培育") == {"张三"}          # Markdown bio
    assert names("/library/trainers/?q=东方+个案") == {"李四"}         # every term must match
    assert names("/library/trainers/?q=%25") == set()                  # % is a literal, not a wildcard
    assert names(f"/library/trainers/?unit={world['D1']}") == {"张三"}
    assert names(f"/library/bases/?unit={world['D1']}") == {"东一一示范社区"}
    assert names(f"/library/bases/?unit={world['S21']}") == {"西一主题街区"}
    assert names("/library/bases/?type=theme_street") == {"西一主题街区"}
    assert names("/library/bases/?q=东一路") == {"东一一示范社区"}     # address
    assert names("/library/experts/?q=治理") == {"钱教授"}
    assert names("/library/institutions/?type=party_school") == set()
    assert names("/library/institutions/?q=课程共建") == {"东方大学"}
    assert names("/library/textbooks/?type=service") == {"社区养老服务手册"}
    assert names("/library/textbooks/?q=东方出版社") == {"社区议事协商指南"}
    # Nonsense filters are ignored, never an error; a page number that is not one is a 400 saying so
    # (lms/inputs.py); unknown pools and records are 404.
    for url in ("/library/bases/?unit=abc&type=zzz&status=x", "/library/trainers/?kind=x&endpoint=y&_method=z",
                "/library/bases/?unit=99999999999999999999999", "/library/experts/?q=" + "长" * 500):
        assert client.get(url).status_code == 200, url
    for url in ("/library/bases/?page=-3", "/library/bases/?page=99999999999999999999999"):
        r = client.get(url)
        assert r.status_code == 400 and "页码" in r.get_data(as_text=True), url
    for url in ("/library/nothing/", "/library/nothing/1", "/library/trainers/999999",
                "/library/bases/99999999999999999999999", "/library/nothing/new"):
        assert client.get(url).status_code == 404, url


def test_pages_keep_the_filters(app, client, pools, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    with app.app_context():
        db.session.add_all([Expert(name=f"专家{i:02d}", fields="养老", active=True) for i in range(5)])
        db.session.commit()
    login(client, "worker_a")
    html = client.get("/library/experts/?q=养老").get_data(as_text=True)
    assert "1 / 3" in html
    assert "/library/experts/?q=%E5%85%BB%E8%80%81&amp;page=2" in html
    seen = set()
    for page in (1, 2, 3):
        seen |= record_names(client.get(f"/library/experts/?q=养老&page={page}").get_data(as_text=True))
    assert seen == {f"专家{i:02d}" for i in range(5)}


def test_trainer_page_lists_courses_by_status(client, pools):
    login(client, "worker_a")
    html = client.get(f"/library/trainers/{pools['wang']}").get_data(as_text=True)
    assert f'href="/learn/courses/{pools["published"]}"' in html
    assert f'href="/learn/courses/{pools["draft"]}"' not in html
    html = as_user(client.application, "office_d1").get(f"/library/trainers/{pools['wang']}").get_data(as_text=True)
    assert f'href="/learn/courses/{pools["published"]}"' in html and f'href="/learn/courses/{pools["draft"]}"' in html


# ----- create and edit -------------------------------------------------------------------------

TRAINER = {"name": "周六", "kind": "practitioner", "title": "督导", "affiliation": "东二街道社工站",
           "expertise": "小组工作，个案工作", "phone": "13866667777", "org_unit_id": "", "username": "",
           "bio": "**督导**经验丰富。", "active": "y"}


def test_office_creates_and_edits_a_trainer(app, client, world):
    login(client, "office_d1")
    r = post_form(client, "/library/trainers/new", dict(TRAINER, org_unit_id=world["S12"]))
    assert r.status_code == 302
    with app.app_context():
        t = db.session.scalar(select(Trainer).where(Trainer.name == "周六"))
        assert t.expertise == "小组工作、个案工作" and t.org_unit.code == "S12" and t.active and t.user is None
        tid = t.id
    assert r.location.endswith(f"/library/trainers/{tid}")
    r = post_form(client, f"/library/trainers/{tid}/edit", dict(TRAINER, title="高级督导", username="trainer2"))
    assert r.status_code == 200  # no such account
    # A district office keeps its trainers inside its area: "no unit" is the city office's.
    r = post_form(client, f"/library/trainers/{tid}/edit", dict(TRAINER, title="高级督导", active=""))
    assert r.status_code == 200
    r = post_form(client, f"/library/trainers/{tid}/edit",
                  dict(TRAINER, title="高级督导", active="", org_unit_id=world["C121"]))
    assert r.status_code == 302
    with app.app_context():
        t = db.session.get(Trainer, tid)
        assert t.title == "高级督导" and not t.active and t.org_unit.code == "C121"


def test_every_pool_can_be_created_by_an_admin(app, client, world):
    login(client, "admin")
    forms = {
        "textbooks": {"title": "新教材", "series": "development", "year": "2025", "link": "https://example.org/book"},
        "trainers": TRAINER,
        "bases": {"name": "新基地", "kind": "other", "org_unit_id": world["C211"], "capacity": "30", "active": "y"},
        "experts": {"name": "新专家", "affiliation": "某研究院", "fields": "养老;助餐", "active": "y"},
        "institutions": {"name": "新职业学院", "kind": "vocational", "active": "y"},
    }
    for kind, data in forms.items():
        r = post_form(client, f"/library/{kind}/new", data)
        assert r.status_code == 302, (kind, r.get_data(as_text=True)[:2000])
        assert client.get(r.location).status_code == 200
    assert count(app, Expert, fields="养老、助餐") == 1
    assert count(app, TrainingBase, name="新基地", capacity=30) == 1


def test_bad_input_is_refused_with_messages(app, client, pools, world):
    client.get("/auth/lang/en")
    login(client, "office_c")
    r = post_form(client, "/library/trainers/new", dict(TRAINER, name="", kind="nonsense", phone="12345"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Enter the name." in html and "Not a phone number" in html and html.count("invalid-feedback") >= 3
    r = post_form(client, "/library/textbooks/new", {"title": "x" * 201, "series": "", "year": "1800",
                                                     "link": "javascript:alert(1)"})
    html = r.get_data(as_text=True)
    assert "At most 200 characters." in html and "Choose a series." in html
    assert "The year must be between 1949" in html and "A link starts with http:// or https://." in html
    r = post_form(client, "/library/bases/new", {"name": "基地", "kind": "other", "org_unit_id": "", "capacity": "abc"})
    assert r.status_code == 200 and "invalid-feedback" in r.get_data(as_text=True)
    for bad in ("999999", "99999999999999999999999", "-1"):
        r = post_form(client, "/library/bases/new", {"name": "基地", "kind": "other", "org_unit_id": bad})
        assert r.status_code == 200 and "Choose the org unit of the base." in r.get_data(as_text=True)
    r = post_form(client, "/library/trainers/new", dict(TRAINER, org_unit_id="99999999999999999999999"))
    assert r.status_code == 200
    # Duplicates by the import's identity: same name (institutions), name + affiliation (trainers/experts).
    r = post_form(client, "/library/institutions/new", {"name": "东方大学", "kind": "university"})
    assert r.status_code == 200 and "An institution named 东方大学 already exists." in r.get_data(as_text=True)
    r = post_form(client, "/library/trainers/new", dict(TRAINER, name="张三", affiliation="东一街道社工站"))
    assert r.status_code == 200
    r = post_form(client, "/library/trainers/new", dict(TRAINER, name="张三", affiliation="另一个单位"))
    assert r.status_code == 302
    # Markdown too long, a missing CSRF token.
    r = post_form(client, "/library/experts/new", {"name": "长简介", "bio": "字" * 20001})
    assert r.status_code == 200 and "At most 20000 characters." in r.get_data(as_text=True)
    r = client.post("/library/experts/new", data={"name": "无令牌"})
    assert r.status_code == 400
    assert count(app, Expert, name="长简介") == 0 and count(app, Expert, name="无令牌") == 0
    assert count(app, Institution, name="东方大学") == 1


def test_trainer_accounts_link_once_and_only_to_trainers(app, client, pools):
    login(client, "office_c")
    r = post_form(client, "/library/trainers/new", dict(TRAINER, username="worker_a"))
    assert r.status_code == 200  # not a trainer account
    r = post_form(client, "/library/trainers/new", dict(TRAINER, username="trainer"))
    assert r.status_code == 200  # already linked to 王五
    r = post_form(client, f"/library/trainers/{pools['wang']}/edit",
                  {"name": "王五", "kind": "expert", "affiliation": "市研究中心", "username": "trainer", "active": "y"})
    assert r.status_code == 302  # keeping its own link is fine
    assert count(app, Trainer, name="周六") == 0


@pytest.mark.parametrize("username", ["worker_a", "trainer"])
def test_learners_and_trainers_cannot_manage_the_pools(client, pools, username):
    login(client, username)
    for kind in KINDS:
        for url in (f"/library/{kind}/new", f"/library/{kind}/import", f"/library/{kind}/import/template.xlsx",
                    f"/library/{kind}/export.xlsx"):
            assert client.get(url).status_code == 403, url
    assert client.get(f"/library/bases/{pools['east']}/edit").status_code == 403
    token_page = "/library/"
    r = post_form(client, "/library/institutions/new", {"name": "偷建", "kind": "other"}, page=token_page)
    assert r.status_code == 403
    r = post_form(client, f"/library/experts/{pools['expert']}/edit", {"name": "改名"}, page=token_page)
    assert r.status_code == 403
    assert count(client.application, Institution, name="偷建") == 0
    assert count(client.application, Expert, name="改名") == 0


def test_office_places_bases_only_in_its_own_area(app, client, pools, world):
    login(client, "office_d1")
    html = client.get("/library/bases/new").get_data(as_text=True)
    assert f'value="{world["C111"]}"' in html and f'value="{world["C211"]}"' not in html
    base = {"name": "越界基地", "kind": "demo_community", "active": "y"}
    r = post_form(client, "/library/bases/new", dict(base, org_unit_id=world["C211"]))
    assert r.status_code == 404  # another district's unit: out of scope, as its records
    assert count(app, TrainingBase, name="越界基地") == 0
    r = post_form(client, "/library/bases/new", dict(base, name="本区基地", org_unit_id=world["C121"]))
    assert r.status_code == 302
    # Another district's base: neither the form nor a POST (404: read it on its page, change it not).
    assert client.get(f"/library/bases/{pools['west']}").status_code == 200
    assert client.get(f"/library/bases/{pools['west']}/edit").status_code == 404
    r = post_form(client, f"/library/bases/{pools['west']}/edit", dict(base, name="改掉", org_unit_id=world["C111"]),
                  page="/library/bases/new")
    assert r.status_code == 404
    # Its own base cannot be moved out of its area.
    r = post_form(client, f"/library/bases/{pools['east']}/edit", dict(base, name="搬走", org_unit_id=world["C211"]))
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(TrainingBase, pools["west"]).name == "西一主题街区"
        east = db.session.get(TrainingBase, pools["east"])
        assert east.name == "东一一示范社区" and east.org_unit.code == "C111"
    # A street office is narrower still; the admin may do anything.
    client = as_user(app, "office_s11")
    assert client.get(f"/library/bases/{pools['east']}/edit").status_code == 200
    r = post_form(client, "/library/bases/new", dict(base, name="东二基地", org_unit_id=world["C121"]))
    assert r.status_code == 404
    client = as_user(app, "admin")
    r = post_form(
        client, f"/library/bases/{pools['west']}/edit", dict(base, name="西一主题街区（新）", org_unit_id=world["S21"])
    )
    assert r.status_code == 302


# ----- Markdown safety -------------------------------------------------------------------------

XSS = """# 标题

<script>alert('xss')</script>
<img src=x onerror="alert(1)">
<a href="javascript:alert(2)">点我</a>
[链接](javascript:alert(3))
<svg onload="alert(4)"><circle r="1"/></svg>
<style>body { display: none }</style>
<iframe src="https://evil.example/"></iframe>
<div onclick="alert(5)" style="background:url(javascript:alert(6))">块</div>
<object data="x.swf"></object><form action="https://evil.example/"><input></form>
"""

FORBIDDEN = ("<script", "onerror", "onload", "onclick", "javascript:", "<svg", "<style", "<iframe", "<object",
             "<form", "style=")


@pytest.mark.parametrize("kind", KINDS)
def test_markdown_is_rendered_inert(app, client, pools, world, kind):
    login(client, "admin")
    record_id = {"textbooks": pools["book"], "trainers": pools["zhang"], "bases": pools["east"],
                 "experts": pools["expert"], "institutions": pools["inst"]}[kind]
    data = {
        "textbooks": {"title": "社区议事协商指南", "series": "governance"},
        "trainers": {"name": "张三", "kind": "practitioner", "affiliation": "东一街道社工站", "org_unit_id": ""},
        "bases": {"name": "东一一示范社区", "kind": "demo_community", "org_unit_id": world["C111"]},
        "experts": {"name": "钱教授", "affiliation": "东方大学"},
        "institutions": {"name": "东方大学", "kind": "university"},
    }[kind]
    data["active"] = "y"
    md_field = "bio" if kind in ("trainers", "experts") else "description"
    data[md_field] = XSS
    name_field = "title" if kind == "textbooks" else "name"
    data[name_field] = "<script>alert('name')</script>" + data.get(name_field, "")
    r = post_form(client, f"/library/{kind}/{record_id}/edit", data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    html = client.get(f"/library/{kind}/{record_id}").get_data(as_text=True)
    body = html.split('id="markdown"', 1)[1].split("<!-- /markdown -->", 1)[0].lower()
    assert "标题" in body and "块" in body
    for bad in FORBIDDEN:
        assert bad not in body, bad
    assert "<script>alert('name')" not in html and "&lt;script&gt;" in html
    # The page's only scripts are the site's own files.
    assert re.findall(r"<script(?![^>]*src=\"/static/)", html) == []


# ----- import and export -----------------------------------------------------------------------

def test_template_downloads_for_every_pool(client):
    login(client, "office_d1")
    for kind in KINDS:
        r = client.get(f"/library/{kind}/import/template.xlsx")
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet"), kind
        wb = load_workbook(io.BytesIO(r.data))
        header = [c.value for c in wb.worksheets[0][1]]
        assert len(header) >= 5 and all(header), kind
        assert wb.worksheets[0].max_row == 2  # the header and the example row
        assert wb.sheetnames[1] == "填写说明" and wb.worksheets[1].max_row >= len(header)


TRAINER_HEADER = ["姓名", "类型", "职称", "工作单位", "擅长领域", "手机号", "所属单位编码", "账号", "简介", "是否在库"]


def test_import_creates_and_updates_trainers(app, client, pools):
    login(client, "office_d1")
    rows = [
        ["张三", "本土实务讲师", "街道社工站站长", "东一街道社工站", "", "", "", "", "", ""],   # update: title only
        ["赵七", "高校教师", "讲师", "东方大学", "小组工作，社区研究", "13877778888", "C111", "", "**简介**", "是"],
        ["孙八", "expert", "", "", "", "", "S12", "", "", "否"],
    ]
    before = count(app, Trainer)
    r = upload(client, "/library/trainers/import", xlsx(TRAINER_HEADER, rows))
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    assert count(app, Trainer) == before + 2
    with app.app_context():
        zhang = db.session.get(Trainer, pools["zhang"])
        assert (
            zhang.title == "街道社工站站长" and zhang.phone == "13811112222" and zhang.expertise == "议事协商、居民骨干"
        )
        zhao = db.session.scalar(select(Trainer).where(Trainer.name == "赵七"))
        assert zhao.kind == "college" and zhao.org_unit.code == "C111" and zhao.expertise == "小组工作、社区研究"
        assert zhao.active and zhao.bio == "**简介**"
        sun = db.session.scalar(select(Trainer).where(Trainer.name == "孙八"))
        assert sun.kind == "expert" and sun.active is False and sun.affiliation == ""


BASE_HEADER = [
    "名称",
    "基地类型",
    "所属单位编码",
    "地址",
    "教学主题",
    "容纳人数",
    "联系人",
    "联系电话",
    "简介",
    "是否在库",
]


def test_a_bad_import_writes_nothing_and_names_every_bad_cell(app, client, pools):
    client.get("/auth/lang/en")  # column labels in English, whatever the catalogue holds
    login(client, "office_d1")
    rows = [
        ["好基地", "示范社区", "C111", "", "", 30, "", "13800001111", "", "是"],  # 2: fine
        ["", "示范社区", "C111", "", "", "", "", "", "", ""],  # 3: no name
        ["坏类型", "博物馆", "C112", "", "", "很多", "", "123", "", "也许"],  # 4: type, capacity, phone, active
        ["别区基地", "主题街区", "C211", "", "", "", "", "", "", ""],  # 5: outside D1
        ["无编码", "其他", "NOPE", "", "", 0, "", "", "", ""],  # 6: unknown code, capacity 0
        ["好基地", "其他", "C111", "", "", "", "", "", "", ""],  # 7: same as row 2
        ["长" * 201, "其他", "", "", "", "", "", "", "", ""],  # 8: too long, no code
    ]
    before = count(app, TrainingBase)
    r = upload(client, "/library/bases/import", xlsx(BASE_HEADER, rows))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nothing was imported" in html
    assert count(app, TrainingBase) == before
    cells = error_cells(html)
    assert (3, "Base name") in cells
    assert {(4, "Base type"), (4, "Capacity"), (4, "Contact phone"), (4, "Active")} <= cells
    assert (5, "Org unit code") in cells
    assert {(6, "Org unit code"), (6, "Capacity")} <= cells
    assert (7, "Base name") in cells
    assert {(8, "Base name"), (8, "Org unit code")} <= cells
    assert 2 not in {row for row, _c in cells}
    assert "outside your area" in html and "already appears in row 2" in html


def test_unreadable_files_and_missing_columns_are_refused(app, client):
    login(client, "office_c")
    before = count(app, Institution)
    for data, name in ((b"PK\x03\x04broken", "x.xlsx"), (b"\xd0\xcf\x11\xe0old", "x.xls"), (b"", "x.csv"),
                       (xlsx(["地址"], [["某地"]]), "x.xlsx")):
        r = upload(client, "/library/institutions/import", data, name)
        assert r.status_code == 200 and "alert-danger" in r.get_data(as_text=True), name
    assert count(app, Institution) == before


def test_import_checks_accounts_and_duplicates_by_name(app, client, pools):
    client.get("/auth/lang/en")
    login(client, "office_c")
    rows = [
        ["甲", "实务讲师", "", "单位甲", "", "", "", "worker_a", "", ""],     # 2: not a trainer account
        ["乙", "实务讲师", "", "单位乙", "", "", "", "trainer", "", ""],      # 3: already linked to 王五
        ["丙", "实务讲师", "", "单位丙", "", "", "", "ghost", "", ""],        # 4: no such account
        ["王五", "专家", "", "市研究中心", "", "", "", "", "", ""],          # 5: an update: fine
        ["丁", "实务讲师", "", "", "", "", "ZZZ", "", "", ""],               # 6: unknown org unit
    ]
    r = upload(client, "/library/trainers/import", xlsx(TRAINER_HEADER, rows))
    cells = error_cells(r.get_data(as_text=True))
    assert cells == {(2, "Account"), (3, "Account"), (4, "Account"), (6, "Org unit code")}


def test_institutions_import_updates_by_name(app, client, pools):
    login(client, "admin")
    header = ["名称", "院校类型", "合作方式", "地址", "联系人", "联系电话", "简介", "是否在库"]
    rows = [["东方大学", "高校", "课程共建、实习基地", "", "", "", "", ""],
            ["西部党校", "党校", "轮训", "西路1号", "吴老师", "13899990000", "党校。", "是"]]
    r = upload(client, "/library/institutions/import", xlsx(header, rows))
    assert r.status_code == 302
    assert count(app, Institution) == 2
    with app.app_context():
        east = db.session.get(Institution, pools["inst"])
        assert east.cooperation == "课程共建、实习基地" and east.contact_name == "孙老师"
        assert db.session.scalar(select(Institution.kind).where(Institution.name == "西部党校")) == "party_school"


def _export(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_export_holds_the_filtered_rows_and_imports_back(app, client, pools):
    login(client, "office_d1")
    header, rows = _export(client, "/library/bases/export.xlsx")
    template = load_workbook(io.BytesIO(client.get("/library/bases/import/template.xlsx").data)).worksheets[0]
    assert list(header) == [c.value for c in template[1]]
    assert sorted(r[0] for r in rows) == ["东一一示范社区", "西一主题街区"]
    east = next(r for r in rows if r[0] == "东一一示范社区")
    assert east[2] == "C111" and east[5] == 40 and east[7] == "13833334444"
    _h, rows = _export(client, "/library/bases/export.xlsx?type=theme_street")
    assert [r[0] for r in rows] == ["西一主题街区"]
    header, rows = _export(client, "/library/trainers/export.xlsx?status=active")
    assert sorted(r[0] for r in rows) == ["张三", "王五"]
    wang = next(r for r in rows if r[0] == "王五")
    assert "trainer" in wang
    # The export of every pool imports back unchanged (an admin may touch every base).
    client = as_user(app, "admin")
    for kind in KINDS:
        before = count(app, MODELS[kind])
        r = client.get(f"/library/{kind}/export.xlsx")
        r = upload(client, f"/library/{kind}/import", r.data)
        assert r.status_code == 302, (kind, r.get_data(as_text=True)[:3000])
        assert count(app, MODELS[kind]) == before, kind
    with app.app_context():
        assert db.session.get(Trainer, pools["li"]).active is False
        assert db.session.get(Trainer, pools["wang"]).user.username == "trainer"


# ----- demo data -------------------------------------------------------------------------------

def test_seed_library_builds_a_city_library_and_is_idempotent(app, ctx):
    from lms.demo import seed_demo
    from lms.library.demo import seed_library

    seed_demo(workers=0)
    counts = {kind: db.session.scalar(select(func.count()).select_from(model)) for kind, model in MODELS.items()}
    assert counts["trainers"] >= 14 and counts["bases"] >= 8 and counts["experts"] >= 6
    assert counts["institutions"] >= 5 and counts["textbooks"] >= 6
    seed_library()
    seed_library()
    assert {
        kind: db.session.scalar(select(func.count()).select_from(model)) for kind, model in MODELS.items()
    } == counts
    wang = db.session.scalar(select(Trainer).where(Trainer.name == "王晓梅"))
    assert wang.user.username == "trainer_wangxm" and wang.kind == "practitioner"
    assert db.session.scalar(select(Trainer.kind).where(Trainer.name == "陈志远")) == "college"
    linked = db.session.scalar(select(func.count()).select_from(Trainer).where(Trainer.user_id.is_not(None)))
    assert linked == 8
    assert set(db.session.scalars(select(Textbook.series).distinct())) == {"development", "governance", "service"}
    base_units = set(
        db.session.scalars(select(OrgUnit.code).join(TrainingBase, TrainingBase.org_unit_id == OrgUnit.id))
    )
    assert "QH0101" in base_units and "QH01" in base_units
    assert len({k for k in db.session.scalars(select(TrainingBase.kind))}) >= 3
