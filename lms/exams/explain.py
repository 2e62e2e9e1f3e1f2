"""Option letters in explanations, as the candidate saw them.

Options are shuffled for every attempt, so an explanation written against the bank's letters
("C 既回应了事实……A 带有评判") must show the letters the candidate saw. An explanation is stored as
its author wrote it, in the bank's letters (exports write it back unchanged). `scan()` reads which
letters in it name options, by the one rule below; the bank refuses a text where the rule cannot
tell (bank.letter_problems(), called by check_question() for every way a question comes in), and
`as_seen()` rewrites the letters for one paper's order when a page shows the explanation.

The rule, for a question whose options are lettered e.g. A–D:
- A capital standing alone (not touching another Latin letter or a digit) names that option:
  the A of "A 错误", "A、B", "选A", "（A）". Full-width Ａ likewise.
- Several capitals in a row that are all option letters, each once, name those options when they
  follow 选 / 选项 / 答案为 / 答案是 / 答案：, as in "故选ACD"; they are shown re-sorted.
  Anywhere else such a word is refused as ambiguous ("ABC理论": a word, or options A, B and C?);
  a word with a letter twice ("ABAB 设计") cannot name options and is left alone.
- A lone capital of the option alphabet (A–H) that is not an option of this question is refused
  ("E 错误" in a question with options A–D).
- A range ("A-D", "A～D", "A至D") is refused: after a shuffle it means nothing.
- A backslash keeps letters as written and is not shown: "\\B超", "\\ABC理论".
- Any other Latin word (SWOT, KTV, X理论, care) is left alone.

No function here touches the request or the database.
"""
import re
from dataclasses import dataclass

from flask_babel import gettext as _

# Letters that can name an option of some choice question: the bank allows up to 8 options, lettered
# in order (bank.OPTION_LETTERS is this).
OPTION_ALPHABET = "ABCDEFGH"
_FULL = 0xFEE0  # full-width Ａ is ASCII A + _FULL

_WORD = re.compile(r"[A-Za-z0-9\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]+")
_ANSWER_CUE = re.compile(r"(?:选项?|答案(?:应)?(?:为|是|[:：]))\s*$")
_RANGE_GAP = re.compile(r"^\s*[-–—~～至到]\s*$")
CONTEXT = 8  # characters of context either side in a message


def _ascii(word: str) -> str:
    return "".join(chr(ord(c) - _FULL) if ord(c) > 0xFF00 else c for c in word)


@dataclass(frozen=True)
class Span:
    """A word of the text that names options (`letters`, ASCII) or a backslash to drop (`letters` "")."""

    start: int
    end: int
    letters: str = ""
    fullwidth: bool = False
    is_set: bool = False


@dataclass(frozen=True)
class Unclear:
    """A place the rule cannot map: `kind` is "unknown" (not an option of this question),
    "ambiguous" (a word or options?) or "range"."""

    kind: str
    word: str
    context: str


def _context(text: str, start: int, end: int) -> str:
    """The words around text[start:end] on its line, to show where a problem is."""
    left = text[max(0, start - CONTEXT):start].split("\n")[-1]
    right = text[end:end + CONTEXT].split("\n")[0]
    return left + text[start:end] + right


