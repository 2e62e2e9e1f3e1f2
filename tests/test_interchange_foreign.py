"""Questions from other systems (issue 12, point 8): choice questions with 2 to 8 options, GIFT as
Moodle writes it (format tags, the missing-word form), and `flask import-questions` for single files.
The exam's papers still take only questions with the blueprint's number of options."""
import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from lms.exams import assembly, practice
from lms.exams.bank import check_question
from lms.exams.interchange import parse_gift
from lms.exams.models import Exam, ExamSubject, Mistake, Question
from lms.extensions import db
from lms.markdown import render_markdown
from lms.tabular import ImportReport

from .conftest import login, post_form
from .test_exam_bank import count, error_rows, form_values, subject_id, submit, upload
from .test_mock_exams import make_bank, save_http, start_http, subject, worker

FOREIGN_GIFT = Path(__file__).parent / "data" / "foreign_questions.gift"


def by_stem(app, start):
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.stem.startswith(start)))
        assert q is not None, start
        return {"id": q.id, "type": q.type, "stem": q.stem, "options": q.options, "answer": q.answer,
                "explanation": q.explanation, "topic": q.topic, "status": q.status}


def texts(q):
    return [o["text"] for o in q["options"]]


# --------------------------------------------------------------------------------------------- GIFT

def test_a_moodle_shaped_gift_file_imports_every_question(app, client):
    login(client, "trainer")
    before = count(app)
    r = upload(client, "gift", FOREIGN_GIFT.read_bytes(), topic="个案工作", use_file_topics=True)
    assert r.status_code == 302, error_rows(r.get_data(as_text=True))
    assert count(app) == before + 17

    with app.app_context():
        rows = db.session.scalars(select(Question).order_by(Question.id.desc()).limit(17)).all()
        counts = sorted(len(q.options) for q in rows if q.type in ("single", "multiple"))
        stored = " ".join(f"{q.stem} {q.explanation} {q.options}" for q in rows)
    assert counts == [2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5, 6, 8]
    for tag in ("[html]", "[plain]", "[markdown]"):
        assert tag not in stored
    for unsafe in ("<script", "onerror", "alert("):
        assert unsafe not in stored  # [html] text is cleaned before it is stored

    three = by_stem(app, "社区居民议事会的召集人")
    assert three["type"] == "single" and texts(three) == ["物业服务企业", "辖区派出所", "社区居民委员会"]
    assert three["answer"] == ["C"] and three["status"] == "draft" and three["topic"] == "个案工作"

    # The missing-word form keeps the text around the blank as it was, spaces included.
    assert by_stem(app, "Residents meet")["stem"] == "Residents meet _____ in the community council."
    assert by_stem(app, "The council votes")["stem"] == "The council votes on the _____ item of the agenda."
    rule = by_stem(app, "居民议事会形成决议时")
    assert rule["stem"] == "居民议事会形成决议时，\n一般采用_____的方式。" and rule["topic"] == "社区工作"

    feedback = by_stem(app, "社区志愿者服务时长")
    assert feedback["explanation"] == "A. 不是唯一标准。\n\nB. 志愿服务不计报酬。\n\nC. 对：记录用于激励和回馈。"

    two_right = by_stem(app, "下列属于社区协商主体的有")
    assert two_right["type"] == "multiple" and len(two_right["options"]) == 4 and two_right["answer"] == ["B", "C"]
    assert by_stem(app, "下列做法符合社会工作保密原则的有")["answer"] == ["B", "C"]
    five = by_stem(app, "社区服务项目评估")
    assert five["type"] == "multiple" and len(five["options"]) == 5 and five["answer"] == ["A", "B", "C"]
    eight = by_stem(app, "下列属于社区公共服务设施的有")
    assert [o["key"] for o in eight["options"]] == list("ABCDEFGH") and eight["answer"] == ["A", "B"]

    assert texts(by_stem(app, "哪一项等于 5")) == ["= 2 + 2", "= 2 + 3", "= 2 + 4"]
    six = by_stem(app, "下列哪一个不是 GIFT 格式的控制字符")
    assert texts(six) == ["~", "=", "#", "{", "}", "\\"] and six["answer"] == ["F"]
    assert "F. 对！\\（反斜杠）本身不是控制字符" in six["explanation"]

    # Format tags are removed from the stem, the answers and the feedback, as Moodle does.
    md = by_stem(app, "社区**网格员**")
    assert md["stem"] == "社区**网格员**的主要职责是（  ）。"
    assert texts(md) == ["信息采集与*上报*", "执法 & 处罚"]  # options are plain text: the HTML's text
    assert "A. 网格员负责**信息采集**。" in md["explanation"] and "B. <p>网格员没有执法权。</p>" in md["explanation"]
    html = by_stem(app, "<p>社区服务站的")
    assert "<em>开放时间</em>" in html["stem"] and "<img" in html["stem"]
    assert html["explanation"] == "<p>公开透明，<b>便于居民办事</b>。</p>"
    plain = by_stem(app, "下列算式")
    shown = str(render_markdown(plain["stem"]))
    assert "2*3*4" in shown and "[方括号]" in shown and "&lt;b&gt;" in shown  # shown as written

    tf = by_stem(app, "社区居委会是基层群众性自治组织")
    assert (
        tf["type"] == "judge"
        and tf["answer"] is True
        and tf["explanation"] == "回答正确\n\n回答错误：居委会是自治组织。"
    )
    assert by_stem(app, "请说明社区工作者")["type"] == "essay"

    # The trainer's page shows the cleaned HTML question without anything that runs.
    page = client.get(f"/exams/questions/{html['id']}").get_data(as_text=True)
    assert "<em>开放时间</em>" in page and "onerror" not in page and 'alert("stem")' not in page


