"""题库: the shipped YAML bank, GIFT/Aiken/Excel interchange, the bank pages and who may see them."""
import io
import re
import shutil
from html.parser import HTMLParser

from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select

from lms.exams.bank import question_data
from lms.exams.bank_io import SHIPPED_BANK, import_bank
from lms.exams.grading import grade
from lms.exams.interchange import parse_gift
from lms.exams.models import ExamSubject, Question
from lms.extensions import db
from lms.tabular import ImportReport

from .conftest import csrf_token, login, post_form

OBJECTIVE_SUBJECTS = ("junior-general", "junior-practice", "mid-general", "mid-law")


# --------------------------------------------------------------------------------------------- helpers

def load_bank(app, path=SHIPPED_BANK):
    with app.app_context():
        result = import_bank(path)
        assert result.ok, result.problems[:5]
        db.session.commit()
        return result


def count(app, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Question).where(*where))


def get_question(app, external_id):
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.external_id == external_id))
        if q is None:
            return None
        data = question_data(q)
        data.update(id=q.id, status=q.status, subject=q.subject.code, parent_id=q.parent_id,
                    created_by=q.created_by.username if q.created_by else None)
        return data


def subject_id(app, code):
    with app.app_context():
        return db.session.scalar(select(ExamSubject.id).where(ExamSubject.code == code))


def upload(client, fmt, text_or_bytes, *, subject="junior-general", topic="个案工作", filename=None,
           use_file_topics=False):
    app = client.application
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    form = {"fmt": fmt, "subject_id": str(subject_id(app, subject)), "topic": topic,
            "file": (io.BytesIO(data), filename or {"gift": "q.gift.txt", "aiken": "q.txt", "xlsx": "q.xlsx"}[fmt])}
    if use_file_topics:
        form["use_file_topics"] = "y"
    return post_form(client, "/exams/import", form, content_type="multipart/form-data")


def error_rows(html: str) -> list[tuple[int, str, str]]:
    assert 'id="import-errors"' in html, "no error table"
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return [(int(r), w, m) for r, w, m in re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)]


