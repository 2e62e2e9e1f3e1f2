"""axe-core (vendored in tests/e2e/vendor/) run inside a Playwright page: WCAG 2.1 A and AA rules."""
from pathlib import Path

AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
    summary: v.nodes.length ? v.nodes[0].failureSummary : '',
  }));
}"""


def axe_violations(page) -> list[dict]:
    """Inject axe-core into the open page (once per document) and return its WCAG 2.1 AA violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the site's CSP (script-src 'self') blocks a <script> tag.
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(_RUN, WCAG_TAGS)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"    at {target}" for target in v["targets"][:8])
        if len(v["targets"]) > 8:
            lines.append(f"    … and {len(v['targets']) - 8} more")
        if v["summary"]:
            lines.append("    " + v["summary"].replace("\n", "\n    "))
    return "\n".join(lines)


def assert_accessible(page, what: str = "") -> None:
    """Fail with a readable list (rule id, target, help) on any critical or serious axe violation."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    if blocking:
        where = what or page.url
        raise AssertionError(f"axe-core: {len(blocking)} critical/serious violation(s) on {where}\n"
                             + format_violations(blocking))
