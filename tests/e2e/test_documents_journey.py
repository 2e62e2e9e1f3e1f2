"""Issue 14 point 8 in the browser: the wide statistics table keeps its first column in view while it
scrolls sideways, on a phone and on a laptop."""
import pytest

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SCROLL = """(id) => {
    const table = document.getElementById(id);
    const box = table.parentElement;                      // the .table-responsive that scrolls
    const first = [table.querySelector('thead th'), table.querySelector('tbody tr > :first-child')];
    const second = table.querySelector('tbody tr > :nth-child(2)');
    const left = (el) => el.getBoundingClientRect().left;
    first[1].scrollIntoView({block: 'center', behavior: 'instant'});  // into the window, to hit-test it
    box.scrollLeft = 0;
    const before = {box: left(box), first: first.map(left), second: left(second)};
    box.scrollLeft = 600;
    const r = first[1].getBoundingClientRect();
    const onTop = document.elementFromPoint(r.left + 5, r.top + r.height / 2);
    return {
        columns: table.querySelectorAll('thead th').length,
        overflow: box.scrollWidth > box.clientWidth,
        scrolled: box.scrollLeft,
        before: before,
        after: {box: left(box), first: first.map(left), second: left(second)},
        firstOnTop: first[1].contains(onTop),
        hit: onTop ? onTop.outerHTML.slice(0, 200) : null,
        rect: [r.left, r.top, r.width, r.height, window.innerHeight],
    };
}"""


@pytest.mark.parametrize("phone", [True, False], ids=["phone-390", "laptop-1280"])
def test_the_statistics_table_keeps_its_first_column_in_view(browser, live_server, phone):
    page = new_page(browser, phone=phone)
    log_in(page, live_server, "office_qh")
    page.goto(f"{live_server}/stats/")
    page.wait_for_selector("#table-units tbody tr")
    got = page.evaluate(SCROLL, "table-units")
    assert got["columns"] >= 20 and got["overflow"], got
    assert got["scrolled"] > 100, got
    # The unit column has not moved: it sits at the scroll box's left edge, above the scrolled cells.
    for before, after in zip(got["before"]["first"], got["after"]["first"], strict=True):
        assert abs(after - before) < 1 and abs(after - got["after"]["box"]) < 1, got
    assert got["firstOnTop"], (got["hit"], got["rect"])
    # The other columns moved by what was scrolled.
    assert abs((got["before"]["second"] - got["after"]["second"]) - got["scrolled"]) < 1, got
    page.context.close()
