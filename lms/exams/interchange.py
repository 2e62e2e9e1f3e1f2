"""Moving questions in and out: Moodle GIFT (import and export), Aiken and an Excel template (import).

Every import is all-or-nothing: the file is parsed whole, every bad line is reported with its line
(or row) number and the reason, and nothing is written unless the report is empty. Imported
questions land in the chosen subject and topic as drafts (an office approves them). The formats
are described for users in docs/QUESTION_FORMATS.md.
"""
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from .. import clock
from ..i18n import lazy_gettext as _l
from ..markdown import clean_html, escape_markdown, html_text
from ..tabular import Column, ImportReport, TableError, read_rows, write_template
from . import qtypes, topics
from .bank import (
    ID_RE,
    MIN_OPTIONS,
    OPTION_LETTERS,
    SaveCounts,
    check_question,
    existing_by_external_id,
    parse_points,
    save_questions,
)
from .models import DIFFICULTIES, ExamSubject, Question

FORMATS = {"gift": "GIFT (Moodle)", "aiken": "Aiken", "xlsx": "Excel (.xlsx)"}
# Option letters as a file may write them: more than the bank takes, so that a question with too
# many options is reported by the bank's rule (2 to 8 options) rather than misread.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class ImportItem:
    line: int                       # where the question starts (line or spreadsheet row)
    data: dict                      # the plain question dict of bank.py
    external_id: str | None = None  # GIFT title / Excel ID: updates the bank question with that id
    topic: str | None = None        # from a GIFT $CATEGORY or the Excel Topic column
    where: str = ""                 # shown in the report's column cell (GIFT title, Excel column…)
    id_column: str = ""
    columns: dict = field(default_factory=dict)  # Excel: field → column label for the report