def scan(text: str, keys) -> tuple[list[Span], list[Unclear]]:
    """The option references of `text` for a question with option letters `keys` (e.g. "ABCD"),
    and the places the rule cannot map (see the module docstring)."""
    keys = set(keys or "")
    spans: list[Span] = []
    unclear: list[Unclear] = []
    for m in _WORD.finditer(text or ""):
        start, end, raw = m.start(), m.end(), m.group()
        word = _ascii(raw)
        if start and text[start - 1] == "\\" and word[0].isupper():
            spans.append(Span(start - 1, start))  # an escape: the word stays as written
            continue
        if not word.isalpha() or not word.isupper():
            continue  # a digit or a small letter in it: an ordinary word (A1, 5A, care)
        fullwidth = raw != word
        if len(word) == 1:
            if word in keys:
                spans.append(Span(start, end, word, fullwidth))
            elif word in OPTION_ALPHABET:
                unclear.append(Unclear("unknown", raw, _context(text, start, end)))
            continue
        if not set(word) <= keys or len(set(word)) < len(word):
            continue  # SWOT, KTV, ABAB: not options, or a letter twice (no set of options)
        if _ANSWER_CUE.search(text[max(0, start - 8):start]):
            spans.append(Span(start, end, word, fullwidth, is_set=True))
        else:
            unclear.append(Unclear("ambiguous", raw, _context(text, start, end)))
    refs = [s for s in spans if s.letters and not s.is_set]
    for a, b in zip(refs, refs[1:], strict=False):
        if _RANGE_GAP.match(text[a.end:b.start]):
            unclear.append(Unclear("range", text[a.start:b.end], _context(text, a.start, b.end)))
    return spans, unclear


def messages(text: str, keys, *, citable: bool = True) -> list[str]:
    """What is wrong with the option letters of `text` (an explanation of a question with options
    `keys`), in the user's language; empty when every letter can be mapped. With `citable` False
    (a case's own explanation: each part's options are shuffled on their own) no option may be
    cited by its letter at all."""
    spans, unclear = scan(text, keys)
    keys_text = "、".join(sorted(set(keys or "")))
    out = []
    if not citable:
        for span in spans:
            if span.letters:
                word = text[span.start:span.end]
                out.append(
                    _(
                        "The explanation of a case cites options by letter: “%(word)s” (“%(context)s”). Each "
                        "part's options are shuffled for every candidate. Name the option's content instead.",
                        word=word,
                        context=_context(text, span.start, span.end),
                    )
                )
    for u in unclear:
        if u.kind == "unknown":
            out.append(_("The explanation cites option %(letter)s (“%(context)s”), but this question has options "
                         "%(keys)s only. If the letter is not an option, write it as %(escaped)s.",
                         letter=u.word, context=u.context, keys=keys_text, escaped="\\" + u.word))
        elif u.kind == "ambiguous" and citable:
            out.append(_("The explanation has “%(word)s” (“%(context)s”): options or a word? Options are shuffled "
                         "for every candidate, so cite them one by one, e.g. %(example)s, or after 选 as in "
                         "“故选%(set)s”; if it is a word, write it as %(escaped)s.",
                         word=u.word, context=u.context, example="、".join(sorted(set(_ascii(u.word)))),
                         set="".join(sorted(set(_ascii(u.word)))), escaped="\\" + u.word))
        elif u.kind == "ambiguous":
            out.append(_("The explanation of a case has “%(word)s” (“%(context)s”): if these are options, name "
                         "their content instead (each part's options are shuffled); if it is a word, write it as "
                         "%(escaped)s.", word=u.word, context=u.context, escaped="\\" + u.word))
        elif citable:
            out.append(_("The explanation cites a range of options “%(word)s” (“%(context)s”): after shuffling a "
                         "range means nothing. List the options one by one.", word=u.word, context=u.context))
    return out


def as_seen(text: str | None, key_map: dict | None = None) -> str:
    """`text` with every option letter replaced by the letter the candidate saw. `key_map` is a
    paper item's: shown letter → the bank's letter (none: the bank's order). Escapes are dropped;
    words the rule cannot map are left as written (a stored text was checked when it was saved)."""
    if not text:
        return ""
    if key_map:
        seen = {original: shown for shown, original in key_map.items()}
    else:
        seen = {k: k for k in OPTION_ALPHABET}
    spans, _unclear = scan(text, seen)
    out, pos = [], 0
    for span in spans:
        out.append(text[pos:span.start])
        letters = "".join(seen[c] for c in span.letters)
        if span.is_set:
            letters = "".join(sorted(letters))
        if span.fullwidth:
            letters = "".join(chr(ord(c) + _FULL) for c in letters)
        out.append(letters)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
