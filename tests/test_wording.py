"""Labels a Chinese user would stumble on (issue 14, point 6), read through HTTP in Chinese.
(The workforce profile's snapshot wording: tests/test_stats.py, test_profile_without_history_says_so.)"""
import re
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def _select(html: str, name: str) -> str:
    m = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert m, f"no select named {name}"
    return m.group(0)


def _first_option(select: str) -> str:
    return re.search(r"<option[^>]*>([^<]*)</option>", select).group(1)


def test_the_training_level_filters_read_all_levels_not_all_difficulties(client, world):
    login(client, "office_c")
    assert _first_option(_select(client.get("/training/").get_data(as_text=True), "level")) == "全部层级"
    html = client.get(f"/stats/unit/{world['C']}").get_data(as_text=True)
    assert _first_option(_select(html, "level")) == "全部层级"
    # The course catalogue's level is a difficulty, and says so.
    assert _first_option(_select(client.get("/learn/").get_data(as_text=True), "level")) == "全部难度"


def test_the_org_tree_names_its_columns_name_and_number_of_accounts(client):
    login(client, "admin")
    html = client.get("/orgs/").get_data(as_text=True)
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    columns = re.findall(r"<th>([^<]*)</th>", head)
    assert columns[:4] == ["名称", "编码", "层级", "账号数"], columns
    assert "姓名" not in head and "账号管理" not in head
    form = client.get("/orgs/new").get_data(as_text=True)
    assert re.search(r'<label[^>]*for="name"[^>]*>名称</label>', form), "the unit form's name field"


def test_a_workers_statistics_header_names_her_role_not_her_units_level(client, world):
    login(client, "office_d1")
    html = client.get(f"/stats/worker/{world['worker_a']}").get_data(as_text=True)
    heading = re.sub(r"<[^>]+>|\s+", " ", re.search(r'id="stats-heading">(.*?)</h1>', html, re.S).group(1))
    assert "东一一甲" in heading and "社区工作者" in heading
    assert "社区/村" not in heading
    # …and its facts are written with full-width colons.
    facts = re.sub(r"\s+", " ", re.search(r'id="worker-profile">(.*?)</div>', html, re.S).group(1))
    assert "用户名：worker_a" in facts and "所属单位：" in facts and "职业水平：" in facts
    assert ": " not in facts


def test_chinese_text_uses_full_width_colons():
    """No ASCII colon after Chinese text in the catalogue, nor after a translated label in a template.
    (A colon of a syntax the user types, e.g. "ANSWER: B" or "Authorization: Bearer", follows Latin text.)"""
    catalogue = read_po(CATALOGUE.open("rb"))
    bad = [m.string for m in catalogue if m.id and isinstance(m.string, str)
           and re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]:(?!//)", m.string)]
    assert not bad, bad
    templates = []
    for path in (ROOT / "lms/templates").rglob("*.html"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"_\([^()]*\)\s*\}\}\s*:|_\([^()]*\)\s*\}\}</strong>\s*:", line):
                templates.append(f"{path.relative_to(ROOT)}:{n}")
    assert not templates, templates
