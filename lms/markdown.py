"""The one place where user Markdown becomes HTML (DESIGN.md §3, §4: Markdown, then bleach).

Markdown passes raw HTML through, so its output is always cleaned against ALLOWED_TAGS.
Keeping the cleaner behind render_markdown() makes a later move from bleach to nh3 a
one-file change.
"""
import html as htmllib
import re
import threading
from functools import lru_cache

import bleach
import markdown as md
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["align"],
    "th": ["align"],
    "code": ["class"],
    "div": ["class"],
    "span": ["class"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
EXTENSIONS = ["extra", "sane_lists", "nl2br"]


def _link_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if href.startswith(("http://", "https://")):
        attrs[(None, "rel")] = "noopener noreferrer nofollow"
        attrs[(None, "target")] = "_blank"
    return attrs


def render_markdown(text: str | None) -> Markup:
    """Markdown → safe HTML. The only function in the site that does this."""
    if not text:
        return Markup("")
    return Markup(_render(str(text)))


_local = threading.local()


def _to_html(text: str) -> str:
    """Markdown → HTML (not yet cleaned). One converter per thread, reset between texts: building
    one (its extensions, patterns and processors) costs several times converting a short text."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = md.Markdown(extensions=EXTENSIONS, output_format="html")
    try:
        return converter.convert(text)
    finally:
        converter.reset()


@lru_cache(maxsize=4096)
def _render(text: str) -> str:
    """A pure function of the text, so each process keeps the recent results: an exam paper shows
    80 stems from a bank of a few thousand, and Markdown + bleach cost ~1 ms a stem."""
    html = _to_html(text)
    return bleach.linkify(clean_html(html), callbacks=[_link_rel], skip_tags=["pre", "code"], parse_email=False)


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)


def clean_html(html: str) -> str:
    """HTML cleaned against the one allow-list: render_markdown()'s output, and HTML from elsewhere
    (a GIFT [html] text) before it is stored in a Markdown field (Markdown keeps inline HTML).
    Scripts and style sheets go with their content; other tags not allowed leave their text."""
    return bleach.clean(
        _SCRIPT_OR_STYLE.sub("", html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )


def html_text(html: str) -> str:
    """The text of an HTML fragment: tags removed, entities decoded, white space collapsed."""
    text = bleach.clean(_SCRIPT_OR_STYLE.sub("", html), tags=set(), strip=True, strip_comments=True)
    return " ".join(htmllib.unescape(text).split())


_MD_INLINE = re.compile(r"([\\`*_\[\]])")
_MD_LINE_START = re.compile(r"^([ \t]*)([#>+-]|\d+(?=\.))", re.M)


def escape_markdown(text: str) -> str:
    """Plain text written as Markdown that render_markdown() shows as it is (a GIFT [plain] text)."""
    text = _MD_INLINE.sub(r"\\\1", text.replace("&", "&amp;").replace("<", "&lt;"))
    return _MD_LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit()
                                                      else "\\" + m.group(2)), text)


def plain_text(text: str | None, limit: int | None = None) -> str:
    """Markdown with every tag removed (for summaries, search and exports)."""
    if not text:
        return ""
    out = _plain(str(text))
    return out if limit is None or len(out) <= limit else out[: limit - 1] + "…"


@lru_cache(maxsize=4096)
def _plain(text: str) -> str:
    """A pure function of the text, kept per process like _render(): a bank page shows 50 excerpts."""
    return " ".join(bleach.clean(_to_html(text), tags=set(), strip=True).split())