def test_choice_questions_have_2_to_8_options(app, ctx):
    def choice(qtype, n, answer):
        return {"type": qtype, "difficulty": 2, "stem": "题干", "answer": list(answer),
                "options": [{"key": k, "text": f"选项{k}"} for k in "ABCDEFGHI"[:n]]}

    for n in range(2, 9):
        assert check_question(choice("single", n, "B")) == [], n
    for n in range(3, 9):
        assert check_question(choice("multiple", n, "AB")) == [], n
    for bad in (choice("single", 1, "A"), choice("single", 9, "A"), choice("multiple", 9, "AB")):
        assert [p for p, _m in check_question(bad)] == [("options",)]
    assert [p for p, _m in check_question(choice("multiple", 2, "AB"))] == [("answer",)]    # no wrong option
    assert [p for p, _m in check_question(choice("multiple", 6, "ABCDEF"))] == [("answer",)]  # all right
    assert [p for p, _m in check_question(choice("multiple", 6, "C"))] == [("answer",)]       # one right
    assert [p for p, _m in check_question(choice("single", 3, "D"))] == [("answer",)]         # no option D
    gap = choice("single", 4, "A")
    gap["options"][2]["key"] = "E"
    assert [p for p, _m in check_question(gap)] == [("options",)]  # lettered A, B, E, D


