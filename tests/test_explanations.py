"""Explanations name the options the candidate saw, whatever the shuffle (DESIGN.md §4, issue 12.1).

The bank stores an explanation in its own letters; pages map every letter that names an option to
the letter of the candidate's paper (lms/exams/explain.py), and every way a question comes in
refuses a letter it cannot map (bank.letter_problems()).
"""
import io
import random
import re
import shutil
from html import unescape

from openpyxl import Workbook
from sqlalchemy import select

from lms.exams import assembly, bank
from lms.exams.bank_io import SHIPPED_BANK, import_bank
from lms.exams.explain import as_seen
from lms.exams.models import Attempt, Exam, ExamSubject, Question
from lms.extensions import db

from .conftest import login, post_form
from .test_exam_bank import error_rows, subject_id, submit, upload

LETTERS = "ABCDEFGH"
# A capital standing alone: what a reader takes for an option letter (the oracle below does not use
# the app's rule, only this plain reading of the text).
LONE = re.compile(r"(?<![A-Za-z0-9])[A-H](?![A-Za-z0-9])")


def _pieces(text: str):
    """(the text between lone capitals, [(letter, escaped)]) with the backslash escapes taken out."""
    letters, segments, pos = [], [], 0
    for m in LONE.finditer(text):
        escaped = m.start() > 0 and text[m.start() - 1] == "\\"
        segments.append(text[pos:m.start() - 1 if escaped else m.start()])
        letters.append((m.group(), escaped))
        pos = m.end()
    segments.append(text[pos:])
    return [re.sub(r"\\(?=[A-Z])", "", s) for s in segments], letters


def assert_names_the_same_options(original: str, shown: str, bank_options: dict, paper_options: dict, where=""):
    """Every letter of `shown` names the option (on the candidate's paper) with the content the
    same letter of `original` named in the bank; an escaped letter stays as written; the rest of
    the text is unchanged."""
    segments, letters = _pieces(original)
    shown_segments, shown_letters = _pieces(shown)
    assert shown_segments == segments, (where, original, shown)
    assert len(shown_letters) == len(letters), (where, original, shown)
    for (letter, escaped), (seen, _e) in zip(letters, shown_letters, strict=False):
        if escaped or letter not in bank_options:
            assert seen == letter, (where, original, shown)
        else:
            assert paper_options[seen] == bank_options[letter], (where, letter, seen, original, shown)


def permutations(options: list[dict]):
    """Five seeded shuffles as assembly makes them, and the reversed order: (options, key_map)."""
    q = {"options": options, "answer": []}
    for seed in range(5):
        shuffled, _answer, key_map = assembly._shuffled_options(q, random.Random(seed))
        yield shuffled, key_map
    backwards = list(reversed(options))
    yield ([{"key": LETTERS[i], "text": o["text"]} for i, o in enumerate(backwards)],
           {LETTERS[i]: o["key"] for i, o in enumerate(backwards)})


# --------------------------------------------------------------------------------------------- the whole shipped bank

def test_every_shipped_explanation_names_what_the_candidate_saw(ctx):
    result = import_bank(SHIPPED_BANK)
    assert result.ok, [str(p) for p in result.problems[:5]]  # the import check passes on the whole bank
    choice = db.session.scalars(select(Question).where(Question.type.in_(("single", "multiple")))).all()
    assert len(choice) >= 570
    citing = 0
    for q in choice:
        text = q.explanation or ""
        bank_options = {o["key"]: o["text"] for o in q.options}
        cites = any(not esc and letter in bank_options for letter, esc in _pieces(text)[1])
        citing += cites
        moved = 0
        for shuffled, key_map in permutations(q.options):
            paper_options = {o["key"]: o["text"] for o in shuffled}
            shown = as_seen(text, key_map)
            assert_names_the_same_options(text, shown, bank_options, paper_options, q.external_id)
            moved += shown != text.replace("\\", "")
        if cites:
            assert moved, q.external_id  # the check above really saw letters change
    assert citing >= 250, citing  # about half of the bank cites letters: the test is not vacuous


