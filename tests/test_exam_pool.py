"""The pool a paper is drawn from is read from the bank once per process and kept while the bank is
unchanged (assembly.candidates_for): every change of a question is seen by the next start."""
from contextlib import contextmanager

from sqlalchemy import event, select

from lms.exams import assembly
from lms.exams.models import Exam, ExamSubject, Question
from lms.extensions import db

from .conftest import login, post_form
from .test_mock_exams import make_bank, make_case_bank, small_exam, subject


@contextmanager
def bank_reads():
    """The SQL statements that read the question table, while the block runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "FROM question" in statement:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def stems(pool: list[dict]) -> set[str]:
    return {q["stem"] for q in pool}


def test_the_pool_is_read_once_and_each_caller_gets_its_own_copy(ctx):
    make_bank()
    exam = small_exam()
    first = assembly.candidates_for(exam)
    assert first == assembly.load_candidates(exam)
    with bank_reads() as reads:
        second = assembly.candidates_for(exam)
        paper = assembly.freeze(exam, 7)
    assert reads == []                        # neither read the bank again
    assert second == first and second is not first
    second[0]["stem"] = "changed by a caller"
    second[0]["options"].append({"key": "Z", "text": "?"})
    assert assembly.candidates_for(exam) == first   # a caller's changes stay its own
    assert paper == assembly.assemble(assembly.blueprint_dict(exam), assembly.load_candidates(exam), 7)


def test_every_change_of_a_question_is_seen_by_the_next_draw(ctx):
    make_bank()
    exam = small_exam()
    pool = assembly.candidates_for(exam)
    versions = set()

    def version():
        v = db.session.scalar(select(ExamSubject.bank_version).where(ExamSubject.id == exam.subject_id))
        versions.add(v)
        return v

    version()
    q = db.session.scalar(select(Question).where(Question.external_id == "t-junior-general-s0"))
    q.stem = "改过的题干"                                     # edited
    db.session.flush()
    version()
    assert "改过的题干" in stems(assembly.candidates_for(exam))
    q.status = "retired"                                     # retired
    db.session.flush()
    version()
    assert "改过的题干" not in stems(assembly.candidates_for(exam))
    db.session.add(Question(external_id="t-new", subject=subject("junior-general"), topic="伦理", type="single",
                            difficulty=1, stem="新题", status="active", answer=["A"],
                            options=[{"key": k, "text": k} for k in "ABCD"]))   # added
    db.session.flush()
    version()
    assert "新题" in stems(assembly.candidates_for(exam))
    db.session.delete(db.session.scalar(select(Question).where(Question.external_id == "t-junior-general-s1")))
    db.session.flush()                                       # deleted
    version()
    assert "单选题1：社会工作者应当（  ）。" not in stems(assembly.candidates_for(exam))
    assert len(versions) == 5                                # a new version at every change
    assert len(assembly.candidates_for(exam)) == len(pool) - 1   # one retired, one deleted, one added
    # a question of another subject changed: this subject's pool is read again, and still the same
    other = db.session.scalar(select(Question).where(Question.subject_id != exam.subject_id).limit(1))
    if other is not None:
        other.stem += "。"
        db.session.flush()
        assert "新题" in stems(assembly.candidates_for(exam))


def test_a_case_part_changed_is_seen_by_the_next_draw(ctx):
    s = make_case_bank()
    exam = Exam(code="small-case", name="案例小测", subject=s, duration_minutes=30, pass_score=6,
                sections=[{"type": "case", "count": 2, "points": 20}])
    db.session.add(exam)
    db.session.flush()
    assembly.candidates_for(exam)
    part = db.session.scalar(select(Question).where(Question.external_id == "t-case0#2"))
    part.stem = "最适合的介入模式是"
    db.session.flush()
    pool = assembly.candidates_for(exam)
    assert "最适合的介入模式是" in {p["stem"] for q in pool for p in q["parts"]}


def test_a_rolled_back_change_is_never_drawn(ctx):
    make_bank()
    exam = small_exam()
    before = assembly.candidates_for(exam)
    with db.session.begin_nested() as savepoint:
        q = db.session.scalar(select(Question).where(Question.external_id == "t-junior-general-s0"))
        q.stem = "没有保存的改动"
        db.session.flush()
        assert "没有保存的改动" in stems(assembly.candidates_for(exam))   # kept under a version …
        savepoint.rollback()
    assert assembly.candidates_for(exam) == before               # … that is gone with the change
    q = db.session.scalar(select(Question).where(Question.external_id == "t-junior-general-s2"))
    q.stem = "另一处改动"
    db.session.flush()
    after = stems(assembly.candidates_for(exam))
    assert "另一处改动" in after and "没有保存的改动" not in after


def test_a_trainers_edit_reaches_the_next_candidates_paper(app, client, world):
    """Through the site: one worker starts (the pool is kept), then questions are retired in a transaction
    of its own (as a trainer's edit commits), and the next worker's start draws only what is left."""
    with app.app_context():
        make_bank(singles=8, multiples=4, judges=0)
        exam_id = small_exam().id
        db.session.commit()
        singles = db.session.scalars(select(Question.id).where(Question.external_id.like("t-junior-general-s%"))
                                     .order_by(Question.id)).all()
    login(client, "worker_a")
    r = post_form(client, f"/mock/exams/{exam_id}/start", page="/mock/")
    assert r.status_code == 302
    with app.app_context():                                  # what a trainer's edit does, committed
        for qid in singles[5:]:
            db.session.get(Question, qid).status = "retired"
        db.session.commit()
        retired = set(singles[5:])
    client = app.test_client()
    login(client, "worker_b")
    r = post_form(client, f"/mock/exams/{exam_id}/start", page="/mock/")
    assert r.status_code == 302
    with app.app_context():
        from lms.exams.models import Attempt

        attempt = db.session.get(Attempt, int(r.location.rsplit("/", 1)[1]))
        drawn = {item["qid"] for item in attempt.paper["items"].values()}
        assert drawn and not drawn & retired