def test_a_gift_question_with_partial_credit_on_one_answer_or_nine_options_is_refused(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    before = count(app)
    text = ("难题（  ）。{~错的 ~%50%一半对 =全对}\n\n"
            "九个选项（  ）。{=甲 ~乙 ~丙 ~丁 ~戊 ~己 ~庚 ~辛 ~壬}\n\n"
            "好题（  ）。{=甲 ~乙 ~丙}\n")
    html = upload(client, "gift", text).get_data(as_text=True)
    assert count(app) == before
    errors = error_rows(html)
    assert [row for row, _w, _m in errors] == [1, 3]
    assert "partly right" in errors[0][2] and "2 to 8 options" in errors[1][2]


# --------------------------------------------------------------------------------------------- papers

def _odd_items(code, topic, n=12):
    """Active questions with 3 and 6 options (single) and 3 and 6 options (multiple) in one topic."""
    s = subject(code)
    rows = []
    for i in range(n):
        k = 3 if i % 2 else 6
        letters = "ABCDEF"[:k]
        rows.append(Question(external_id=f"odd-{code}-s{i}", subject=s, topic=topic, type="single", difficulty=2,
                             stem=f"外来单选{i}（  ）。", status="active", explanation=f"外来解析{i}",
                             options=[{"key": x, "text": f"外来{x}{i}"} for x in letters], answer=[letters[-1]]))
        rows.append(Question(external_id=f"odd-{code}-m{i}", subject=s, topic=topic, type="multiple", difficulty=2,
                             stem=f"外来多选{i}（  ）。", status="active", explanation=f"外来多选解析{i}",
                             options=[{"key": x, "text": f"外来多{x}{i}"} for x in letters], answer=["A", "B"]))
    db.session.add_all(rows)
    db.session.flush()
    return {q.id for q in rows}


def test_official_papers_never_draw_a_3_or_6_option_question_while_practice_does(ctx):
    make_bank()  # 70 singles with 4 options, 25 multiples with 5
    odd = _odd_items("junior-general", "外来题目", n=30)
    exam = db.session.scalar(select(Exam).where(Exam.code == "junior-general"))
    assert [(s["type"], s["count"]) for s in exam.sections] == [("single", 60), ("multiple", 20)]
    drawn_odd = set()
    for seed in range(1, 41):
        paper = assembly.freeze(exam, seed)
        items = paper["items"]
        singles, multiples = (paper["sections"][0]["items"], paper["sections"][1]["items"])
        assert (len(singles), len(multiples)) == (60, 20)
        assert {len(items[k]["options"]) for k in singles} == {4}
        assert {len(items[k]["options"]) for k in multiples} == {5}
        drawn_odd |= {items[k]["qid"] for k in items} & odd
    assert not drawn_odd
    # Without enough questions that fit, the paper is refused rather than filled with ones that do not.
    for q in db.session.scalars(select(Question).where(Question.external_id.startswith("t-junior-general-s"))):
        if int(q.external_id.rsplit("s", 1)[1]) >= 30:
            q.status = "retired"
    db.session.flush()
    with pytest.raises(assembly.AssemblyError):
        assembly.freeze(exam, 1)
    # Practice draws them: a topic that only has them gives them, with all their options.
    user = worker()
    seen = {practice.next_question(user, exam.subject, "外来题目", "topic").id for _ in range(25)}
    assert seen <= odd and len(seen) > 5


def test_a_worker_practises_a_six_option_question_and_meets_it_in_the_mistakes_book(app, client):
    with app.app_context():
        _odd_items("mid-general", "外来题目", n=1)  # one single and one multiple, both with 6 options
        db.session.commit()
        sid = subject_id(app, "mid-general")
        qid = db.session.scalar(select(Question.id).where(Question.external_id == "odd-mid-general-m0"))
    login(client, "worker_a")
    url = f"/mock/practice?subject={sid}&topic=外来题目"
    page = ""
    for _ in range(40):
        page = client.get(url).get_data(as_text=True)
        if f'name="question" value="{qid}"' in page:
            break
    assert f'name="question" value="{qid}"' in page
    assert re.findall(r'name="choice" value="([A-H])"', page) == list("ABCDEF")
    assert "F. 外来多F0" in page
    r = post_form(client, "/mock/practice", {"question": qid, "choice": ["A", "F"], "subject": sid,
                                              "topic": "外来题目"}, page=url)
    html = r.get_data(as_text=True)
    assert 'id="practice-feedback"' in html and "：AB" in html and "F. 外来多F0" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Mistake).where(Mistake.question_id == qid)) == 1
    assert "外来题目" in client.get("/mock/mistakes").get_data(as_text=True)
    r = client.get("/mock/practice?source=mistakes&topic=外来题目")
    assert f'name="question" value="{qid}"' in r.get_data(as_text=True)


