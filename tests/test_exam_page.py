"""The exam page a candidate expects (issue 14 point 2): an <h1>, an answer sheet with every
question, "标记" saved with the answer on the server, and a result page that marks the option the
candidate chose and filters to the wrong answers or one topic (query arguments, no JavaScript needed)."""
import re

import pytest

from lms.exams.models import Attempt
from lms.extensions import db

from .conftest import login, post_form
from .test_mock_exams import TOPICS, default_exam, make_bank, make_case_bank, small_exam, start_http, token_of


@pytest.fixture
def exam_id(app, tx):
    with app.app_context():
        make_bank()
        exam_id = small_exam().id
        db.session.commit()
    return exam_id


def paper_of(app, attempt_id):
    with app.app_context():
        return db.session.get(Attempt, attempt_id).paper


def save_batch(client, attempt_id, answers):
    return client.post(f"/mock/attempts/{attempt_id}/answers", json={"answers": answers},
                       headers={"X-CSRFToken": token_of(client)})


def state_of(client, attempt_id):
    return client.get(f"/mock/attempts/{attempt_id}/state.json").json["answers"]


# --- "标记" --------------------------------------------------------------------------------------------

def test_a_flag_is_saved_with_the_answer_and_reaches_another_device(app, client, exam_id):
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    # Flagged before it is answered: the flag alone is kept.
    r = save_batch(client, attempt_id, [{"item": "2", "response": None, "flagged": True, "seq": 10}])
    assert r.json["saved"] == {"2": 10}
    # A save without "flagged" (an older page) keeps the flag; a newer one with the flag off takes it away.
    save_batch(client, attempt_id, [{"item": "2", "response": "B", "seq": 11},
                                    {"item": "3", "response": "C", "flagged": True, "seq": 11}])
    assert state_of(client, attempt_id)["2"] == {"response": "B", "seq": 11, "flagged": True}
    save_batch(client, attempt_id, [{"item": "3", "response": "C", "flagged": False, "seq": 12}])
    # An older save arriving late changes neither the answer nor the flag.
    save_batch(client, attempt_id, [{"item": "3", "response": "A", "flagged": True, "seq": 9}])
    # A flag is a boolean: anything else is refused, item by item.
    r = save_batch(client, attempt_id, [{"item": "4", "response": "A", "flagged": "yes", "seq": 13}])
    assert r.json["saved"] == {} and set(r.json["rejected"]) == {"4"}

    other = app.test_client()
    login(other, "worker_a")
    assert state_of(other, attempt_id) == {"2": {"response": "B", "seq": 11, "flagged": True},
                                           "3": {"response": "C", "seq": 12, "flagged": False}}
    post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    r = save_batch(client, attempt_id, [{"item": "3", "response": "C", "flagged": True, "seq": 20}])
    assert r.status_code == 409


# --- the exam page -------------------------------------------------------------------------------------

def test_the_exam_page_has_a_heading_an_answer_sheet_and_a_flag_on_every_question(app, client):
    with app.app_context():
        make_bank()
        make_case_bank()
        ids = [small_exam().id, default_exam("mid-practice").id]
        db.session.commit()
    login(client, "worker_a")
    for exam_id in ids:
        attempt_id = start_http(app, client, exam_id)
        page = client.get(f"/mock/attempts/{attempt_id}").get_data(as_text=True)
        paper = paper_of(app, attempt_id)
        with app.app_context():
            name = db.session.get(Attempt, attempt_id).exam.name
        assert re.search(r"<h1[^>]*>\s*" + re.escape(name) + r"\s*</h1>", page)
        answerable = [k for k, item in paper["items"].items() if item["type"] != "case"]
        cells = re.findall(r'<a href="#item-([\d.]+)" class="sheet-cell" id="sheet-\1" data-sheet="\1">', page)
        # every question that takes an answer once, in paper order (a case's parts, not the case itself)
        assert cells == [k for s in paper["sections"] for key in s["items"]
                         for k in ([key] if paper["items"][key]["type"] != "case" else paper["items"][key]["parts"])]
        assert sorted(cells) == sorted(answerable)
        for key in answerable:
            assert f'id="item-{key}"' in page
            flag = rf'id="flag-{re.escape(key)}" aria-pressed="false"\s+aria-label="标记第 {re.escape(key)} 题"'
            assert re.search(flag, page)
        assert "答题卡" in page and "逐题作答" in page and 'id="submit-dialog"' in page
        assert "还有 %(n)s 题未作答" in page  # the dialog's sentence, counted by the page
        post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")