def test_a_paper_freezes_the_permutation_the_explanation_is_mapped_by(ctx):
    """The same, the way a result page gets it: from the items of real frozen papers."""
    import_bank(SHIPPED_BANK)
    exam = db.session.scalar(select(Exam).where(Exam.code == "junior-general"))
    originals = {q.id: q for q in db.session.scalars(select(Question).where(Question.subject_id == exam.subject_id))}
    changed = 0
    for seed in (1, 2, 3):
        paper = assembly.freeze(exam, seed)
        for item in paper["items"].values():
            if item["type"] not in ("single", "multiple"):
                continue
            q = originals[item["qid"]]
            bank_options = {o["key"]: o["text"] for o in q.options}
            paper_options = {o["key"]: o["text"] for o in item["options"]}
            shown = as_seen(item["explanation"], item["key_map"])
            assert_names_the_same_options(q.explanation, shown, bank_options, paper_options, q.external_id)
            assert {paper_options[k] for k in item["answer"]} == {bank_options[k] for k in q.answer}
            changed += shown != q.explanation
    assert changed > 50


def test_the_rule_in_examples():
    shuffle = {"A": "C", "B": "A", "C": "D", "D": "B"}  # shown → bank: the bank's C is shown as A …
    assert as_seen("C 既回应了事实，A 带有评判；B、D 不对。", shuffle) == "A 既回应了事实，B 带有评判；D、C 不对。"
    assert as_seen("故选ACD。", {"A": "B", "B": "A", "C": "C", "D": "E", "E": "D"}) == "故选BCE。"  # a set, sorted
    assert as_seen("Ｃ正确（全角）", shuffle) == "Ａ正确（全角）"
    assert as_seen("\\B超检查不是选项，B 才是。", shuffle) == "B超检查不是选项，D 才是。"
    assert as_seen("SWOT、X理论、ABAB 设计、5A级、care 都不是选项。", shuffle) == \
        "SWOT、X理论、ABAB 设计、5A级、care 都不是选项。"
    assert as_seen("\\ABC理论：B 对", None) == "ABC理论：B 对"  # the bank's order: only escapes go


# --------------------------------------------------------------------------------------------- every way in refuses

def _options(n=4):
    return [{"key": k, "text": f"选项内容{k}"} for k in LETTERS[:n]]


def test_the_one_check_refuses_what_it_cannot_map(app, ctx):
    def problems(explanation, qtype="single", n=4):
        data = {"type": qtype, "difficulty": 1, "stem": "题干", "options": _options(n),
                "answer": ["B"] if qtype == "single" else ["A", "B"], "explanation": explanation}
        return [m for path, m in bank.check_question(data) if path == ("explanation",)]

    assert problems("B 正确；A、C、D 错误。") == []
    assert problems("故选AB，\\ABC理论另当别论；E 也错", "multiple", 5) == []
    unknown = problems("B 正确；E 错误。")
    assert len(unknown) == 1 and "E" in unknown[0] and "A、B、C、D" in unknown[0] and "B 正确；E 错误" in unknown[0]
    assert "选项" in unknown[0]  # in the user's language (Chinese by default)
    ambiguous = problems("依据ABC理论，B 正确。")
    assert len(ambiguous) == 1 and "“ABC”" in ambiguous[0] and "A、B、C" in ambiguous[0] and "\\ABC" in ambiguous[0]
    assert len(problems("A-C 都不对，D 当选。")) == 1
    assert len(problems("A～C 都不对，D 当选。")) == 1
    # The letters come from the question's own options: with 8, H is one; I never is.
    assert (
        bank.letter_problems({"type": "single", "options": _options(8), "explanation": "H 正确；I 型不是选项。"}) == []
    )
    assert len(bank.letter_problems({"type": "single", "options": _options(2), "explanation": "B 正确；C 错误。"})) == 1
    # A case's own explanation may not cite its parts' options (each part is shuffled on its own),
    # and a choice part's explanation is checked against the part's options.
    case = {"type": "case", "difficulty": 2, "stem": "案例", "explanation": "第2问答案为B。",
            "parts": [{"type": "essay", "stem": "分析", "points": 10, "reference": "要点"},
                      {"type": "single", "stem": "选择", "points": 2, "options": _options(), "answer": ["B"],
                       "explanation": "E 错误"}]}
    paths = {path for path, _m in bank.check_question(case)}
    assert ("explanation",) in paths and ("parts", 1, "explanation") in paths


