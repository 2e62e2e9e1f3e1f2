"""Topics (知识点): one list per subject (question_bank/topics.yaml) without near-duplicates, kept by the
bank, the imports, the editor and the course quizzes; the pickers list the chosen subject's topics."""
import html
import importlib.util
import json
import re
import shutil
from pathlib import Path

import yaml
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select

from lms.exams import practice, topics
from lms.exams.bank_io import SHIPPED_BANK, import_bank
from lms.exams.models import Exam, ExamSubject, Question
from lms.extensions import db

from .conftest import login
from .test_exam_bank import count, error_rows, subject_id, submit, upload

MIGRATION = next((Path(__file__).parent.parent / "migrations" / "versions").glob("*_topics_one_name_per_chapter.py"))


def subject(code: str) -> ExamSubject:
    return db.session.scalar(select(ExamSubject).where(ExamSubject.code == code))


def _options(html_text: str, select_id: str) -> list[str]:
    """The option labels of one <select> of a page, in order."""
    block = html_text.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return [html.unescape(t) for t in re.findall(r"<option[^>]*>([^<]*)</option>", block)]


def _island(html_text: str) -> dict[str, list[str]]:
    block = html_text.split('id="topics-by-subject">', 1)[1].split("</script>", 1)[0]
    return json.loads(block)


# --- the list itself -----------------------------------------------------------------------------------------

def test_no_topic_of_a_subject_contains_another():
    vocabulary = topics.vocabulary()
    assert set(vocabulary) == {p.name for p in SHIPPED_BANK.iterdir() if p.is_dir()}
    for code, names in vocabulary.items():
        assert names and len(set(names)) == len(names), code
        assert topics.near_duplicates(names) == [], code
    # the check itself finds what it is for
    assert topics.near_duplicates(["个案工作", "小组工作", "个案工作方法"]) == [("个案工作", "个案工作方法")]


def test_the_shipped_bank_files_use_exactly_the_listed_topics_and_aliases_name_listed_ones():
    vocabulary = topics.vocabulary()
    for code, names in vocabulary.items():
        used = {yaml.safe_load(f.read_text("utf-8"))["topic"] for f in (SHIPPED_BANK / code).glob("*.yaml")}
        assert used == set(names), code
    doc = yaml.safe_load((SHIPPED_BANK / "topics.yaml").read_text("utf-8"))
    listed = {t for names in vocabulary.values() for t in names}
    for alias, name in doc["aliases"].items():
        assert name in listed and alias not in listed, alias
    # the shipped courses' quizzes name listed topics
    for course in (SHIPPED_BANK.parent / "courses").glob("*/course.md"):
        meta = yaml.safe_load(course.read_text("utf-8").split("---")[1])
        if meta.get("quiz"):
            assert set(meta["quiz"]["topics"]) <= listed, course


def test_resolve_takes_other_spellings_and_aliases_of_the_subjects_own_topics(ctx):
    jg, law = subject("junior-general"), subject("mid-law")
    assert topics.resolve(jg, " 个案工作 ") == "个案工作"
    assert topics.resolve(jg, "个案工作方法") == "个案工作"                      # an alias
    assert topics.resolve(law, "优抚安置(退役军人保障法)") == "优抚安置（退役军人保障法）"  # half-width brackets
    assert topics.resolve(jg, "儿童社会工作") is None                           # another subject's topic
    assert topics.resolve(law, "个案工作方法") is None                          # an alias counts in its own subjects
    message = topics.unknown_message(jg, "个案辅导")
    assert "个案辅导" in message and "“个案工作”" in message and "“社会工作研究”" in message


# --- the bank, the imports, the editor ------------------------------------------------------------------------

