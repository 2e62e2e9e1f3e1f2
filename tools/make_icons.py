"""Draw the site's icons (lms/static/icons/ and lms/static/favicon.ico) from one geometry.

An open book under a rising sun, white and gold on the brand red (#b5292f, the menu bar's colour).
Everything sits inside the central circle of 80 % of the side, so the full-bleed variant is a valid
maskable icon (Android crops it to any shape). Run: .venv/bin/python tools/make_icons.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parent.parent / "lms" / "static"
RED, WHITE, GOLD = "#b5292f", "#ffffff", "#f4c542"
SIDE, RADIUS = 512, 96  # geometry in a 512 × 512 square; corner radius of the rounded variant

SUN = (256, 124, 40)  # centre x, centre y, radius
PAGES = [
    [(92, 180), (246, 204), (246, 392), (92, 368)],    # left page
    [(266, 204), (420, 180), (420, 368), (266, 392)],  # right page
]
LINES = [  # text lines on the pages, in the brand red
    [(120, 232), (218, 247)], [(120, 270), (218, 285)], [(120, 308), (218, 323)],
    [(294, 247), (392, 232)], [(294, 285), (392, 270)], [(294, 323), (392, 308)],
]
LINE_WIDTH = 12


def svg() -> str:
    pages = "".join(f'<polygon points="{" ".join(f"{x},{y}" for x, y in p)}" fill="{WHITE}"/>' for p in PAGES)
    lines = "".join(f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}"/>' for a, b in LINES)
    x, y, r = SUN
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIDE} {SIDE}">'
            f'<title>社区学堂</title>'
            f'<rect width="{SIDE}" height="{SIDE}" rx="{RADIUS}" fill="{RED}"/>'
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="{GOLD}"/>{pages}'
            f'<g stroke="{RED}" stroke-width="{LINE_WIDTH}" stroke-linecap="round">{lines}</g></svg>\n')


def draw(size: int, rounded: bool) -> Image.Image:
    scale = 4 * size / SIDE  # drawn 4× larger, then reduced: smooth edges
    big = int(SIDE * scale)

    def pt(p):
        return (p[0] * scale, p[1] * scale)

    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if rounded:
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=RADIUS * scale, fill=RED)
    else:
        d.rectangle((0, 0, big, big), fill=RED)
    x, y, r = SUN
    d.ellipse(((x - r) * scale, (y - r) * scale, (x + r) * scale, (y + r) * scale), fill=GOLD)
    for page in PAGES:
        d.polygon([pt(p) for p in page], fill=WHITE)
    w = LINE_WIDTH * scale
    for a, b in LINES:
        d.line([pt(a), pt(b)], fill=RED, width=round(w))
        for end in (a, b):  # round caps
            cx, cy = pt(end)
            d.ellipse((cx - w / 2, cy - w / 2, cx + w / 2, cy + w / 2), fill=RED)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    icons = STATIC / "icons"
    icons.mkdir(exist_ok=True)
    (icons / "icon.svg").write_text(svg(), encoding="utf-8")
    draw(192, rounded=True).save(icons / "icon-192.png", optimize=True)
    draw(512, rounded=True).save(icons / "icon-512.png", optimize=True)
    draw(512, rounded=False).save(icons / "icon-maskable-512.png", optimize=True)
    draw(180, rounded=False).convert("RGB").save(icons / "apple-touch-icon.png", optimize=True)
    draw(256, rounded=True).save(STATIC / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