def test_the_yaml_bank_refuses_an_unmappable_letter_with_its_file_and_line(app, ctx, tmp_path):
    root = tmp_path / "bank"
    (root / "junior-general").mkdir(parents=True)
    shutil.copy(SHIPPED_BANK / "README.md", root / "README.md")
    question = """  - id: {id}
    type: single
    difficulty: 1
    stem: 题干（  ）。
    options:
      A: 甲
      B: 乙
      C: 丙
      D: 丁
    answer: B
    explanation: |
      {explanation}
"""
    body = "".join(
        question.format(id=f"t-letters-{i}", explanation=e)
        for i, e in enumerate(
            [
                "乙正确，B 当选；E 也不对。",
                "依据ABC理论，B 当选。",
                "A-C 都不对，D 当选。",
                "\\B超不是选项；Ｂ 当选，故选B。",
            ]
        )
    )
    (root / "junior-general" / "letters.yaml").write_text(
        f"subject: 社会工作综合能力(初级)\ntopic: 社会工作理论\nquestions:\n{body}", "utf-8")
    result = import_bank(root)
    lines = (root / "junior-general" / "letters.yaml").read_text("utf-8").splitlines()
    explanation_lines = [n for n, line in enumerate(lines, start=1) if line.strip() == "explanation: |"]
    assert [(p.file, p.line) for p in result.problems] == [("bank/junior-general/letters.yaml", n)
                                                           for n in explanation_lines[:3]]
    assert "E" in result.problems[0].message and "ABC" in result.problems[1].message
    assert "A-C" in result.problems[2].message
    assert db.session.scalar(select(Question.id).where(Question.external_id.like("t-letters-%"))) is None


GIFT = """::g-ok::下列做法正确的是（  ）。{
=尊重自决#A 尊重了服务对象
~替人决定#B 替服务对象作了决定
~回避问题
~转介了事
####A 正确；C、D 都没有回应服务对象。
}

::g-bad::下列做法正确的是（  ）。{
=尊重自决
~替人决定
~回避问题
~转介了事
####A 正确；E 也不对。
}
"""