def test_the_yaml_bank_refuses_an_unknown_topic_and_maps_an_alias(ctx, tmp_path):
    root = tmp_path / "bank"
    (root / "junior-general").mkdir(parents=True)
    shutil.copy(SHIPPED_BANK / "README.md", root / "README.md")
    casework = (SHIPPED_BANK / "junior-general" / "casework.yaml").read_text("utf-8")
    target = root / "junior-general" / "casework.yaml"
    target.write_text(casework.replace("topic: 个案工作\n", "topic: 个案辅导技巧\n", 1), "utf-8")
    result = import_bank(root)
    assert [(p.file, p.line) for p in result.problems] == [("bank/junior-general/casework.yaml", 2)]
    assert "个案辅导技巧" in result.problems[0].message and "“个案工作”" in result.problems[0].message
    assert db.session.scalar(select(Question.id).where(Question.external_id.like("jg-case%"))) is None

    target.write_text(casework.replace("topic: 个案工作\n", "topic: 个案工作方法\n", 1), "utf-8")
    result = import_bank(root)
    assert result.ok, result.problems[:3]
    assert set(db.session.scalars(select(Question.topic).join(Question.subject)
                                  .where(ExamSubject.code == "junior-general"))) == {"个案工作"}


def test_the_editor_refuses_an_unknown_topic_under_the_field_and_takes_an_alias(app, client):
    login(client, "trainer")
    url = "/exams/questions/new/single"
    fields = {"subject_id": str(subject_id(app, "junior-general")), "stem": "题干（  ）。", "option_a": "甲",
              "option_b": "乙", "option_c": "丙", "option_d": "丁", "answer_single": "B", "explanation": "B 正确。"}
    r = submit(client, url, fields | {"topic": "<b>儿童社会工作</b>"})  # a topic of another subject
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    field = page.split('id="topic"', 1)[1].split('<div class="col-md-2">', 1)[0]
    assert "invalid-feedback" in field and "不是" in field and "“社会工作理论”" in field
    assert "&lt;b&gt;儿童社会工作&lt;/b&gt;" in field and "<b>儿童" not in page
    r = submit(client, url, fields | {"topic": "小组工作方法"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Question.topic).where(Question.stem == "题干（  ）。")) == "小组工作"


def test_the_editor_suggests_the_chosen_subjects_topics(app, client):
    login(client, "trainer")
    sid = subject_id(app, "mid-law")
    page = client.get(f"/exams/questions/new/single?subject={sid}").get_data(as_text=True)
    datalist = page.split('<datalist id="topic-options">', 1)[1].split("</datalist>", 1)[0]
    assert re.findall(r'<option value="([^"]*)">', datalist) == list(topics.vocabulary()["mid-law"])
    assert 'list="topic-options"' in page and 'data-topics-of="subject_id"' in page
    assert _island(page)[str(subject_id(app, "junior-general"))][:5] == list(topics.vocabulary()["junior-general"])[:5]


def test_the_site_import_refuses_an_unknown_topic_of_the_page_or_the_file(app, client):
    login(client, "trainer")
    before = count(app)
    r = upload(client, "aiken", "第一题（  ）。\nA. 甲\nB. 乙\nANSWER: A\n", topic="导入测试")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "导入测试" in page and "“个案工作”" in page
    gift = "$CATEGORY: $course$/top/网格化管理\n\n第一题（  ）。{=甲 ~乙}\n"
    rows = error_rows(upload(client, "gift", gift, use_file_topics=True).get_data(as_text=True))
    assert [(row, "网格化管理" in message) for row, _where, message in rows] == [(3, True)]
    assert count(app) == before
    gift = "$CATEGORY: $course$/top/社区工作方法\n\n第一题（  ）。{=甲 ~乙}\n"
    assert upload(client, "gift", gift, use_file_topics=True).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Question.topic).where(Question.stem == "第一题（  ）。")) == "社区工作"


# --- the pickers ---------------------------------------------------------------------------------------------

def _practice_bank(app) -> dict[str, int]:
    """Active single-choice questions in two topics of 初级 综合能力 (listed in the other order than their
    characters sort) and one of 中级 综合能力."""
    with app.app_context():
        for code, topic, n in (("junior-general", "个案工作", 2), ("junior-general", "社会工作理论", 2),
                               ("mid-general", "社会工作研究", 2), ("mid-practice", "老年社会工作", 0)):
            for i in range(n):
                db.session.add(Question(external_id=f"tp-{code}-{topic}-{i}", subject=subject(code), topic=topic,
                                        type="single", difficulty=2, stem=f"{topic}练习{i}（  ）。", status="active",
                                        options=[{"key": k, "text": k} for k in "ABCD"], answer=["A"]))
        db.session.add(Question(external_id="tp-draft", subject=subject("junior-general"), topic="社区工作",
                                type="single", difficulty=2, stem="草稿（  ）。", status="draft",
                                options=[{"key": k, "text": k} for k in "ABCD"], answer=["A"]))
        db.session.commit()
        return {code: subject(code).id for code in ("junior-general", "mid-general")}