class _FormParser(HTMLParser):
    """The values a browser would submit from one form (first option of a select, checked boxes)."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.setdefault(a["name"], []).append(a.get("value", "y"))
            elif a.get("type") not in ("submit", "file"):
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self.values.setdefault(self._select, None)
        elif tag == "option" and self._select:
            if self.values[self._select] is None or "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            if not self.values[self._textarea]:  # browsers drop the newline that follows <textarea>
                data = data[2:] if data.startswith("\r\n") else data[1:] if data.startswith("\n") else data
            self.values[self._textarea] += data


def form_values(html, form_id="question-form") -> dict:
    parser = _FormParser(form_id)
    parser.feed(html)
    return {k: v for k, v in parser.values.items() if v is not None}


def submit(client, url, changes=None, form_id="question-form"):
    """GET the page, change some fields, POST the form like a browser."""
    values = form_values(client.get(url).get_data(as_text=True), form_id)
    values.update(changes or {})
    return client.post(url, data={k: v for k, v in values.items() if v is not None})


# --------------------------------------------------------------------------------------------- the shipped bank

def test_the_shipped_bank_imports_fast_and_whole(app, ctx):
    result = import_bank(SHIPPED_BANK)
    assert result.ok, result.problems[:5]
    assert result.counts.created >= 500 and result.counts.created == result.questions
    total = db.session.scalar(select(func.count()).select_from(Question).where(Question.parent_id.is_(None)))
    assert total >= 500
    for code in OBJECTIVE_SUBJECTS:  # enough for a 60 单选 + 20 多选 paper in every objective subject
        rows = dict(db.session.execute(
            select(Question.type, func.count()).join(Question.subject)
            .where(ExamSubject.code == code, Question.status == "active", Question.parent_id.is_(None))
            .group_by(Question.type)).all())
        assert rows.get("single", 0) >= 60 and rows.get("multiple", 0) >= 20, (code, rows)
    laws = db.session.scalars(select(Question).join(Question.subject).where(ExamSubject.code == "mid-law")).all()
    assert laws and all(q.law and q.law_in_force for q in laws)
    case = db.session.scalar(select(Question).where(Question.external_id == "mp-community-001"))
    assert case.type == "case" and [p.position for p in case.parts] == [1, 2, 3]
    assert case.points == sum(p.points for p in case.parts) == 20
    assert case.parts[2].type == "multiple" and case.parts[2].answer == ["A", "B", "D"]
    assert case.parts[0].external_id == "mp-community-001#1" and case.parts[0].reference
    ethics = db.session.scalar(select(Question).where(Question.external_id == "jg-ethics-001"))
    assert ethics.answer == ["B"] and [o["key"] for o in ethics.options] == list("ABCD") and ethics.source == "原创"
    assert ethics.stem.endswith("（  ）。") and ethics.status == "active"


def test_reimporting_changes_nothing_with_a_handful_of_queries(app, ctx):
    import_bank(SHIPPED_BANK)
    db.session.flush()
    stamps = dict(db.session.execute(select(Question.external_id, Question.updated_at)).all())
    before = len(stamps)
    queries = []

    def on_execute(conn, cursor, statement, *args):
        queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        result = import_bank(SHIPPED_BANK)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert result.ok
    assert (result.counts.created, result.counts.updated) == (0, 0) and result.counts.unchanged == result.questions
    assert len(queries) < 20, f"{len(queries)} queries: load the existing questions in bulk"
    assert dict(db.session.execute(select(Question.external_id, Question.updated_at)).all()) == stamps
    assert len(stamps) == before


def _small_bank(tmp_path):
    root = tmp_path / "bank"
    for folder, name in (("junior-general", "ethics.yaml"), ("mid-law", "labor.yaml"),
                         ("mid-practice", "community.yaml")):
        (root / folder).mkdir(parents=True)
        shutil.copy(SHIPPED_BANK / folder / name, root / folder / name)
    shutil.copy(SHIPPED_BANK / "README.md", root / "README.md")
    return root


def _line_of(path, needle, start=1):
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(needle)


def test_a_bad_bank_imports_nothing_and_names_every_file_and_line(app, ctx, tmp_path):
    root = _small_bank(tmp_path)
    ethics, labor, community = (root / "junior-general/ethics.yaml", root / "mid-law/labor.yaml",
                                root / "mid-practice/community.yaml")
    text = ethics.read_text("utf-8")
    text = text.replace("    answer: B\n", "    answer: E\n", 1)                      # single: E is not an option
    text = text.replace("  - id: jg-ethics-003\n    type: single\n    difficulty: 1\n",
                        "  - id: jg-ethics-003\n    type: single\n    difficulty: 5\n    explaination: x\n", 1)
    ethics.write_text(text, "utf-8")
    text = labor.read_text("utf-8")
    text = text.replace("id: ml-labor-003", "id: ml-labor-002", 1)                 # duplicate id
    labor.write_text(text.replace("    law_in_force: 2013-07-01\n", "", 1), "utf-8")  # law date missing
    community.write_text(community.read_text("utf-8").replace("        answer: ABD\n", "        answer: ABCDE\n", 1),
                         "utf-8")
    (root / "junior-general" / "broken.yaml").write_text(
        "subject: 社会工作综合能力(初级)\ntopic: 坏文件\nquestions:\n  - id: jg-broken-1\n    stem: [oops\n", "utf-8")
    (root / "nowhere").mkdir()
    (root / "nowhere" / "x.yaml").write_text("subject: 无\ntopic: x\nquestions: []\n", "utf-8")

    result = import_bank(root)
    assert not result.ok
    found = {(p.file, p.line) for p in result.problems}
    expected = {
        ("bank/junior-general/ethics.yaml", _line_of(ethics, "answer: E")),
        ("bank/junior-general/ethics.yaml", _line_of(ethics, "difficulty: 5")),
        ("bank/junior-general/ethics.yaml", _line_of(ethics, "explaination")),
        ("bank/mid-law/labor.yaml", _line_of(labor, "id: ml-labor-002", _line_of(labor, "id: ml-labor-002") + 1)),
        ("bank/mid-law/labor.yaml", _line_of(labor, "id: ml-labor-001")),  # the question without its date
        ("bank/mid-practice/community.yaml", _line_of(community, "answer: ABCDE")),
        ("bank/junior-general/broken.yaml", 6),
        ("bank/nowhere/x.yaml", 1),
    }
    assert expected <= found, sorted(found)
    assert len(result.problems) == len(expected)
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0  # nothing written


def test_reimport_updates_in_place_and_keeps_removed_questions(app, ctx, tmp_path):
    root = _small_bank(tmp_path)
    assert import_bank(root).ok
    ethics = root / "junior-general/ethics.yaml"
    text = ethics.read_text("utf-8")
    text = text.replace("最恰当的做法是", "最合适的做法是", 1)                          # jg-ethics-001 changes
    start = text.index("  - id: jg-ethics-002")
    end = text.index("  - id: jg-ethics-003")
    ethics.write_text(text[:start] + text[end:], "utf-8")                            # jg-ethics-002 removed
    before = db.session.scalar(select(func.count()).select_from(Question))
    result = import_bank(root)
    assert result.ok and (result.counts.created, result.counts.updated) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(Question)) == before
    q1 = db.session.scalar(select(Question).where(Question.external_id == "jg-ethics-001"))
    assert "最合适的做法是" in q1.stem
    assert db.session.scalar(select(Question).where(Question.external_id == "jg-ethics-002")) is not None


def test_a_status_set_on_the_site_survives_a_reimport(app, ctx, tmp_path):
    root = _small_bank(tmp_path)
    import_bank(root)
    q = db.session.scalar(select(Question).where(Question.external_id == "ml-labor-001"))
    q.status = "retired"  # an office retired it after the law changed
    db.session.flush()
    assert import_bank(root).counts.updated == 0
    assert q.status == "retired"


def test_the_cli_command_imports_and_refuses_a_bad_bank(app, tx, tmp_path):
    root = _small_bank(tmp_path)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["import-questions", str(root)])
    assert out.exit_code == 0, out.output
    assert count(app, Question.parent_id.is_(None)) > 10
    labor = root / "mid-law/labor.yaml"
    labor.write_text(labor.read_text("utf-8").replace("    difficulty: 1\n", "    difficulty: 9\n", 1), "utf-8")
    out = runner.invoke(args=["import-questions", str(root)])
    assert out.exit_code == 1
    assert f"bank/mid-law/labor.yaml:{_line_of(labor, 'difficulty: 9')}:" in out.output


def test_seed_demo_loads_the_bank(app, ctx):
    from lms.demo import seed_demo

    seed_demo()
    assert db.session.scalar(select(func.count()).select_from(Question)) >= 500


# --------------------------------------------------------------------------------------------- GIFT

GIFT_ALL = """// Every GIFT feature the importer supports.
// Comment lines like these are ignored.
$CATEGORY: $course$/top/社会工作价值观与专业伦理