# --- the result page -----------------------------------------------------------------------------------

RESULT_ITEM = re.compile(r'id="result-([\d.]+)"\s+data-topic="([^"]*)" data-wrong="([01])"\s*(hidden)?>')


def shown(page):
    return {key for key, _topic, _wrong, hidden in RESULT_ITEM.findall(page) if not hidden}


def option_marks(page, key):
    """option letter → the classes of its line, in one item of the result page."""
    block = page.split(f'id="result-{key}"', 1)[1].split('class="card mb-2 result-item', 1)[0]
    return dict((letter, cls) for cls, letter in re.findall(r'<li class="([^"]*)" data-option="([A-E])"', block))


def sat(app, client, exam_id, wrong_keys):
    """Answer every item, right except `wrong_keys` (each a wrong option), submit; the attempt and its paper."""
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    paper = paper_of(app, attempt_id)
    batch, chosen = [], {}
    for key, item in paper["items"].items():
        letters = "".join(item["answer"])
        if key in wrong_keys:
            letters = next(o["key"] for o in item["options"] if o["key"] not in item["answer"])
        chosen[key] = letters
        batch.append({"item": key, "response": letters, "seq": 1})
    assert save_batch(client, attempt_id, batch).status_code == 200
    post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    return attempt_id, paper, chosen


def test_the_result_marks_the_chosen_option_beside_the_right_one(app, client, exam_id):
    attempt_id, paper, chosen = sat(app, client, exam_id, {"1", "6"})
    page = client.get(f"/mock/attempts/{attempt_id}/result").get_data(as_text=True)
    for key in ("1", "6"):  # wrong: the chosen option is marked as the candidate's and wrong, the right ones as right
        marks = option_marks(page, key)
        assert "option-chosen-wrong" in marks[chosen[key]] and "option-right" not in marks[chosen[key]]
        for letter in paper["items"][key]["answer"]:
            assert "option-right" in marks[letter] and "option-chosen" not in marks[letter]
        assert "你的选择 ✗" in page.split(f'id="result-{key}"', 1)[1].split("result-item", 1)[0]
    marks = option_marks(page, "2")  # right: chosen and right, nothing marked wrong
    assert "option-right option-chosen" in marks[chosen["2"]]
    assert not any("chosen-wrong" in c for c in marks.values())


def test_the_result_filters_wrong_answers_and_topics_by_query(app, client, exam_id):
    attempt_id, paper, _chosen = sat(app, client, exam_id, {"1", "3", "7"})
    url = f"/mock/attempts/{attempt_id}/result"
    everything = set(paper["items"])
    page = client.get(url).get_data(as_text=True)
    assert shown(page) == everything and "显示 8 题，共 8 题" in page and "只看错题" in page
    assert {k for k, _t, wrong, _h in RESULT_ITEM.findall(page) if wrong == "1"} == {"1", "3", "7"}

    page = client.get(url + "?wrong=1").get_data(as_text=True)
    assert shown(page) == {"1", "3", "7"} and "显示 3 题，共 8 题" in page
    assert re.search(r'id="filter-wrong" checked', page)

    topic = paper["items"]["1"]["topic"]
    of_topic = {k for k, item in paper["items"].items() if item["topic"] == topic}
    page = client.get(url, query_string={"topic": topic}).get_data(as_text=True)
    assert shown(page) == of_topic and f'<option value="{topic}" selected>' in page
    page = client.get(url, query_string={"topic": topic, "wrong": "1"}).get_data(as_text=True)
    assert shown(page) == of_topic & {"1", "3", "7"}
    # a topic not on the paper filters nothing
    page = client.get(url, query_string={"topic": next(t for t in ["无此知识点"] + TOPICS)}).get_data(as_text=True)
    assert shown(page) == everything
    assert re.search(r'id="no-wrong"\s+hidden', page) and re.search(r'id="none-shown"\s+hidden', page)


def test_a_paper_without_mistakes_says_so_under_wrong_only(app, client, exam_id):
    attempt_id, _paper, _chosen = sat(app, client, exam_id, set())
    page = client.get(f"/mock/attempts/{attempt_id}/result?wrong=1").get_data(as_text=True)
    assert shown(page) == set() and "本次没有错题。" in page
    assert not re.search(r'id="no-wrong"\s+hidden', page)