def test_practice_lists_only_the_chosen_subjects_topics_in_the_subjects_order(app, client):
    ids = _practice_bank(app)
    login(client, "worker_a")
    page = client.get(f"/mock/practice?subject={ids['junior-general']}").get_data(as_text=True)
    assert _options(page, "topic")[1:] == ["社会工作理论", "个案工作"]  # the list's order; no draft-only topic
    page = client.get(f"/mock/practice?subject={ids['mid-general']}").get_data(as_text=True)
    assert _options(page, "topic")[1:] == ["社会工作研究"]
    page = client.get("/mock/practice").get_data(as_text=True)
    assert _options(page, "topic")[1:] == []  # no subject, no topics of every subject mixed
    island = _island(page)
    assert island[str(ids["junior-general"])] == ["社会工作理论", "个案工作"]
    assert island[str(ids["mid-general"])] == ["社会工作研究"]
    assert 'data-topics-of="subject"' in page and "js/topic_picker.js" in page


def test_practice_drops_a_topic_of_the_subject_chosen_before(app, client):
    ids = _practice_bank(app)
    login(client, "worker_a")
    # Without scripts: the subject changed, the topic still names one of the old subject's.
    page = client.get(f"/mock/practice?subject={ids['mid-general']}&topic=个案工作").get_data(as_text=True)
    assert "社会工作研究练习" in page and "selected" not in page.split('id="topic"', 1)[1].split("</select>")[0]
    page = client.get(f"/mock/practice?subject={ids['junior-general']}&topic=个案工作").get_data(as_text=True)
    assert "个案工作练习" in page and '<option value="个案工作" selected>' in page


def test_practice_topics_come_from_active_questions_practice_can_ask(ctx):
    s = subject("mid-practice")
    db.session.add(Question(external_id="tp-case", subject=s, topic="老年社会工作", type="essay", difficulty=2,
                            stem="论述。", status="active", points=20))
    db.session.flush()
    assert practice.topics_by_subject([s]) == {s.id: []}  # essays are not practised


def test_the_bank_filter_lists_only_the_chosen_subjects_topics(app, client):
    ids = _practice_bank(app)
    login(client, "office_d1")
    page = client.get(f"/exams/?subject={ids['mid-general']}").get_data(as_text=True)
    assert _options(page, "filter-topic")[1:] == list(topics.vocabulary()["mid-general"])
    assert "个案工作方法" not in page
    page = client.get("/exams/").get_data(as_text=True)
    assert _options(page, "filter-topic")[1:] == []
    assert _island(page)[str(ids["junior-general"])] == list(topics.vocabulary()["junior-general"])


# --- existing databases --------------------------------------------------------------------------------------

def test_the_migration_renames_the_near_duplicates_in_questions_and_course_quizzes(ctx):
    spec = importlib.util.spec_from_file_location("topics_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    jg, law = subject("junior-general"), subject("mid-law")
    old = Question(external_id="tp-old", subject=jg, topic="个案工作方法", type="judge", difficulty=2,
                   stem="旧名。", status="active", answer=True)
    other = Question(external_id="tp-law", subject=law, topic="社区工作方法", type="judge", difficulty=2,
                     stem="别的科目。", status="active", answer=True)
    quiz = Exam(code="tp-quiz", kind="course", name="测验", subject=jg, duration_minutes=10, pass_score=6,
                sections=[], topic_mix={"小组工作方法": 0.5}, difficulty_mix={}, topics=["个案工作方法", "个案工作"])
    db.session.add_all([old, other, quiz])
    db.session.flush()
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration.upgrade()
    db.session.expire_all()
    assert (old.topic, other.topic) == ("个案工作", "社区工作方法")  # mid-law has no such alias
    assert quiz.topics == ["个案工作"] and quiz.topic_mix == {"小组工作": 0.5}