def test_gift_and_excel_imports_refuse_an_unmappable_letter(app, client):
    login(client, "trainer")
    r = upload(client, "gift", GIFT)
    rows = error_rows(r.get_data(as_text=True))
    assert [(row, where) for row, where, _m in rows] == [(9, "g-bad")]
    assert "E" in rows[0][2] and "A、B、C、D" in unescape(rows[0][2])
    assert upload(client, "gift", GIFT.split("\n\n")[0] + "\n").status_code == 302  # the good one alone imports
    with app.app_context():
        q = db.session.scalar(select(Question).where(Question.stem == "下列做法正确的是（  ）。"))
        assert "A 正确" in q.explanation and "A. A 尊重了服务对象" in q.explanation

    wb = Workbook()
    wb.active.append(["题型", "难度", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析"])
    wb.active.append(["单选题", "易", "表格题一（  ）。", "甲", "乙", "丙", "丁", "D", "D 正确；A、B、C 不对。"])
    wb.active.append(["单选题", "易", "表格题二（  ）。", "甲", "乙", "丙", "丁", "D", "依据ABC理论，D 正确。"])
    buf = io.BytesIO()
    wb.save(buf)
    rows = error_rows(upload(client, "xlsx", buf.getvalue()).get_data(as_text=True))
    assert [(row, where) for row, where, _m in rows] == [(3, "解析")] and "ABC" in rows[0][2]


def test_the_editor_refuses_an_unmappable_letter_under_the_explanation(app, client):
    login(client, "trainer")
    url = "/exams/questions/new/single"
    fields = {"subject_id": str(subject_id(app, "junior-general")), "topic": "个案工作", "stem": "自编题干（  ）。",
              "option_a": "甲", "option_b": "乙", "option_c": "丙", "option_d": "丁", "answer_single": "B"}
    r = submit(client, url, fields | {"explanation": "B 正确；E 项错误。"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    field = html.split('id="explanation"', 1)[1].split("</textarea>", 1)[1].split('class="form-text"', 1)[0]
    assert "invalid-feedback" in field and "E" in field and "A、B、C、D" in field
    r = submit(client, url, fields | {"explanation": "B 正确；A、C、D 错误。"})
    assert r.status_code == 302


def test_gift_export_writes_the_banks_letters(app, client):
    login(client, "trainer")
    with app.app_context():
        subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
        bank.create_question({"type": "single", "difficulty": 1, "stem": "导出题（  ）。", "options": _options(),
                              "answer": ["C"], "explanation": "C 正确；\\B超不是选项；A、B、D 错误。",
                              "topic": "导出", "status": "active"}, subject, external_id="t-export-1")
        db.session.commit()
    text = client.get("/exams/export.gift?subject=junior-general&status=all").get_data(as_text=True)
    line = next(line for line in text.splitlines() if line.startswith("\t####"))
    assert line == "\t####C 正确；\\\\B超不是选项；A、B、D 错误。"
    r = upload(client, "gift", text)  # and it comes back unchanged
    assert r.status_code == 302


# --------------------------------------------------------------------------------------------- what the candidate sees

def _make_exam(app):
    """Five single and three multiple choice questions whose explanations cite letters, and a small exam."""
    with app.app_context():
        subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
        for i in range(5):
            bank.create_question(
                {
                    "type": "single",
                    "difficulty": 2,
                    "topic": "字母",
                    "status": "active",
                    "stem": f"单选{i}（  ）。",
                    "options": [{"key": k, "text": f"{w}{i}"} for k, w in zip("ABCD", "甲乙丙丁", strict=False)],
                    "answer": ["B"],
                    "explanation": f"B 正确（乙{i}）；A、C、D 错误。",
                },
                subject,
            )
        for i in range(3):
            bank.create_question(
                {
                    "type": "multiple",
                    "difficulty": 2,
                    "topic": "字母",
                    "status": "active",
                    "stem": f"多选{i}（  ）。",
                    "options": [{"key": k, "text": f"{w}{i}"} for k, w in zip("ABCDE", "甲乙丙丁戊", strict=False)],
                    "answer": ["A", "C", "D"],
                    "explanation": "故选ACD。B、E 错误。",
                },
                subject,
            )
        exam = Exam(code="t-letters", name="字母小测", subject=subject, duration_minutes=30, pass_score=6,
                    sections=[{"type": "single", "count": 5, "points": 1},
                              {"type": "multiple", "count": 3, "points": 2, "partial_points": 0.5}])
        db.session.add(exam)
        db.session.commit()
        return exam.id, subject.id


CARD = re.compile(r'id="result-([\d.]+)".*?<ul class="list-unstyled[^"]*">(.*?)</ul>.*?class="right-answer">([^<]*)<'
                  r'.*?class="alert alert-light markdown mb-1 explanation">(.*?)</div>', re.S)
OPTION = re.compile(r"<li[^>]*>\s*([A-H])\. ([^<]*?)\s*<")  # an option's text, before any mark beside it


def _check_agreement(options: dict, right: str, explanation: str, kind: str):
    """On one page: the right answer, the explanation and the options listed say the same thing."""
    texts = {options[k] for k in right}
    if kind == "single":
        cited = re.search(r"([A-D]) 正确", explanation).group(1)
        assert cited == right and options[cited].startswith("乙")
        assert {options[k][0] for k in re.search(r"；([A-D、]+) 错误", explanation).group(1).split("、")} == set(
            "甲丙丁"
        )
    else:
        assert re.search(r"故选([A-E]+)。", explanation).group(1) == right
        assert {t[0] for t in texts} == set("甲丙丁")
        assert {options[k][0] for k in re.search(r"([A-E、]+) 错误", explanation).group(1).split("、")} == set("乙戊")


def test_result_page_practice_and_mistakes_book_agree_with_the_paper(app, client):
    exam_id, sid = _make_exam(app)
    login(client, "worker_a")
    r = post_form(client, f"/mock/exams/{exam_id}/start", page="/mock/")
    attempt_id = int(r.location.rstrip("/").split("/")[-1])
    take = client.get(f"/mock/attempts/{attempt_id}").get_data(as_text=True)
    assert "正确" not in take and "故选" not in take  # no explanation before submission (DESIGN §4)
    with app.app_context():
        paper = db.session.get(Attempt, attempt_id).paper
    items = {k: v for k, v in paper["items"].items() if v["type"] in ("single", "multiple")}
    assert any(list(i["key_map"].items()) != [(k, k) for k in i["key_map"]] for i in items.values())
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/home").get_data(as_text=True))
    wrong = {k: ("A" if i["type"] == "single" and i["answer"] != ["A"] else
                 "C" if i["type"] == "single" else next(x for x in "ABCDE" if x not in i["answer"]))
             for k, i in items.items()}
    batch = [{"item": k, "response": v, "seq": 1} for k, v in wrong.items()]
    assert client.post(f"/mock/attempts/{attempt_id}/answers", json={"answers": batch},
                       headers={"X-CSRFToken": token.group(1)}).status_code == 200
    post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")

    page = client.get(f"/mock/attempts/{attempt_id}/result").get_data(as_text=True)
    cards = {k: (dict(OPTION.findall(ul)), right, unescape(re.sub(r"<[^>]+>", "", expl)))
             for k, ul, right, expl in CARD.findall(page)}
    assert set(cards) == set(items)
    for key, (options, right, explanation) in cards.items():
        item = items[key]
        assert options == {o["key"]: o["text"] for o in item["options"]}  # the options as the candidate saw them
        assert right == "".join(item["answer"])
        _check_agreement(options, right, explanation, item["type"])

    # The mistakes book holds all eight; practising from it, feedback and explanation agree too.
    mistakes = client.get("/mock/mistakes").get_data(as_text=True)
    assert re.search(r'<td>字母</td>\s*<td class="text-end in-book">8</td>', mistakes)
    for _round in range(4):
        url = f"/mock/practice?source=mistakes&subject={sid}"
        page = client.get(url).get_data(as_text=True)
        qid = int(re.search(r'name="question" value="(\d+)"', page).group(1))
        assert "正确" not in page.split('id="practice-form"', 1)[1]
        r = post_form(client, "/mock/practice", {"question": qid, "choice": "E", "source": "mistakes",
                                                 "subject": sid}, page=url)
        html = r.get_data(as_text=True)
        feedback = html.split('id="practice-feedback"', 1)[1]
        right = re.search(r"：([A-E]+)\s*</div>", feedback) or re.search(r"：\s*([A-E]+)", feedback)
        options = dict(OPTION.findall(feedback.split("</ul>", 1)[0]))
        explanation = unescape(re.sub(r"<[^>]+>", "", feedback.split('class="markdown explanation">', 1)[1]
                                      .split("</div>", 1)[0]))
        kind = "single" if len(options) == 4 else "multiple"
        _check_agreement(options, right.group(1), explanation, kind)
