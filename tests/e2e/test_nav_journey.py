"""Issue 14 point 1 in the browser: the office's menu on a laptop stays on one line and its dropdowns open
by mouse and keyboard, a worker's phone menu is an off-canvas panel, and the projector's check-in kiosk is
readable at 1920×1080.

Screenshots go to $LMS_SCREENSHOT_DIR when it is set (docs/screenshots/ holds the committed ones)."""
import os
import re

import pytest

from lms.util import utc_to_local

from .test_course_journey import log_in, new_page
from .test_training_journey import add_session

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def shot(page, name):
    """The viewport as a small PNG (a 128-colour palette keeps text crisp at a third of the size)."""
    folder = os.environ.get("LMS_SCREENSHOT_DIR")
    if folder:
        from PIL import Image

        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name)
        page.screenshot(path=path)
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=128)
        small.save(path, optimize=True)


# Every top-level entry of the menu bar: its box, the lines its label takes, and its colours.
TOP_ITEMS = """() => Array.from(document.querySelectorAll('#site-nav .navbar-nav > .nav-item > .nav-link')).map(el => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const tops = [];  // the top of every line box of the label's text
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) { if (r.width > 0) tops.push(r.top); }
    }
    tops.sort((a, b) => a - b);
    const lines = tops.filter((t, i) => i === 0 || t - tops[i - 1] > parseFloat(style.fontSize) / 2).length;
    return {id: el.id, text: el.innerText.trim(), top: box.top, right: box.right - innerWidth, height: box.height,
            lines: lines, color: style.color,
            background: getComputedStyle(document.getElementById('site-nav')).backgroundColor};
})"""


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.1 contrast ratio of two opaque CSS rgb() colours."""
    def luminance(css):
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def assert_menu_on_one_line(page):
    items = page.evaluate(TOP_ITEMS)
    assert len(items) >= 8  # 学习 培训 考试 资源库 统计 管理, the language and the user
    for item in items:
        assert item["lines"] == 1, item  # the label does not wrap
        assert abs(item["top"] - items[0]["top"]) < 2, item  # nor does the bar: one row of items
        assert abs(item["height"] - items[0]["height"]) < 2, item
        assert item["right"] <= 0, item  # on the screen
        assert not item["color"].startswith("rgba"), item  # opaque: the ratio below is the one people see
        assert contrast(item["color"], item["background"]) >= 4.5, item
    return items


def test_office_menu_on_a_laptop_stays_on_one_line_and_opens_by_mouse_and_keyboard(browser, live_server):
    base = live_server
    page = new_page(browser)  # 1280 × 900
    log_in(page, base, "office_qh")
    page.wait_for_url(re.compile(r"/home$"))
    items = assert_menu_on_one_line(page)
    assert [i["text"] for i in items[:6]] == ["学习", "培训", "考试", "资源库", "统计", "管理"]
    for width in (1366, 1440, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        assert_menu_on_one_line(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # mouse: 考试 opens its menu, 成绩核验 opens its page, which the menu then marks
    assert not page.is_visible("#nav-results")
    page.click("#menu-exams")
    assert page.is_visible("#nav-results") and page.get_attribute("#menu-exams", "aria-expanded") == "true"
    shot(page, "nav-office-1280.png")
    page.click("#nav-results")
    page.wait_for_url(re.compile(r"/mock/results$"))
    assert "active" in page.get_attribute("#menu-exams", "class")
    page.click("#menu-exams")
    assert page.get_attribute("#nav-results", "aria-current") == "page"
    page.click("h1")  # a click elsewhere closes it
    assert not page.is_visible("#nav-results")

    # keyboard: Tab to 管理, Enter opens it, the arrow keys walk it, Escape closes it, Enter follows a link
    page.focus("#menu-learn")
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "menu-admin"
    page.keyboard.press("Enter")
    assert page.is_visible("#nav-accounts-index")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "nav-accounts-index"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "nav-accounts-import-view"
    page.keyboard.press("Escape")
    assert not page.is_visible("#nav-accounts-index")
    assert page.evaluate("document.activeElement.id") == "menu-admin"
    page.keyboard.press("ArrowDown")  # the arrow opens it too, on its first link
    assert page.is_visible("#nav-accounts-index")
    assert page.evaluate("document.activeElement.id") == "nav-accounts-index"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/$"))

    # in English too, nothing wraps
    page.click("#lang-en")
    page.wait_for_url(re.compile(r"/accounts/$"))
    assert [i["text"] for i in assert_menu_on_one_line(page)[:6]] == [
        "Learning", "Training", "Exams", "Resource library", "Statistics", "Administration"]
    page.click("#lang-zh_Hans_CN")
    page.wait_for_url(re.compile(r"/accounts/$"))

    # the user menu holds 退出
    page.click("#menu-user")
    assert page.inner_text("#logout") == "退出"
    page.click("#logout")
    page.wait_for_url(re.compile(r"/auth/login"))


def test_worker_phone_menu_is_an_off_canvas_panel(browser, live_server):
    base = live_server
    page = new_page(browser, phone=True)  # 390 × 844
    log_in(page, base, "w0003")
    page.wait_for_url(re.compile(r"/home$"))
    assert page.is_visible(".navbar-toggler") and not page.is_visible("#mainnav")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    page.click(".navbar-toggler")
    page.wait_for_selector("#mainnav.show")
    assert page.is_visible("#menu-exams") and not page.is_visible("#menu-admin")
    assert page.locator("#nav-stats").count() == 0  # a worker has no statistics or administration
    page.click("#menu-exams")
    page.wait_for_selector("#nav-mock-mistakes", state="visible")
    shot(page, "nav-worker-390.png")
    page.click("#nav-mock-mistakes")
    page.wait_for_url(re.compile(r"/mock/mistakes$"))
    assert not page.is_visible("#mainnav")  # a new page starts with the panel closed
    page.click(".navbar-toggler")
    page.wait_for_selector("#mainnav.show")
    page.click("#mainnav .btn-close")
    page.wait_for_selector("#mainnav", state="hidden")


def test_projector_kiosk_at_1920_shows_the_code_and_the_countdown_sentence(browser, live_server, live_clock):
    """The server's clock is held at 10:00 in Shanghai (whatever the hour the test runs at), on a code change."""
    base = live_server
    office = new_page(browser)
    log_in(office, base, "office_qh02")
    office.goto(f"{base}/training/new")
    office.fill("#title", "社区应急处置专题培训")
    office.fill("#capacity", "80")
    office.click("#save-training")
    office.wait_for_url(re.compile(r"/training/\d+$"))
    training_url = office.url
    add_session(office, base, training_url, utc_to_local(live_clock.at), 120, "2")
    office.close()

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    kiosk = context.new_page()
    kiosk.set_default_timeout(15000)
    log_in(kiosk, base, "office_qh02")
    kiosk.wait_for_url(re.compile(r"/home$"))
    # the page's time stands still from before it opens until run_for(): no tick of its countdown and no
    # refresh from the server (whose clock is held too) runs while a busy machine loads the page
    kiosk.clock.install()
    kiosk.goto(training_url)
    kiosk.clock.pause_at(kiosk.evaluate("Date.now()") + 100)
    kiosk.click("#screen-1")
    kiosk.wait_for_selector("#checkin-qr[src^='data:image/svg+xml']")
    kiosk.wait_for_load_state("load")  # its style sheet too
    assert kiosk.locator("#site-nav").count() == 0 and kiosk.locator("footer").count() == 0
    code = kiosk.inner_text("#checkin-code").strip()
    assert re.fullmatch(r"\d{6}", code)
    sentence = kiosk.inner_text("#checkin-next").strip()
    left = int(re.fullmatch(r"签到码将在 (\d+) 秒后更新", sentence).group(1))
    assert left == 30, sentence
    sizes = kiosk.evaluate("""() => ({
        code: parseFloat(getComputedStyle(document.getElementById('checkin-code')).fontSize),
        sentence: parseFloat(getComputedStyle(document.getElementById('checkin-next')).fontSize),
        qr: document.getElementById('checkin-qr').getBoundingClientRect().width,
        scroll: document.documentElement.scrollHeight,
        inside: ['checkin-qr', 'checkin-code', 'checkin-next', 'checkin-count'].every(id => {
            const r = document.getElementById(id).getBoundingClientRect();
            return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }),
    })""")
    assert sizes["code"] >= 150 and sizes["sentence"] >= 40 and sizes["qr"] >= 600, sizes
    assert sizes["scroll"] <= 1080 and sizes["inside"], sizes  # all of it on the screen, no scrolling
    shot(kiosk, "checkin-kiosk-1920.png")

    # two seconds on the page's clock: the countdown moves on by two (the page asks the server again only
    # every 5 s)
    kiosk.clock.run_for(2000)
    later = re.fullmatch(r"签到码将在 (\d+) 秒后更新", kiosk.inner_text("#checkin-next").strip())
    assert later and int(later.group(1)) == left - 2, later


    kiosk.click("#kiosk-back")
    kiosk.wait_for_url(training_url)
    context.close()