def test_a_paper_without_an_option_rule_takes_six_options_through_take_and_result(app, client):
    with app.app_context():
        _odd_items("mid-law", "外来题目", n=4)
        exam = Exam(code="practice-any", name="练习卷", subject=subject("mid-law"), duration_minutes=30,
                    pass_score=1, sections=[{"type": "single", "count": 4, "points": 1},
                                            {"type": "multiple", "count": 2, "points": 2, "partial_points": 0.5}])
        db.session.add(exam)
        db.session.commit()
        exam_id = exam.id
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    page = client.get(f"/mock/attempts/{attempt_id}").get_data(as_text=True)
    assert 'value="F"' in page and "外来解析" not in page
    with app.app_context():
        from lms.exams.models import Attempt
        paper = db.session.get(Attempt, attempt_id).paper
    six = next(k for k, it in paper["items"].items() if len(it["options"]) == 6 and it["type"] == "single")
    right = paper["items"][six]["answer"][0]
    assert save_http(client, attempt_id, six, right, 1).status_code == 200
    r = save_http(client, attempt_id, six, "G", 2)
    assert r.status_code != 200 or r.json.get("rejected")  # G is not an option of this question
    post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    result = client.get(f"/mock/attempts/{attempt_id}/result").get_data(as_text=True)
    block = result.split(f'id="result-{six}"', 1)[1].split('id="result-', 1)[0]
    assert (
        f'<span class="your-answer">{right}</span>' in block and f'<span class="right-answer">{right}</span>' in block
    )
    assert block.count("<li") == 6 and "外来解析" in block


# --------------------------------------------------------------------------------------------- editor, Excel, export

