"""The one place where user Markdown becomes HTML (DESIGN.md §3, §4: Markdown, then bleach).

Markdown passes raw HTML through, so its output is always cleaned against ALLOWED_TAGS.
Keeping the cleaner behind render_markdown() makes a later move from bleach to nh3 a
one-file change.
"""
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


@lru_cache(maxsize=4096)
def _render(text: str) -> str:
    """A pure function of the text, so each process keeps the recent results: an exam paper shows
    80 stems from a bank of a few thousand, and Markdown + bleach cost ~1 ms a stem."""
    html = md.markdown(text, extensions=EXTENSIONS, output_format="html")
    clean = bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                         strip=True, strip_comments=True)
    return bleach.linkify(clean, callbacks=[_link_rel], skip_tags=["pre", "code"], parse_email=False)


def plain_text(text: str | None, limit: int | None = None) -> str:
    """Markdown with every tag removed (for summaries, search and exports)."""
    if not text:
        return ""
    html = md.markdown(text, extensions=EXTENSIONS)
    out = " ".join(bleach.clean(html, tags=set(), strip=True).split())
    return out if limit is None or len(out) <= limit else out[: limit - 1] + "…"