def decode_text(data: bytes) -> str:
    if not data or not data.strip():
        raise TableError(_("The file is empty."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise TableError(_("The file is neither UTF-8 nor GBK encoded text."))


# ---------------------------------------------------------------------------------------------
# GIFT (https://docs.moodle.org/en/GIFT_format)

_ESCAPES = [("\\:", "\ue001"), ("\\#", "\ue002"), ("\\=", "\ue003"), ("\\{", "\ue004"), ("\\}", "\ue005"),
            ("\\~", "\ue006"), ("\\n", "\ue007")]
_RESTORE = {"\ue000": "\\", "\ue001": ":", "\ue002": "#", "\ue003": "=", "\ue004": "{", "\ue005": "}",
            "\ue006": "~", "\ue007": "\n"}
_WEIGHT_RE = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")
_FORMAT_RE = re.compile(r"\s*\[(markdown|html|plain|moodle)\]")
META_PREFIX = "// @lms "
META_KEYS = {"difficulty", "points", "reference", "source", "law", "law_in_force"}


def _gift_format(text: str, default: str) -> tuple[str, str]:
    """(format, text without its tag): a text may start with [html], [plain], [markdown] or [moodle];
    the tag is removed, as Moodle does, and a text without one has the question's format."""
    match = _FORMAT_RE.match(text)
    return (match.group(1), text[match.end():]) if match else (default, text)


def _gift_markdown(text: str, fmt: str) -> str:
    """A restored GIFT text as the Markdown the bank stores: HTML is cleaned against the site's one
    allow-list (never stored raw), plain text escaped so that it shows as written."""
    if fmt == "html":
        return clean_html(text if "<pre" in text else " ".join(text.split()))
    if fmt == "moodle":  # Moodle's own format: text whose line breaks count, HTML allowed
        return clean_html(text)
    if fmt == "plain":
        return escape_markdown(text)
    return text


def _gift_plain(text: str, fmt: str) -> str:
    """A restored GIFT text as an option's plain text (options are shown as text, not Markdown)."""
    return html_text(text) if fmt in ("html", "moodle") else text


def _escape_pre(text: str) -> str:
    text = text.replace("\\\\", "\ue000")
    for seq, placeholder in _ESCAPES:
        text = text.replace(seq, placeholder)
    return text


def _restore(text: str) -> str:
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text.strip()


def _gift_blocks(text: str):
    """(lines) per question: [(line number, text)], questions being separated by blank lines."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _category_topic(category: str) -> str | None:
    """The last level of a Moodle category path ("$course$/top/Chapter 1" → "Chapter 1"; // is a slash)."""
    levels = [p.replace("\ue010", "/").strip() for p in category.replace("//", "\ue010").split("/")]
    levels = [p for p in levels if p and not (p.startswith("$") and p.endswith("$")) and p != "top"]
    return levels[-1] if levels else None


def parse_gift(text: str, report: ImportReport) -> list[ImportItem]:
    items: list[ImportItem] = []
    topic = None
    for block in _gift_blocks(text):
        meta, meta_line = {}, 0
        kept = []
        for number, line in block:
            stripped = line.strip()
            if stripped.startswith("//"):
                if stripped.startswith(META_PREFIX.strip()):
                    meta_line = number
                    try:
                        meta = json.loads(stripped[len(META_PREFIX.strip()):])
                        if not isinstance(meta, dict):
                            raise ValueError
                    except ValueError:
                        report.add(number, "// @lms", _("The // @lms line is not a JSON object."))
                        meta = {}
                kept.append("")
            else:
                kept.append(line)
        if not any(kept):
            continue
        first = block[0][0]
        source = _escape_pre("\n".join(kept))

        def line_at(offset: int, _src=source, _first=first) -> int:
            return _first + _src.count("\n", 0, max(offset, 0))

        pos = len(source) - len(source.lstrip())
        if source.startswith("$CATEGORY:", pos):
            end = source.find("\n", pos)
            end = len(source) if end == -1 else end
            topic = _category_topic(_restore(source[pos + len("$CATEGORY:"):end]))
            rest = source[end:]
            if not rest.strip():
                continue
            pos = end + len(rest) - len(rest.lstrip())
        item = _gift_question(source, pos, line_at, meta, meta_line, report)
        if item is not None:
            item.topic = topic
            items.append(item)
    return items


def _gift_question(source: str, pos: int, line_at, meta: dict, meta_line: int, report) -> ImportItem | None:
    start_line = line_at(pos)
    title = None
    if source.startswith("::", pos):
        end = source.find("::", pos + 2)
        if end == -1:
            report.add(start_line, "", _("The question title is not closed with ::."))
            return None
        title = _restore(source[pos + 2:end]) or None
        pos = end + 2
    where = title or ""
    opening, closing = source.find("{", pos), source.find("}", pos)
    if opening == -1 and closing == -1:
        report.add(start_line, where, _("No answer part in braces {…}: every question needs one (a text without "
                                        "answers is a Moodle description, which is not a question)."))
        return None
    if opening == -1 or closing == -1 or closing < opening:
        report.add(line_at(opening if opening != -1 else closing), where,
                   _("A { without its closing } (or a } without its {). Write \\{ and \\} for braces in the text."))
        return None
    extra = min([i for i in (source.find("{", closing), source.find("}", closing + 1)) if i != -1], default=-1)
    if extra != -1:
        report.add(line_at(extra), where,
                   _("Only one answer part {…} per question. Write \\{ and \\} for braces in the text."))
        return None
    before, after = source[pos:opening], source[closing + 1:]
    fmt, before = _gift_format(before, "markdown")
    # The missing-word form: the blank takes the place of the answers, the text around it unchanged.
    stem = _gift_markdown(_restore(before if not after.strip() else before + "_____" + after), fmt)
    body = source[opening + 1:closing]
    general = ""
    split = body.rfind("####")
    if split != -1:
        general, body = _gift_markup(body[split + 4:], fmt), body[:split]
    data = {"stem": stem}
    answers = GiftBody(body, opening + 1, line_at, where, report, fmt)
    for qtype in qtypes.all_types():  # the first type that recognises the answer part reads it
        read = qtype.gift_read(answers) if qtype.gift else None
        if read is False:
            return None
        if isinstance(read, dict):
            data.update(read)
            break
    else:
        report.add(line_at(opening), where, _unsupported_gift(answers.stripped))
        return None
    feedback = answers.feedback
    data["explanation"] = "\n\n".join(p for p in [general, *feedback] if p)
    _apply_meta(data, meta, meta_line, where, report)
    return ImportItem(line=start_line, data=data, external_id=title, where=where)


def _gift_markup(text: str, default: str) -> str:
    """A feedback text (still with its escapes) as stored Markdown, its format tag removed."""
    fmt, text = _gift_format(text, default)
    return _gift_markdown(_restore(text), fmt)


@dataclass
class GiftBody:
    """The answer part {…} of a GIFT question (its general feedback removed), as QuestionType.gift_read()
    sees it: `text` still holds the GIFT escapes, `offset` is where it starts in the question's source."""
    text: str
    offset: int
    line_at: Callable[[int], int]
    where: str
    report: ImportReport
    fmt: str = "markdown"
    feedback: list = field(default_factory=list)  # option and answer feedback, added to the explanation

    @property
    def stripped(self) -> str:
        return self.text.strip()

    def error(self, message: str, at: int | None = None) -> bool:
        """Report a problem at offset `at` (the part's opening brace when None); False, for gift_read() to return."""
        self.report.add(self.line_at(self.offset - 1 if at is None else at), self.where, message)
        return False

    def markup(self, text: str) -> str:
        """A feedback text of the part as stored Markdown."""
        return _gift_markup(text, self.fmt)


def _unsupported_gift(stripped: str) -> str:
    supported = "、".join(str(t.label) for t in qtypes.all_types() if t.gift)
    if stripped.startswith("#"):
        return _("Numerical questions ({#…}) are not supported: only these types are: %(types)s.", types=supported)
    if "=" in stripped and "->" in stripped:
        return _("Matching questions (=…->…) are not supported: only these types are: %(types)s.", types=supported)
    return _("Short-answer questions ({=…} without ~) are not supported: only these types are: %(types)s.",
             types=supported)


def gift_choices(part: GiftBody) -> tuple[list[dict], list[str]] | None:
    """The options and the right letters of a choice part (=right ~wrong ~%50%partly right), or None when a
    problem was reported."""
    body, offset, line_at, where, report, fmt = part.text, part.offset, part.line_at, part.where, part.report, part.fmt
    feedback = part.feedback
    answers: list[list[Any]] = []  # [marker, text, offset]
    for i, char in enumerate(body):
        if char in "~=":
            answers.append([char, "", offset + i])
        elif answers:
            answers[-1][1] += char
        elif not char.isspace():
            report.add(line_at(offset + i), where, _("Text before the first answer: every answer starts with = or ~."))
            return None
    ok = True
    options, weights = [], []
    for index, (marker, text, at) in enumerate(answers):
        weight = 100.0 if marker == "=" else 0.0
        m = _WEIGHT_RE.match(text)
        if marker == "~" and m:
            weight = float(m.group(1))
            text = text[m.end():]
            if not -100 <= weight <= 100:
                report.add(line_at(at), where, _("The weight %(w)s is not between -100%% and 100%%.",
                                                 w=m.group(1) + "%"))
                ok = False
        elif marker == "~" and text.lstrip().startswith("%"):
            report.add(line_at(at), where, _("A weight is written like %(example)s: a number between two percent "
                                             "signs.", example="~%50%"))
            ok = False
        answer_text, _sep, note = text.partition("#")
        answer_fmt, answer_text = _gift_format(answer_text, fmt)
        answer_text = _gift_plain(_restore(answer_text), answer_fmt)
        if not answer_text:
            report.add(line_at(at), where, _("An answer is empty."))
            ok = False
        if index >= len(LETTERS):
            report.add(line_at(at), where, _("A question has at most %(n)d options.", n=len(OPTION_LETTERS)))
            return None
        key = LETTERS[index]
        options.append({"key": key, "text": answer_text})
        weights.append((marker, weight))
        note = _gift_markup(note, fmt)
        if note:
            feedback.append(f"{key}. {note}")
    if not ok:
        return None
    line = line_at(answers[0][2]) if answers else line_at(offset)
    rights = [LETTERS[i] for i, (_m, w) in enumerate(weights) if w > 0]
    equals = [LETTERS[i] for i, (m, _w) in enumerate(weights) if m == "="]
    if equals:
        if len(equals) > 1:
            report.add(line, where, _("Only one answer may be marked right with = (several right answers are "
                                      "written with weights, e.g. %(example)s).", example="~%50%"))
            return None
        if len(rights) > 1:
            report.add(
                line,
                where,
                _("A question cannot mix a right answer (=) with partly right answers (%(example)s).", example="~%…%"),
            )
            return None
    elif not rights:
        report.add(line, where, _("No right answer: mark it with = or give the right answers a positive weight "
                                  "(%(example)s).", example="~%50%"))
        return None
    elif len(rights) == 1 and weights[LETTERS.index(rights[0])][1] < 100:
        report.add(line, where, _("A single partly right answer cannot be expressed: mark the right answer with = "
                                  "or give several right answers positive weights."))
        return None
    return options, rights


def _apply_meta(data: dict, meta: dict, line: int, where: str, report) -> None:
    for key, value in meta.items():
        if key not in META_KEYS:
            continue
        if key == "difficulty":
            data[key] = value  # checked with the rest of the question
        elif key == "points":
            try:
                data[key] = parse_points(value)
            except ValueError as exc:
                report.add(line, where, str(exc))
        elif key == "law_in_force":
            try:
                data[key] = date.fromisoformat(str(value)) if value else None
            except ValueError:
                report.add(line, where, _("The date the law came into force is not a date (YYYY-MM-DD)."))
        else:
            data[key] = str(value).strip() if value is not None else None


def _gift_escape(text: str | None) -> str:
    text = (text or "").replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r", "").replace("\n", "\\n")


def _weight(n_right: int) -> str:
    return f"{100 / n_right:.5f}".rstrip("0").rstrip(".")


def export_gift(questions: list[Question], subject: ExamSubject) -> tuple[str, int]:
    """A GIFT file Moodle imports; our fields Moodle has no place for ride in `// @lms` comments so
    that the file re-imports here unchanged. Cases cannot be expressed in GIFT and are left out
    (their number is returned). 多选 is written with equal positive weights for the right options
    and -100% for the wrong ones: Moodle cannot express our partial-credit rule (DESIGN.md §5)."""
    title = _("Question bank of %(subject)s, exported %(date)s", subject=subject.name, date=clock.today().isoformat())
    out = ["// " + title,
           "// " + _("Multiple choice: Moodle cannot express the exam's rule (0.5 per right option when no wrong "
                     "option is chosen); right options carry equal positive weights and wrong ones -100%."),
           ""]
    skipped = 0
    topic = None
    for q in questions:
        qtype = qtypes.get(q.type)
        if not qtype.gift:  # a type GIFT cannot hold (a case)
            skipped += 1
            continue
        if q.topic != topic:
            topic = q.topic
            out += [f"$CATEGORY: {subject.name.replace('/', '//')}/{topic.replace('/', '//')}", ""]
        meta: dict[str, object] = {"difficulty": q.difficulty}
        if q.points is not None:
            meta["points"] = str(q.points)
        for key in ("reference", "source", "law"):
            if getattr(q, key):
                meta[key] = getattr(q, key)
        if q.law_in_force:
            meta["law_in_force"] = q.law_in_force.isoformat()
        out.append(META_PREFIX + json.dumps(meta, ensure_ascii=False))
        head = f"::{_gift_escape(q.external_id)}::[markdown]{_gift_escape(q.stem)}"
        general = f"####{_gift_escape(q.explanation)}" if q.explanation else ""
        out += qtype.gift_lines(q, head, general)
        out.append("")
    return "\n".join(out), skipped


# ---------------------------------------------------------------------------------------------
# Aiken (https://docs.moodle.org/en/Aiken_format), with two extensions for Chinese users:
# option letters may be followed by 、．） as well as . and ), and ANSWER: may give several
# letters (e.g. ANSWER: ACD) for a multiple-choice question.

_AIKEN_OPTION = re.compile(r"^([A-Z])\s*[.)、．）]\s*(.*)$")
_AIKEN_ANSWER = re.compile(r"^ANSWER\s*[:：]\s*(.*)$", re.I)


def parse_aiken(text: str, report: ImportReport) -> list[ImportItem]:
    items: list[ImportItem] = []
    stem: list[str] = []
    options: list[dict] = []
    start = 0
    skipping = False  # after a problem, skip to the next ANSWER line (one problem per question)
    broken = False    # a bad option was reported: the question is not checked again

    def reset(skip=False):
        nonlocal stem, options, start, skipping, broken
        stem, options, start, skipping, broken = [], [], 0, skip, False

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        answer = _AIKEN_ANSWER.match(line)
        if skipping:
            if answer:
                reset()
            continue
        if not line:
            if stem and not options:
                stem.append("")
            continue
        option = _AIKEN_OPTION.match(line)
        if answer:
            if not options:
                report.add(number, "ANSWER", _("An ANSWER line must follow the options of a question."))
                reset()
                continue
            letters = [c.upper() for c in answer.group(1) if c.isalpha()]
            keys = [o["key"] for o in options]
            if broken:
                pass
            elif not letters or any(c not in keys for c in letters):
                report.add(number, "ANSWER", _("The ANSWER must be letters of the options (%(keys)s).",
                                               keys="、".join(keys)))
            else:
                qtype = qtypes.choice_type_for(len(letters)).name
                items.append(ImportItem(line=start, data={"type": qtype, "stem": "\n".join(stem).strip(),
                                                          "options": options, "answer": letters}))
            reset()
        elif option and stem:
            expected = LETTERS[len(options)] if len(options) < len(LETTERS) else "?"
            if option.group(1) != expected:
                report.add(number, option.group(1), _("Option %(got)s is out of order: %(expected)s was expected here.",
                                                      got=option.group(1), expected=expected))
                broken = True
            if not option.group(2).strip():
                report.add(number, option.group(1), _("Option %(key)s has no text.", key=option.group(1)))
                broken = True
            options.append({"key": option.group(1), "text": option.group(2).strip()})
        elif option:
            report.add(number, option.group(1), _("An option comes before any question text."))
            reset(skip=True)
        elif options:
            report.add(number, "", _("After the options only the next option or the ANSWER line may follow."))
            reset(skip=True)
        else:
            if not stem:
                start = number
            stem.append(line)
    if stem and not skipping:
        report.add(start, "", _("The question ends without an ANSWER line."))
    return items


# ---------------------------------------------------------------------------------------------
# Excel template

DIFFICULTY_WORDS = {"1": 1, "2": 2, "3": 3, "易": 1, "简单": 1, "中": 2, "中等": 2, "难": 3, "困难": 3,
                    "easy": 1, "medium": 2, "hard": 3}


def _parse_type(text: str) -> str:
    word = text.strip().lower()
    for qtype in qtypes.all_types():
        if word in qtype.xlsx_words or (qtype.xlsx_words and word == str(qtype.label).lower()):
            return qtype.name
    raise ValueError(_('Unknown question type "%(value)s"; use one of: %(options)s', value=text,
                       options=_xlsx_type_labels()))


def _xlsx_type_labels() -> str:
    return "、".join(str(t.label) for t in qtypes.all_types() if t.xlsx_words and not t.xlsx_refusal)


def _parse_difficulty(text: str) -> int:
    value = DIFFICULTY_WORDS.get(text.strip().lower())
    if value is None:
        raise ValueError(_("The difficulty is 1 (easy), 2 (medium) or 3 (hard)."))
    return value


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise ValueError(_("The date the law came into force is not a date (YYYY-MM-DD).")) from None


def _parse_points(text: str):
    return parse_points(text)


EXAMPLE_OPTIONS = ("召开居民议事会协商", "由物业公司自行决定", "张贴通知后直接施工", "只征求楼长意见")


def xlsx_columns() -> list[Column]:
    types = [t.label for t in qtypes.all_types() if t.xlsx_words and not t.xlsx_refusal]
    single = next(t.label for t in qtypes.all_types() if t.name == "single")
    cols = [
        Column("id", _l("ID"), aliases=("编号",), width=18),
        Column("type", _l("Question type"), required=True, parse=_parse_type, aliases=("题型",), width=10,
               example=single, options=types),
        Column("difficulty", _l("Difficulty"), parse=_parse_difficulty, aliases=("难度",), width=8,
               example=DIFFICULTIES[2], options=DIFFICULTIES),
        Column("topic", _l("Topic"), aliases=("知识点",), width=20, example="居民议事协商"),
        Column("stem", _l("Stem"), required=True, aliases=("题干",), width=50,
               example="小区加装电梯意见不一，社区工作者首先宜采取的做法是（  ）。"),
    ]
    cols += [Column(k, _l("Option %(key)s", key=k), aliases=(f"选项{k}",), width=24,
                    example=dict(zip("ABCD", EXAMPLE_OPTIONS, strict=True)).get(k, "")) for k in OPTION_LETTERS]
    cols += [
        Column("answer", _l("Answer"), aliases=("答案",), width=10, example="A"),
        Column("explanation", _l("Explanation"), aliases=("解析",), width=40,
               example="涉及全体居民利益的事项，应通过议事协商听取各方意见。"),
        Column("points", _l("Points"), parse=_parse_points, aliases=("分值",), width=8),
        Column("reference", _l("Marking points"), aliases=("评分要点",), width=40),
        Column("source", _l("Source"), aliases=("来源",), width=12),
        Column("law", _l("Law or policy"), aliases=("法规政策",), width=24),
        Column("law_in_force", _l("In force since"), parse=_parse_date, aliases=("施行日期",), width=12),
    ]
    return cols


def xlsx_template() -> bytes:
    cols = xlsx_columns()
    notes = [
        [_("Column"), _("What to fill in")],
        [_("ID"), _("Optional. Letters, digits and . _ -; a row whose ID is in the bank updates that question.")],
        [_("Question type"), _xlsx_type_labels() + _(" (cases are written on the site)")],
        [_("Difficulty"), _("1 easy, 2 medium (when empty), 3 hard")],
        [_("Topic"), _("Optional: the chapter; empty means the topic chosen on the import page.")],
        [_("Stem"), _("The question text (Markdown).")],
        [
            _("Option A"),
            _(
                "Single and multiple choice: %(min)d to %(max)d options, from Option A on without gaps "
                "(mock exams draw only questions with as many options as the real exam: practice uses "
                "every question); none for true/false and essays.",
                min=MIN_OPTIONS,
                max=len(OPTION_LETTERS),
            ),
        ],
        [
            _("Answer"),
            _(
                "Single choice: one letter, e.g. B. Multiple choice: the right letters, e.g. ACD. "
                "True or false: 对 or 错 (true / false)."
            ),
        ],
        [_("Explanation"), _("Why the answer is right (Markdown).")],
        [_("Points"), _("Essays only, e.g. 20.")],
        [_("Marking points"), _("Essays only: what a good answer contains, with points.")],
        [
            _("Law or policy"),
            _("法规与政策 questions: the law or policy the question rests on, and the date it came into force."),
        ],
    ]
    return write_template(_("Questions"), cols, notes)


def parse_xlsx(data: bytes, filename: str, report: ImportReport) -> list[ImportItem]:
    cols = xlsx_columns()
    labels = {c.key: str(c.label) for c in cols}
    items = []
    for row, values in read_rows(data, filename, cols, report):
        qtype = values.get("type")
        if qtype is None:
            continue
        refusal = qtypes.get(qtype).xlsx_refusal
        if refusal:
            report.add(row, labels["type"], str(refusal))
            continue
        options = [{"key": k, "text": values[k]} for k in OPTION_LETTERS if values.get(k)]
        answer_text = values.get("answer") or ""
        try:
            answer = qtypes.get(qtype).xlsx_answer(answer_text)
        except ValueError as exc:
            report.add(row, labels["answer"], str(exc))
            continue
        fields = {"type": qtype, "difficulty": values.get("difficulty") or 2, "stem": values["stem"] or "",
                "options": options, "answer": answer, "explanation": values.get("explanation") or "",
                "points": values.get("points"), "reference": values.get("reference") or "",
                "source": values.get("source") or "", "law": values.get("law"),
                "law_in_force": values.get("law_in_force")}
        ext = values.get("id")
        if ext and not ID_RE.match(ext):
            report.add(row, labels["id"], _('The id "%(id)s" may only have letters, digits and . _ - (at most 64).',
                                            id=ext))
        columns = {"type": labels["type"], "difficulty": labels["difficulty"], "stem": labels["stem"],
                   "options": labels["A"], "answer": labels["answer"], "explanation": labels["explanation"],
                   "points": labels["points"], "reference": labels["reference"], "law": labels["law"],
                   "law_in_force": labels["law_in_force"], "topic": labels["topic"]}
        items.append(ImportItem(line=row, data=fields, external_id=ext, topic=values.get("topic"),
                                id_column=labels["id"], columns=columns))
    return items


# ---------------------------------------------------------------------------------------------
# The import

FILE_FORMATS = ((".gift.txt", "gift"), (".gift", "gift"), (".txt", "aiken"), (".xlsx", "xlsx"))


def format_of(filename: str) -> str | None:
    """The format a file's name says: .gift (and our exports' .gift.txt), Aiken .txt, .xlsx."""
    name = filename.lower()
    return next((fmt for suffix, fmt in FILE_FORMATS if name.endswith(suffix)), None)


def imported_message(counts: SaveCounts) -> str:
    """What an import that went through says, on the site and on the command line."""
    return _("Imported: %(c)d new questions, %(u)d updated, %(s)d unchanged. New and changed questions "
             "are drafts until an office approves them.", c=counts.created, u=counts.updated, s=counts.unchanged)


def import_file(fmt: str, data: bytes, filename: str, subject: ExamSubject, topic: str, user,
                use_file_topics: bool = False) -> tuple[ImportReport, SaveCounts | None]:
    """Parse, check and (when there is no problem at all) save a GIFT, Aiken or Excel file.

    Raises TableError when the file as a whole cannot be read. The caller commits when the
    report is empty and rolls back otherwise."""
    report = ImportReport()
    if fmt == "gift":
        items = parse_gift(decode_text(data), report)
    elif fmt == "aiken":
        items = parse_aiken(decode_text(data), report)
    elif fmt == "xlsx":
        items = parse_xlsx(data, filename, report)
    else:
        raise TableError(_("Unknown file format."))
    page_topic = topics.resolve(subject, topic)
    if page_topic is None and any(not (use_file_topics and i.topic) for i in items):
        problem = topics.unknown_message(subject, topic) if topic.strip() else _("The topic is missing.")
        report.add(1, _("Topic"), problem)
    for item in items:
        if use_file_topics and item.topic:
            found = topics.resolve(subject, item.topic)
            if found is None:
                report.add(item.line, item.columns.get("topic", item.where),
                           topics.unknown_message(subject, item.topic))
            item.data["topic"] = found or item.topic
        else:
            item.data["topic"] = page_topic or topic
        for path, message in check_question({"difficulty": 2} | item.data, complete=False):  # 2 when not given
            report.add(item.line, item.columns.get(path[0], item.where), message)
    existing = existing_by_external_id(i.external_id for i in items)
    seen: dict[str, int] = {}
    for item in items:
        ext = item.external_id
        if not ext:
            continue
        if fmt == "gift" and ext not in existing:
            item.external_id = None  # a foreign title is not an id: the question is new
            continue
        if ext in seen:
            report.add(item.line, item.id_column or item.where,
                       _('The id "%(id)s" is used twice: also at %(where)s.', id=ext, where=seen[ext]))
        seen[ext] = item.line
        if ext in existing and existing[ext].type == "case":
            report.add(item.line, item.id_column or item.where,
                       _("%(id)s is a case in the bank; a file cannot replace it.", id=ext))
    if not items and report.ok:
        report.add(1, "", _("The file has no questions."))
    report.errors.sort(key=lambda e: e.row)
    if not report.ok:
        return report, None
    counts = save_questions([(i.data, subject, i.external_id) for i in items], user, new_status="draft",
                            move_existing=False, changed_become_draft=True)
    return report, counts