::伦理-1::[markdown]独居老人坚持居家养老，社会工作者**最恰当**的做法是（  ）。{
\t=尊重老人的选择，并链接居家服务#对：尊重自决
\t~联系子女强制送养老院#错：侵犯自主
\t~停止服务
\t~替老人签字
\t####老人意识清楚，应尊重其自决权。
}

// multiple choice with weights, escapes and a title
::多选题::下列属于社会工作专业价值观的有（  ）\\: 请选两项 {
\t~%50%尊重 \\{服务对象\\}
\t~%50%接纳
\t~%-100%评判 a\\=b
\t~%-100%控制 \\~ 强迫
\t~%-100%歧视 \\# 标签 \\\\ 反斜杠
}

保密原则有例外情形。{T#回答错误：保护生命优先#回答正确####保密不是绝对的}

社会工作者可以与服务对象发展恋爱关系。{FALSE}

小组工作只适用于儿童。{F}

社区服务需要居民参与。{TRUE}

$CATEGORY: $course$/top/社会工作价值观与专业伦理/社区工作

请论述社会工作者
在社区治理中的角色。{
####参考：使能者、资源链接者、倡导者}

社区治理的主体是{=多元主体 ~居委会 ~街道办 ~物业公司}共同参与。
"""


def test_a_gift_file_with_every_feature_imports_right(app, client):
    login(client, "trainer")
    before = count(app)
    r = upload(client, "gift", GIFT_ALL, subject="junior-general", topic="社会工作理论", use_file_topics=True)
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    assert count(app) == before + 8
    with app.app_context():
        rows = db.session.scalars(select(Question).where(Question.id > 0).order_by(Question.id.desc()).limit(8)).all()
        qs = {q.stem: q for q in rows}
        assert {q.status for q in rows} == {"draft"} and {q.subject.code for q in rows} == {"junior-general"}
        assert {q.created_by.username for q in rows} == {"trainer"}
        single = qs["独居老人坚持居家养老，社会工作者**最恰当**的做法是（  ）。"]
        assert single.type == "single" and single.answer == ["A"] and single.topic == "社会工作价值观与专业伦理"
        assert [o["text"] for o in single.options] == [
            "尊重老人的选择，并链接居家服务",
            "联系子女强制送养老院",
            "停止服务",
            "替老人签字",
        ]
        assert (
            single.explanation.startswith("老人意识清楚，应尊重其自决权。") and "A. 对：尊重自决" in single.explanation
        )
        assert single.external_id != "伦理-1"  # a foreign title is not an id
        multiple = qs["下列属于社会工作专业价值观的有（  ）: 请选两项"]
        assert multiple.type == "multiple" and multiple.answer == ["A", "B"]
        assert [o["text"] for o in multiple.options] == ["尊重 {服务对象}", "接纳", "评判 a=b", "控制 ~ 强迫",
                                                         "歧视 # 标签 \\ 反斜杠"]
        tf = qs["保密原则有例外情形。"]
        assert tf.type == "judge" and tf.answer is True and tf.options == []
        assert tf.explanation.startswith("保密不是绝对的") and "回答正确" in tf.explanation
        assert qs["社会工作者可以与服务对象发展恋爱关系。"].answer is False
        assert qs["小组工作只适用于儿童。"].answer is False
        assert qs["社区服务需要居民参与。"].answer is True
        essay = qs["请论述社会工作者\n在社区治理中的角色。"]
        assert (
            essay.type == "essay" and essay.topic == "社区工作"
            and essay.explanation == "参考：使能者、资源链接者、倡导者"
        )
        blank = qs["社区治理的主体是_____共同参与。"]
        assert blank.type == "single" and blank.answer == ["A"] and blank.topic == "社区工作"


def test_without_file_topics_everything_goes_into_the_chosen_topic(app, client):
    login(client, "trainer")
    assert upload(client, "gift", GIFT_ALL, subject="mid-general", topic="社会工作理论").status_code == 302
    with app.app_context():
        topics = set(db.session.scalars(select(Question.topic).join(Question.subject)
                                        .where(ExamSubject.code == "mid-general")))
    assert topics == {"社会工作理论"}


GIFT_BAD = """::ok::好题目{=A ~B ~C ~D}

::weight::权重写错{
\t~%abc%甲 ~%50%乙 ~%50%丙 ~丁 ~戊
}

::match::配对题{=甲->一 =乙->二}

::open::缺右括号{=A ~B ~C ~D

::two::两个等号{=A =B ~C ~D}

::short::简答{=答案}

::count::九个选项{=A ~B ~C ~D ~E ~F ~G ~H ~I}
"""


def test_a_gift_file_with_bad_questions_imports_nothing_and_names_the_lines(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    before = count(app)
    r = upload(client, "gift", GIFT_BAD)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and count(app) == before
    assert "Nothing was imported" in html
    errors = error_rows(html)
    lines = [row for row, _w, _m in errors]
    assert lines == [4, 7, 9, 11, 13, 15], errors
    messages = dict((row, m) for row, _w, m in errors)
    assert "weight" in messages[4] and "Matching" in messages[7] and "{" in messages[9]
    assert "=" in messages[11] and "Short-answer" in messages[13] and "2 to 8 options" in messages[15]
    assert ("15", "count") in {(str(r), w) for r, w, _m in errors}


def test_gift_export_reimports_to_the_same_questions(app, client):
    load_bank(app, SHIPPED_BANK / "junior-general")
    load_bank(app, SHIPPED_BANK / "mid-practice")
    login(client, "trainer")
    for code in ("junior-general", "mid-practice"):
        r = client.get(f"/exams/export.gift?subject={code}&status=active")
        assert r.status_code == 200 and r.mimetype == "text/plain"
        assert "attachment" in r.headers["Content-Disposition"]
        text = r.get_data(as_text=True)
        assert "%-100%" in text or code == "mid-practice"
        report = ImportReport()
        items = parse_gift(text, report)
        assert report.ok, report.errors[:3]
        with app.app_context():
            bank = {q.external_id: question_data(q) for q in db.session.scalars(
                select(Question).join(Question.subject).where(ExamSubject.code == code, Question.parent_id.is_(None)))}
        cases = [k for k, v in bank.items() if v["type"] == "case"]
        assert len(items) == len(bank) - len(cases)  # cases cannot be written in GIFT
        for item in items:
            original = bank[item.external_id]
            assert item.topic == original["topic"]
            for key, value in item.data.items():
                assert value == original[key], (item.external_id, key)
            for key in ("type", "stem", "options", "answer", "explanation", "difficulty"):
                assert key in item.data
        # Importing the export changes nothing: same ids, same content, still active.
        before = count(app)
        topic = {"junior-general": "个案工作", "mid-practice": "老年社会工作"}[code]
        r = upload(client, "gift", text, subject=code, topic=topic)
        assert r.status_code == 302
        assert count(app) == before
        with app.app_context():
            statuses = set(db.session.scalars(select(Question.status).join(Question.subject)
                                              .where(ExamSubject.code == code)))
        assert statuses == {"active"}


def test_an_imported_change_to_an_active_question_needs_approval_again(app, client):
    load_bank(app, SHIPPED_BANK / "junior-general")
    login(client, "trainer")
    text = client.get("/exams/export.gift?subject=junior-general").get_data(as_text=True)
    text = text.replace("社会工作者小陈服务的一位独居老人", "社会工作者小李服务的一位独居老人", 1)
    assert upload(client, "gift", text).status_code == 302
    q = get_question(app, "jg-ethics-001")
    assert "小李" in q["stem"] and q["status"] == "draft" and q["topic"] == "社会工作价值观与专业伦理"
    assert get_question(app, "jg-ethics-002")["status"] == "active"


# --------------------------------------------------------------------------------------------- Aiken

AIKEN_GOOD = """社会工作者在服务中最应当坚持的是（  ）。
A. 服务对象利益优先
B) 机构利益优先
C、个人利益优先
D．领导意见优先
ANSWER: A

下列属于小组工作模式的有（  ）。
第二段说明。
A. 社会目标模式
B. 治疗模式
C. 交互模式
D. 危机介入模式
E. 发展性模式
ANSWER: ABC
"""


def test_aiken_imports(app, client):
    login(client, "trainer")
    before = count(app)
    assert upload(client, "aiken", AIKEN_GOOD).status_code == 302
    assert count(app) == before + 2
    with app.app_context():
        rows = db.session.scalars(select(Question).order_by(Question.id.desc()).limit(2)).all()
    multiple, single = rows
    assert single.type == "single" and single.answer == ["A"] and single.options[3]["text"] == "领导意见优先"
    assert multiple.type == "multiple" and multiple.answer == ["A", "B", "C"]
    assert multiple.stem == "下列属于小组工作模式的有（  ）。\n第二段说明。" and single.topic == "个案工作"


AIKEN_BAD = """第一题（  ）。
A. 甲
B. 乙
C. 丙
D. 丁
ANSWER: F

A. 没有题干的选项
ANSWER: A

第三题（  ）。
A. 甲
C. 丙
B. 乙
D. 丁
ANSWER: A

第四题没有答案行（  ）。
A. 甲
B. 乙
C. 丙
D. 丁
"""


def test_bad_aiken_imports_nothing_and_names_the_lines(app, client):
    login(client, "trainer")
    before = count(app)
    html = upload(client, "aiken", AIKEN_BAD).get_data(as_text=True)
    assert count(app) == before
    lines = [row for row, _w, _m in error_rows(html)]
    assert lines == [6, 8, 13, 14, 18], lines


# --------------------------------------------------------------------------------------------- Excel

def test_the_excel_template_round_trips(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    r = client.get("/exams/import/template.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    header = [c.value for c in wb.worksheets[0][1]]
    assert header[:5] == ["ID", "Question type", "Difficulty", "Topic", "Stem"] and "Answer" in header
    assert wb.sheetnames == ["Questions", "How to fill in", "Options"] and wb.worksheets[0].max_row == 2  # + example
    ws = wb.worksheets[0]
    col = {h: i for i, h in enumerate(header)}

    def row(**values):
        cells = [None] * len(header)
        for key, value in values.items():
            cells[col[key.replace("_", " ")]] = value
        ws.append(cells)

    opts = {"Option_A": "甲", "Option_B": "乙", "Option_C": "丙", "Option_D": "丁"}
    row(
        ID="xl-001",
        Question_type="单选",
        Difficulty=1,
        Stem="单选题干（  ）。",
        **opts,
        Answer="C",
        Explanation="因为丙。",
    )
    row(Question_type="multiple", Stem="多选题干（  ）。", **opts, Option_E="戊", Answer="A,B,E", Topic="社区工作方法")
    row(Question_type="判断", Stem="判断题干。", Answer="错")
    row(
        Question_type="论述",
        Stem="论述题干。",
        Points=20,
        Marking_points="1. 要点（10分）\n2. 要点（10分）",
        Difficulty=3,
    )
    buf = io.BytesIO()
    wb.save(buf)
    before = count(app)
    r = upload(client, "xlsx", buf.getvalue(), topic="小组工作", use_file_topics=True)
    assert r.status_code == 302, error_rows(r.get_data(as_text=True))
    assert count(app) == before + 4
    single = get_question(app, "xl-001")
    assert single["type"] == "single" and single["answer"] == ["C"] and single["difficulty"] == 1
    assert single["explanation"] == "因为丙。" and single["topic"] == "小组工作" and single["status"] == "draft"
    with app.app_context():
        rows = {q.type: q for q in db.session.scalars(select(Question).order_by(Question.id.desc()).limit(4))}
        assert rows["multiple"].answer == ["A", "B", "E"] and rows["multiple"].topic == "社区工作"  # an alias
        assert rows["judge"].answer is False
        assert (
            rows["essay"].points == 20
            and rows["essay"].reference.startswith("1. 要点")
            and rows["essay"].difficulty == 3
        )
    # The same file again: the row with an ID is unchanged, the others come in again as new drafts.
    upload(client, "xlsx", buf.getvalue(), topic="小组工作")
    assert count(app) == before + 7


def test_chinese_excel_headers_are_understood_in_any_language(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    wb = Workbook()
    wb.active.append(["题型", "难度", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析"])
    wb.active.append(["单选题", "易", "中文表头（  ）。", "甲", "乙", "丙", "丁", "D", "丁对。"])
    buf = io.BytesIO()
    wb.save(buf)
    before = count(app)
    assert upload(client, "xlsx", buf.getvalue()).status_code == 302
    assert count(app) == before + 1


def test_a_bad_excel_row_imports_nothing(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    wb = load_workbook(io.BytesIO(client.get("/exams/import/template.xlsx").data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]

    def row(**values):
        ws.append([values.get(h.replace(" ", "_")) for h in header])

    abcd = {"Option_A": "甲", "Option_B": "乙", "Option_C": "丙", "Option_D": "丁"}
    row(Question_type="单选", Difficulty=1, Stem="好题（  ）。", **abcd, Answer="B")
    row(Question_type="单选", Difficulty=7, Stem="坏题（  ）。", **abcd | {"Option_D": None}, Answer="E")
    row(Question_type="填空", Difficulty=1, Stem="未知题型")
    row(ID="bad id!", Question_type="判断", Difficulty=1, Stem="判断题。", Answer="也许")
    buf = io.BytesIO()
    wb.save(buf)
    before = count(app)
    html = upload(client, "xlsx", buf.getvalue()).get_data(as_text=True)
    assert count(app) == before
    errors = error_rows(html)
    rows = [row for row, _w, _m in errors]
    # row 2 is the template's example row: skipped, so never reported
    assert 2 not in rows and 3 not in rows and {4, 5, 6} <= set(rows)
    assert {(4, "Difficulty"), (5, "Question type"), (6, "Answer")} <= {(r, w) for r, w, _m in errors}


# --------------------------------------------------------------------------------------------- pages and roles

def _some_question_ids(app):
    with app.app_context():
        single = db.session.scalar(select(Question).where(Question.external_id == "jg-ethics-001"))
        return single.id, single.explanation


def test_learners_get_403_on_every_bank_page_and_never_see_an_answer(app, client):
    load_bank(app, SHIPPED_BANK / "junior-general")
    qid, explanation = _some_question_ids(app)
    login(client, "worker_a")
    secret = explanation[:30]
    token = csrf_token(client, "/home")
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("exams."):
            url = rule.build({"question_id": qid, "qtype": "single"}, append_unknown=False)[1]
            for method in sorted(rule.methods & {"GET", "POST"}):
                r = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                assert r.status_code == 403, (method, url, r.status_code)
                assert secret not in r.get_data(as_text=True)
    # Every other page a learner can open without parameters shows no answer either.
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.endpoint.startswith(("static", "auth.logout")):
            try:
                r = client.get(rule.rule)
            except Exception:  # other features' pages are not this test's business
                continue
            body = r.get_data()  # bytes: a page, or a file such as /favicon.ico
            assert secret.encode() not in body, rule.rule
            assert b"jg-ethics-001" not in body, rule.rule
    anonymous = app.test_client()
    assert anonymous.get(f"/exams/questions/{qid}").status_code == 302


def test_staff_see_the_bank_with_answers(app, client):
    load_bank(app, SHIPPED_BANK / "junior-general")
    qid, explanation = _some_question_ids(app)
    for username in ("trainer", "office_d1", "admin"):
        c = app.test_client()
        login(c, username)
        html = c.get("/exams/").get_data(as_text=True)
        assert "jg-ethics-001" in html
        html = c.get(f"/exams/questions/{qid}").get_data(as_text=True)
        assert explanation[:30] in html and '<span class="answer">B</span>' in html
    login(client, "trainer")
    html = client.get(f"/exams/?subject={subject_id(app, 'junior-general')}&type=multiple&difficulty=2&q=社会"
                      ).get_data(as_text=True)
    rows = re.findall(r'<td class="text-nowrap small">([^<]+)</td>', html)
    assert rows and all(r.startswith("jg-") for r in rows)
    with app.app_context():
        expected = db.session.scalar(select(func.count()).select_from(Question).where(
            Question.type == "multiple", Question.difficulty == 2, Question.stem.contains("社会"),
            Question.parent_id.is_(None)))
    assert len(rows) == expected


def test_a_trainer_writes_a_single_choice_question_and_an_office_approves_it(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    url = "/exams/questions/new/single"
    r = submit(client, url, {"subject_id": str(subject_id(app, "junior-general")), "topic": "个案工作",
                             "stem": "自编题干（  ）。", "option_a": "甲", "option_b": "乙", "option_c": "",
                             "option_d": "丁", "answer_single": "B", "explanation": "乙对。"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Option C has no text." in html  # nothing saved, the field says why
    r = submit(client, url, {"subject_id": str(subject_id(app, "junior-general")), "topic": "个案工作",
                             "stem": "自编题干（  ）。", "option_a": "甲", "option_b": "乙", "option_c": "丙",
                             "option_d": "丁", "answer_single": "B", "explanation": "乙对。"})
    assert r.status_code == 302
    qid = int(r.location.rstrip("/").split("/")[-1])
    with app.app_context():
        q = db.session.get(Question, qid)
        assert (q.status, q.answer, q.created_by.username, q.topic) == ("draft", ["B"], "trainer", "个案工作")
        assert q.external_id.startswith("junior-general-")
    # The trainer may not approve.
    assert post_form(client, f"/exams/questions/{qid}/status", {"action": "approve"},
                     page=f"/exams/questions/{qid}").status_code == 403
    office = app.test_client()
    login(office, "office_d1")
    r = post_form(office, f"/exams/questions/{qid}/status", {"action": "approve"}, page=f"/exams/questions/{qid}")
    assert r.status_code == 302 and get_question(app, q.external_id)["status"] == "active"
    # A trainer's later edit sends it back for approval.
    r = submit(client, f"/exams/questions/{qid}/edit", {"stem": "改过的题干（  ）。"})
    assert r.status_code == 302
    data = get_question(app, q.external_id)
    assert data["stem"] == "改过的题干（  ）。" and data["status"] == "draft" and data["answer"] == ["B"]
    # An office edit of an active question keeps it active; retire and reopen.
    post_form(office, f"/exams/questions/{qid}/status", {"action": "approve"}, page=f"/exams/questions/{qid}")
    assert submit(office, f"/exams/questions/{qid}/edit", {"difficulty": "3"}).status_code == 302
    assert get_question(app, q.external_id)["status"] == "active"
    post_form(office, f"/exams/questions/{qid}/status", {"action": "retire"}, page=f"/exams/questions/{qid}")
    assert get_question(app, q.external_id)["status"] == "retired"
    post_form(office, f"/exams/questions/{qid}/status", {"action": "reopen"}, page=f"/exams/questions/{qid}")
    assert get_question(app, q.external_id)["status"] == "draft"


def test_an_incomplete_draft_cannot_be_approved(app, client):
    login(client, "trainer")
    upload(client, "aiken", AIKEN_GOOD)  # Aiken has no explanations
    with app.app_context():
        qid = db.session.scalar(select(Question.id).order_by(Question.id.desc()).limit(1))
    office = app.test_client()
    office.get("/auth/lang/en")
    login(office, "office_c")
    r = post_form(office, f"/exams/questions/{qid}/status", {"action": "approve"}, page=f"/exams/questions/{qid}")
    html = office.get(r.location).get_data(as_text=True)
    assert "cannot be approved" in html and "explanation is missing" in html
    with app.app_context():
        assert db.session.get(Question, qid).status == "draft"


def test_every_type_can_be_written_on_the_site(app, client):
    login(client, "trainer")
    common = {"subject_id": str(subject_id(app, "mid-practice")), "topic": "老年社会工作", "explanation": "解析。"}
    cases = {
        "multiple": {"stem": "多选（  ）。", **{f"option_{k}": k.upper() * 2 for k in "abcde"},
                     "answer_multiple": ["A", "C"]},
        "judge": {"stem": "判断。", "answer_judge": "false"},
        "essay": {"stem": "论述。", "points": "20", "reference": "要点。"},
    }
    for qtype, fields in cases.items():
        r = submit(client, f"/exams/questions/new/{qtype}", {**common, **fields})
        assert r.status_code == 302, (qtype, r.get_data(as_text=True)[-2000:])
    with app.app_context():
        made = {q.type: q for q in db.session.scalars(select(Question).where(Question.topic == "老年社会工作"))}
        assert made["multiple"].answer == ["A", "C"] and len(made["multiple"].options) == 5
        assert made["judge"].answer is False and made["essay"].points == 20


def test_a_case_with_parts_is_written_edited_and_graded(app, client):
    login(client, "trainer")
    url = "/exams/questions/new/case"
    html = client.get(url).get_data(as_text=True)
    assert 'name="parts-0-stem"' in html and 'name="parts-1-stem"' not in html
    values = form_values(html)
    values.update({"subject_id": str(subject_id(app, "mid-practice")), "topic": "社区社会工作与社区治理",
                   "stem": "案例正文。",
                   "explanation": "考查要点。", "parts-0-type": "essay", "parts-0-stem": "分析问题。",
                   "parts-0-points": "6", "parts-0-reference": "1. 要点（6分）", "add_part": "1"})
    r = client.post(url, data=values)  # "Add a part" keeps what was typed and adds an empty part
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="parts-1-stem"' in html and "分析问题。" in html
    values = form_values(html)
    values.update({"parts-1-type": "multiple", "parts-1-stem": "正确的有（  ）。", "parts-1-points": "4",
                   "parts-1-option_a": "甲", "parts-1-option_b": "乙", "parts-1-option_c": "丙",
                   "parts-1-option_d": "丁", "parts-1-option_e": "戊", "parts-1-answer": "ABD"})
    r = client.post(url, data=values)
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    qid = int(r.location.rstrip("/").split("/")[-1])
    with app.app_context():
        case = db.session.get(Question, qid)
        assert case.type == "case" and case.points == 10 and [p.type for p in case.parts] == ["essay", "multiple"]
        assert case.parts[1].external_id == f"{case.external_id}#2" and case.parts[1].answer == ["A", "B", "D"]
        assert case.parts[0].parent_id == case.id and case.parts[1].subject_id == case.subject_id
        assert grade(case, {1: "……", 2: "ABD"}) is None  # the essay part needs marking
        assert grade(case.parts[1], "AB") == 1
    html = client.get(f"/exams/questions/{qid}").get_data(as_text=True)
    assert "分析问题。" in html and "要点（6分）" in html and html.count('class="card mb-3 part"') == 2
    # Edit: remove the essay part, the case's points follow.
    r = submit(client, f"/exams/questions/{qid}/edit", {"parts-0-remove": ["y"]})
    assert r.status_code == 302
    with app.app_context():
        case = db.session.get(Question, qid)
        assert [p.type for p in case.parts] == ["multiple"] and case.points == 4
        assert db.session.scalar(select(func.count()).select_from(Question).where(Question.parent_id == qid)) == 1


def test_shipped_case_questions_show_their_parts(app, client):
    load_bank(app, SHIPPED_BANK / "mid-practice")
    case = get_question(app, "mp-community-001")
    part = get_question(app, "mp-community-001#3")
    assert part["parent_id"] == case["id"] and len(case["parts"]) == 3
    login(client, "trainer")
    html = client.get(f"/exams/questions/{case['id']}").get_data(as_text=True)
    assert html.count('class="card mb-3 part"') == 3 and '<span class="answer">ABD</span>' in html
    assert client.get(f"/exams/questions/{part['id']}").location.endswith(f"/exams/questions/{case['id']}")


def test_markup_in_questions_renders_inert(app, client):
    login(client, "trainer")
    evil = '<script>alert("stem")</script><img src=x onerror="alert(1)"> **粗体** [x](javascript:alert(2))'
    r = submit(client, "/exams/questions/new/single", {
        "subject_id": str(subject_id(app, "junior-general")), "topic": "个案工作",
        "stem": evil, "option_a": '<b onmouseover="alert(3)">甲</b>', "option_b": "乙", "option_c": "丙",
        "option_d": "丁", "answer_single": "A", "explanation": "<iframe src=//evil.example></iframe>解析"})
    assert r.status_code == 302
    for url in (r.location, "/exams/?q=粗体"):
        html = client.get(url).get_data(as_text=True)
        for bad in ("<script>alert", "onerror=", "<b onmouseover", "<iframe", "javascript:alert"):
            assert bad not in html, (url, bad)
    html = client.get(r.location).get_data(as_text=True)
    assert "<strong>粗体</strong>" in html and "&lt;b onmouseover" in html


def test_the_markdown_fields_have_a_live_preview(app, client):
    login(client, "trainer")
    html = client.get("/exams/questions/new/case").get_data(as_text=True)
    for name in ("stem", "explanation", "parts-0-stem", "parts-0-reference"):
        assert f'data-preview="#preview-{name}"' in html and f'id="preview-{name}"' in html
