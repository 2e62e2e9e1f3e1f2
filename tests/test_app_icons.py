"""The favicon and the web app manifest (issue 14 point 8): a worker can put the site on the phone's
home screen. Everything through HTTP, as a browser fetches it."""
import io
import json
import math
import re

from PIL import Image

from .conftest import login


def links(html: str) -> dict[str, list[str]]:
    """rel → hrefs of the page's <link> elements."""
    out: dict[str, list[str]] = {}
    for tag in re.findall(r"<link\b[^>]*>", html):
        rel = re.search(r'rel="([^"]+)"', tag).group(1)
        out.setdefault(rel, []).append(re.search(r'href="([^"]+)"', tag).group(1))
    return out


def test_every_page_links_the_manifest_and_the_icons(client):
    for url in ("/auth/login", "/home"):
        if url == "/home":
            login(client, "worker_a")
        html = client.get(url).get_data(as_text=True)
        rels = links(html.split("</head>", 1)[0])
        assert rels["manifest"] == ["/static/manifest.webmanifest"], url
        assert sorted(rels["icon"]) == ["/static/favicon.ico", "/static/icons/icon.svg"], url
        assert rels["apple-touch-icon"] == ["/static/icons/apple-touch-icon.png"], url
        for href in [h for hs in rels.values() for h in hs]:
            assert client.get(href).status_code == 200, href


def test_the_manifest_is_served_as_a_manifest_and_its_icons_are_what_it_says(client):
    r = client.get("/static/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    manifest = json.loads(r.data)
    assert manifest["name"] == "社区学堂" and 0 < len(manifest["short_name"]) <= 12
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"]) and manifest["background_color"]
    assert client.get(manifest["start_url"]).status_code == 302  # to the login page, or home when logged in
    pngs = {}
    for icon in manifest["icons"]:
        r = client.get(icon["src"])
        assert r.status_code == 200 and r.mimetype == icon["type"], icon
        if icon["type"] == "image/png":
            img = Image.open(io.BytesIO(r.data))
            assert f"{img.width}x{img.height}" == icon["sizes"], icon
            pngs[(icon["sizes"], icon["purpose"])] = img.convert("RGBA")
        else:
            assert b"<svg" in r.data
    assert {"192x192", "512x512"} <= {size for size, purpose in pngs if purpose == "any"}
    # The maskable icon is full-bleed and keeps its drawing inside the safe zone (the central circle of
    # 80 % of the side): outside it, only the background colour.
    mask = pngs[("512x512", "maskable")]
    background = mask.getpixel((0, 0))
    assert background[3] == 255
    outside = [mask.getpixel((x, y)) for x in range(0, 512, 4) for y in range(0, 512, 4)
               if math.hypot(x - 255.5, y - 255.5) > 0.4 * 512 + 2]
    assert outside and all(p == background for p in outside)
    # The "any" icon has rounded, transparent corners.
    assert pngs[("512x512", "any")].getpixel((0, 0))[3] == 0


def test_the_favicon_answers_at_the_root_too(client):
    for url in ("/favicon.ico", "/static/favicon.ico"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype in ("image/vnd.microsoft.icon", "image/x-icon"), url
        ico = Image.open(io.BytesIO(r.data))
        assert ico.format == "ICO" and {(16, 16), (32, 32)} <= set(ico.info["sizes"])