def test_the_editor_writes_and_shows_six_options(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    form_page = client.get("/exams/questions/new/single").get_data(as_text=True)
    assert 'name="option_h"' in form_page and "Mock exams draw only questions with 4 options" in form_page
    data = {"subject_id": str(subject_id(app, "junior-general")), "topic": "个案工作", "stem": "六选一（  ）。",
            "answer_single": "F", "explanation": "己对。"}
    data |= {f"option_{k}": t for k, t in zip("abcdef", "甲乙丙丁戊己", strict=False)}
    r = post_form(client, "/exams/questions/new/single", data)
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    qid = int(r.location.rstrip("/").split("/")[-1])
    with app.app_context():
        q = db.session.get(Question, qid)
        assert [o["text"] for o in q.options] == list("甲乙丙丁戊己") and q.answer == ["F"]
    edit = client.get(f"/exams/questions/{qid}/edit").get_data(as_text=True)
    values = form_values(edit)
    assert [values[f"option_{k}"] for k in "abcdefgh"] == [*"甲乙丙丁戊己", "", ""] and values["answer_single"] == "F"
    shown, folded = edit.split('id="options"', 1)[1].split("</fieldset>", 1)[0].split("<details", 1)
    assert 'name="option_f"' in shown and 'name="option_g"' in folded  # the filled ones are never folded away
    assert submit(client, f"/exams/questions/{qid}/edit", {"option_f": ""}).status_code == 200  # answer F is gone
    assert submit(client, f"/exams/questions/{qid}/edit", {"option_g": "庚"}).status_code == 302
    with app.app_context():
        assert len(db.session.get(Question, qid).options) == 7
    detail = client.get(f"/exams/questions/{qid}").get_data(as_text=True)
    assert "G. 庚" in detail and 'id="practice-only"' in detail and "this one has 7" in detail
    # A multiple-choice question with three options, two right.
    data = {"subject_id": str(subject_id(app, "junior-general")), "topic": "个案工作", "stem": "五选三（  ）。",
            "answer_multiple": ["A", "C", "E"], "explanation": "甲丙戊。"}
    data |= {f"option_{k}": t for k, t in zip("abcde", "甲乙丙丁戊", strict=False)}
    r = post_form(client, "/exams/questions/new/multiple", data)
    assert r.status_code == 302 and 'id="practice-only"' not in client.get(r.location).get_data(as_text=True)
    # A multiple-choice question with three options, two right.
    data = {
        "subject_id": str(subject_id(app, "junior-general")),
        "topic": "个案工作",
        "stem": "三选二（  ）。",
        "option_a": "甲",
        "option_b": "乙",
        "option_c": "丙",
        "answer_multiple": ["A", "C"],
        "explanation": "甲丙。",
    }
    assert post_form(client, "/exams/questions/new/multiple", data).status_code == 302


def test_excel_template_and_import_take_options_a_to_h_and_gift_export_round_trips(app, client):
    client.get("/auth/lang/en")
    login(client, "trainer")
    wb = load_workbook(io.BytesIO(client.get("/exams/import/template.xlsx").data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert [h for h in header if h.startswith("Option")] == [f"Option {k}" for k in "ABCDEFGH"]
    col = {h: i for i, h in enumerate(header)}
    cells = [None] * len(header)
    cells[col["ID"]], cells[col["Question type"]], cells[col["Stem"]] = "xl-six", "单选", "六个选项（  ）。"
    for k, t in zip("ABCDEF", "甲乙丙丁戊己", strict=False):
        cells[col[f"Option {k}"]] = t
    cells[col["Answer"]] = "F"
    ws.append(cells)
    cells = [None] * len(header)
    cells[col["Question type"]], cells[col["Stem"]], cells[col["Answer"]] = "多选", "两个选项的多选（  ）。", "AB"
    cells[col["Option A"]], cells[col["Option B"]] = "甲", "乙"
    ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    html = upload(client, "xlsx", buf.getvalue()).get_data(as_text=True)
    assert [(row, where) for row, where, _m in error_rows(html)] == [(4, "Answer")]  # 2 options: none wrong
    ws.delete_rows(4)
    buf = io.BytesIO()
    wb.save(buf)
    assert upload(client, "xlsx", buf.getvalue()).status_code == 302
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.external_id == "xl-six"))
        assert len(q.options) == 6 and q.answer == ["F"]
    text = client.get("/exams/export.gift?subject=junior-general&status=usable").get_data(as_text=True)
    report = ImportReport()
    item = next(i for i in parse_gift(text, report) if i.external_id == "xl-six")
    assert report.ok and [o["text"] for o in item.data["options"]] == list("甲乙丙丁戊己")
    assert item.data["answer"] == ["F"]


# --------------------------------------------------------------------------------------------- the command line

AIKEN_TEXT = """社区网格化管理的基本单元是（  ）。
A. 网格
B. 楼栋
C. 街道
ANSWER: A

下列属于社区社会组织的有（  ）。
A. 文体队伍
B. 志愿服务队
C. 上市公司
D. 外资银行
E. 邻里互助会
F. 跨国集团
ANSWER: ABE
"""


def _xlsx_bytes(app, rows):
    """A workbook whose header row names the columns by their keys (read in any language)."""
    header = ["id", "type", "difficulty", "topic", "stem", *"ABCDEFGH", "answer"]
    wb = Workbook()
    wb.active.append(header)
    for values in rows:
        wb.active.append([values.get(h) for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _total(app, code):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Question).join(Question.subject)
                                 .where(ExamSubject.code == code))


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["import-questions", *map(str, args)])


