"""Excel exports of evaluations (without names) and of a needs survey's results."""
from flask_babel import gettext as _

from ..tabular import write_xlsx
from ..training.models import Training
from .models import Survey
from .needs import Results

EvaluationRows = list[list]


def evaluation_rows(training: Training) -> tuple[list[str], EvaluationRows]:
    """One row per evaluation: the class overall, its comment, each trainer's rating and comment. No name, no
    time, rows in the order of their content: nothing in the file tells who wrote a row."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import Evaluation

    trainers = list(training.trainers)
    headers = [_("Class (1–5)"), _("Comment on the class")]
    for t in trainers:
        headers += [_("%(name)s (1–5)", name=t.name), _("Comment on %(name)s", name=t.name)]
    rows = []
    for e in db.session.scalars(select(Evaluation).where(Evaluation.training_id == training.id)):
        by_trainer = {r.trainer_id: r for r in e.ratings}
        row: list = [e.overall, e.comment]
        for t in trainers:
            r = by_trainer.get(t.id)
            row += [r.rating if r else None, r.comment if r else ""]
        rows.append(row)
    rows.sort(key=lambda r: [("" if v is None else str(v)) for v in r])
    return headers, rows


def evaluations_xlsx(training: Training) -> bytes:
    headers, rows = evaluation_rows(training)
    return write_xlsx(_("Evaluations"), headers, rows, widths=[12, 40] + [12, 40] * len(training.trainers))


def survey_rows(survey: Survey, results: Results) -> tuple[list[str], list[list], list[list]]:
    """The choice counts (question, choice, total, then one column per unit) and the free texts."""
    headers = [_("Question"), _("Choice"), _("Total")] + [
        _("%(unit)s (own workers)", unit=b.unit.name) if b.own else b.unit.name for b in results.buckets]
    rows: list[list] = [[_("Respondents"), "", results.respondents, *results.respondents_by_bucket]]
    texts: list[list] = [[_("Question"), _("Unit"), _("Free-text answer")]]
    for number, q in enumerate(results.questions, start=1):
        title = f"{number}. {q.question.text}"
        for row in q.rows:
            rows.append([title, row.label, row.total, *row.by_bucket])
        for unit, text in q.texts:
            texts.append([title, unit, text])
    return headers, rows, texts


def survey_xlsx(survey: Survey, results: Results) -> bytes:
    headers, rows, texts = survey_rows(survey, results)
    return write_xlsx(_("Choices"), headers, rows, widths=[40, 30, 10] + [14] * len(results.buckets),
                      notes=(_("Free texts"), texts))
