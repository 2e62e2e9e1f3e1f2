"""The site menu, grouped by task: each role sees the groups and links it uses, nothing more.

The menu is data: a group is a top-level entry (学习, 培训, 考试, 资源库, 统计, 管理) holding sections of
links, each link shown to the roles named on it. base.html renders a group with one visible link as a
plain link and a larger one as a dropdown, with a divider between sections. The roles on a link are
those that use the page, a subset of those its view admits (tests/test_nav.py checks both ways).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from flask_babel import LazyString, get_locale
from markupsafe import Markup

from .i18n import lazy_gettext as _l

LEARNER = ("learner",)
STAFF = ("trainer", "office", "admin")
OFFICE = ("office", "admin")


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: LazyString
    roles: tuple[str, ...]
    id: str = ""

    @property
    def dom_id(self) -> str:
        """The element id tests and users' bookmarks of anchors rely on (nav-<blueprint>-<view>)."""
        return self.id or "nav-" + self.endpoint.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Group:
    key: str
    label: LazyString
    sections: tuple[tuple[Link, ...], ...]


@dataclass(frozen=True)
class ShownGroup:
    """A group as one user sees it: only the sections with a link for them; `active` when the page
    being shown is one of its links."""
    key: str
    label: LazyString
    sections: list[list[Link]]
    active: bool

    @property
    def links(self) -> list[Link]:
        return [link for section in self.sections for link in section]


MENU: tuple[Group, ...] = (
    Group("learn", _l("Learning"), (
        (Link("learning.catalog", _l("Course library"), LEARNER + STAFF),
         Link("learning.mine", _l("My learning"), LEARNER),
         Link("ask.index", _l("Ask an expert"), LEARNER + STAFF)),
        (Link("learning.studio", _l("Course studio"), STAFF),
         Link("learning.review_queue", _l("Course review"), OFFICE),
         Link("ask.to_answer", _l("Questions for me to answer"), ("trainer",)),
         Link("ask.office", _l("Questions from my area"), OFFICE)),
    )),
    Group("training", _l("Training"), (
        (Link("training.open_classes", _l("Training classes open to me"), LEARNER),
         Link("training.mine", _l("My classes"), LEARNER),
         Link("training.checkin", _l("Check in"), LEARNER),
         Link("surveys.mine", _l("Surveys and evaluations"), LEARNER)),
        (Link("surveys.teaching", _l("My teaching evaluations"), ("trainer",)),),
        (Link("training.index", _l("Training classes"), OFFICE),
         Link("training.flags", _l("Proxy check-in alerts"), OFFICE),
         Link("surveys.index", _l("Needs surveys"), OFFICE)),
    )),
    Group("exams", _l("Exams"), (
        (Link("prep.index", _l("Preparing for the exam"), LEARNER),
         Link("mock.index", _l("Mock exams"), LEARNER),
         Link("mock.practice_view", _l("Practice by topic"), LEARNER),
         Link("mock.mistakes", _l("Mistakes book"), LEARNER),
         Link("mock.progress_view", _l("My certificate progress"), LEARNER)),
        (Link("exams.index", _l("Question bank"), STAFF),
         Link("mock.marking", _l("Marking"), STAFF),
         Link("mock.item_analysis", _l("Item analysis"), STAFF)),
        (Link("mock.days", _l("Mock exam days"), OFFICE),
         Link("mock.results_queue", _l("Results to verify"), OFFICE, id="nav-results"),
         Link("mock.marking_assignments", _l("Assign marking to trainers"), OFFICE)),
    )),
    Group("library", _l("Resource library"), (
        (Link("library.index", _l("Resource library"), LEARNER + STAFF, id="nav-library"),),
    )),
    Group("stats", _l("Statistics"), (
        (Link("stats.index", _l("Statistics"), OFFICE, id="nav-stats"),
         Link("prep.office", _l("Exam preparation in my area"), OFFICE),
         Link("allowances.index", _l("Allowances and rewards"), OFFICE),
         Link("ask.stats", _l("Questions to experts in my area"), OFFICE)),
    )),
    Group("admin", _l("Administration"), (
        (Link("accounts.index", _l("Accounts"), OFFICE),
         Link("accounts.import_view", _l("Import accounts"), OFFICE),
         Link("orgs.index", _l("Org units"), OFFICE)),
        (Link("audit.index", _l("Audit trail"), OFFICE),
         Link("api_tokens.index", _l("API tokens"), OFFICE),
         Link("jobs.index", _l("Background jobs"), ("admin",))),
    )),
)


def menu_for(roles: set[str], endpoint: str | None = None) -> list[ShownGroup]:
    """The groups a holder of `roles` sees, in menu order; `endpoint` (the page shown) marks its group."""
    shown = []
    for group in MENU:
        sections = [[link for link in section if roles.intersection(link.roles)] for section in group.sections]
        sections = [s for s in sections if s]
        if sections:
            active = any(link.endpoint == endpoint for s in sections for link in s)
            shown.append(ShownGroup(group.key, group.label, sections, active))
    return shown


MENU_ENDPOINTS = frozenset(link.endpoint for group in MENU for section in group.sections for link in section)
_rendered: dict[tuple, Markup] = {}
_RENDERED_MAX = 1024  # a few roles × a few dozen menu pages × 2 languages fit many times over


def menu_html(roles: set[str], endpoint: str | None) -> Markup:
    """The main menu's items (templates/_menu.html) for a holder of `roles` on the page `endpoint`.

    Everything the HTML depends on is in the key: the roles (read afresh with the user on every request,
    so a role given or taken away shows on the next page), the language, the page when it is one of the
    menu's (it is marked), and the script root the links start with. The menu itself is code, so each
    process renders a menu once and keeps it."""
    key = (frozenset(roles), str(get_locale()), endpoint if endpoint in MENU_ENDPOINTS else None,
           request.script_root)
    html = _rendered.get(key)
    if html is None:
        html = Markup(render_template("_menu.html", groups=menu_for(roles, endpoint), endpoint=endpoint))
        if len(_rendered) >= _RENDERED_MAX:
            _rendered.clear()
        _rendered[key] = html
    return html