def test_the_cli_imports_gift_aiken_and_excel_files_into_a_subject(app, tx, tmp_path):
    before = _total(app, "mid-general")
    out = _run(app, FOREIGN_GIFT, "--subject", "mid-general", "--topic", "社区工作", "--file-topics")
    assert out.exit_code == 0, out.output
    assert re.search(r"\b17\b", out.output) and _total(app, "mid-general") == before + 17
    with app.app_context():
        topics = set(db.session.scalars(select(Question.topic).where(Question.stem.like("%议事%"))))
        statuses = set(db.session.scalars(select(Question.status).join(Question.subject)
                                          .where(ExamSubject.code == "mid-general")))
    assert "社区工作" in topics and statuses == {"draft"}

    aiken = tmp_path / "网格.txt"
    aiken.write_text(AIKEN_TEXT, "utf-8")
    before = _total(app, "junior-practice")
    out = _run(app, aiken, "--subject", "junior-practice", "--topic", "社区社会工作")
    assert out.exit_code == 0, out.output
    assert _total(app, "junior-practice") == before + 2
    with app.app_context():
        six = db.session.scalar(select(Question).where(Question.stem == "下列属于社区社会组织的有（  ）。"))
        assert six.topic == "社区社会工作" and len(six.options) == 6 and six.answer == ["A", "B", "E"]

    xlsx = tmp_path / "人民调解与信访.xlsx"
    xlsx.write_bytes(_xlsx_bytes(app, [
        {"id": "cli-xl-1", "type": "单选", "stem": "两个选项（  ）。", "A": "对", "B": "错", "answer": "A"},
        {"type": "判断", "stem": "社区是基层治理的基本单元。", "answer": "对"}]))
    before = _total(app, "mid-law")
    out = _run(app, xlsx, "--subject", "mid-law")
    assert out.exit_code == 0, out.output
    assert _total(app, "mid-law") == before + 2
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.external_id == "cli-xl-1"))
        assert q.topic == "人民调解与信访" and len(q.options) == 2  # the topic defaults to the file's name
    # Our own export's name (.gift.txt) is read as GIFT, not Aiken.
    exported = tmp_path / "mid-law-2026-12-07.gift.txt"
    exported.write_text("外来判断题。{T}\n", "utf-8")
    assert _run(app, exported, "--subject", "mid-law", "--topic", "人民调解与信访").exit_code == 0
    assert _total(app, "mid-law") == before + 3


def test_the_cli_imports_nothing_from_a_bad_file_and_says_where(app, tx, tmp_path):
    bad = tmp_path / "bad.gift"
    bad.write_text(
        "好题（  ）。{=甲 ~乙 ~丙}\n\n坏题（  ）。{=甲 ~乙\n\n九项（  ）。{=1 ~2 ~3 ~4 ~5 ~6 ~7 ~8 ~9}\n", "utf-8"
    )
    before = count(app)
    out = _run(app, bad, "--subject", "junior-general", "--topic", "个案工作")
    assert out.exit_code == 1
    assert count(app) == before  # the good question is not imported either
    assert f"{bad}:3:" in out.output and f"{bad}:5:" in out.output and f"{bad}:1:" not in out.output

    aiken = tmp_path / "bad.txt"
    aiken.write_text("第一题（  ）。\nA. 甲\nB. 乙\nANSWER: C\n", "utf-8")
    out = _run(app, aiken, "--subject", "junior-general", "--topic", "个案工作")
    assert out.exit_code == 1 and f"{aiken}:4:" in out.output and count(app) == before

    xlsx = tmp_path / "bad.xlsx"
    xlsx.write_bytes(_xlsx_bytes(app, [{"type": "单选", "stem": "好题。", "A": "甲", "B": "乙", "answer": "A"},
                                       {"type": "单选", "difficulty": "9", "stem": "坏题。", "A": "甲", "B": "乙",
                                        "answer": "B"}]))
    out = _run(app, xlsx, "--subject", "junior-general", "--topic", "个案工作")
    assert out.exit_code == 1 and f"{xlsx}:3:" in out.output and count(app) == before

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    out = _run(app, broken, "--subject", "junior-general", "--topic", "个案工作")
    assert out.exit_code == 1 and count(app) == before


def test_the_cli_says_what_is_missing_for_an_unknown_type_or_subject(app, tx, tmp_path):
    before = count(app)
    doc = tmp_path / "questions.docx"
    doc.write_bytes(b"PK")
    out = _run(app, doc, "--subject", "junior-general")
    assert out.exit_code == 2 and "questions.docx" in out.output and ".gift" in out.output
    out = _run(app, FOREIGN_GIFT)
    assert out.exit_code == 2 and "--subject" in out.output and "junior-general" in out.output
    out = _run(app, FOREIGN_GIFT, "--subject", "no-such-subject")
    assert out.exit_code == 2 and "no-such-subject" in out.output and "mid-law" in out.output
    assert count(app) == before
