"""The book as a reader sees it: every page of the smoke build in headless Chromium.

Runs after the smoke book build (tests/test_chapters.py).  For each page it checks that
every image loaded, every chapter page has a non-empty paper-vs-ours table (a table whose
header mentions "paper"), internal links resolve, and no Python traceback or error output
is shown.  The front page must link to every chapter, and at a 420 px wide window the front
page, the scoreboard and a chapter must not scroll sideways (wide tables scroll inside their
own box, see _static/custom.css).  A screenshot of each page is saved under
_build/screenshots/ as a test artifact (front page and data chapter also at 420 and 1400 px).

``BOOK_HTML=_build/html`` points the test at another build (e.g. the `book` profile's).
"""

import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / os.environ.get("BOOK_HTML", "_build/html-smoke")
SHOTS = ROOT / "_build" / "screenshots"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        pytest.skip(f"no build at {HTML} (run tests/test_chapters.py first)")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip("Debian chromium/chromedriver not installed (scripts/setup-browser.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def pages():
    if not HTML.exists():
        return []
    found = sorted(p.relative_to(HTML).as_posix() for p in (HTML / "book").rglob("*.html"))
    return found


def test_every_page_renders_cleanly(site, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    chapter_pages = [p for p in pages() if "/executed/" in p]
    assert chapter_pages, "no chapter pages in the build"
    for page in pages():
        browser.get(f"{site}/{page}")
        # Images below the fold are lazy-loaded: ask for all of them and wait until each settles.
        browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all(Array.from(document.images).map(i => { i.loading = 'eager';"
            " return i.complete ? null : new Promise(r => { i.onload = r; i.onerror = r; }); }))"
            ".then(() => done());"
        )
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        if broken:
            problems.append(f"{page}: images that did not load: {broken[:3]}")
        text = browser.execute_script("return document.body.innerText")
        for marker in ["Traceback (most recent call last)", "Error in callback"]:
            if marker in text:
                problems.append(f"{page}: shows '{marker}'")
        # Warnings on stderr are allowed (a chapter may show a data-quality warning); errors are not.
        errors = browser.execute_script(
            "return Array.from(document.querySelectorAll('.output.error, .output.traceback, .output.stderr'))"
            ".map(e => e.innerText).filter(t => /Traceback|^\\s*\\w*(Error|Exception):/m.test(t))"
            ".map(t => t.slice(0, 200))"
        )
        if errors:
            problems.append(f"{page}: error/stderr output cells: {errors[:2]}")
        if "/executed/" in page and not page.endswith(
            ("00_data.html", "07_use_the_models.html")
        ):  # no paper on these pages
            tables = browser.execute_script(
                "return Array.from(document.querySelectorAll('table')).filter(t => "
                "/paper/i.test(t.querySelector('thead') ? t.querySelector('thead').innerText : '') && "
                "t.querySelectorAll('tbody tr').length > 0).length"
            )
            if tables == 0:
                problems.append(f"{page}: no non-empty paper-vs-ours table")
        browser.save_screenshot(str(SHOTS / (page.replace("/", "__").replace(".html", ".png"))))
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
            ".filter(h => h.startsWith(location.origin))"
        )
        for link in set(links):
            url = urllib.parse.urldefrag(link)[0]
            try:
                urllib.request.urlopen(url, timeout=10).close()
            except urllib.error.HTTPError as exc:
                problems.append(f"{page}: broken internal link {url} ({exc.code})")
    assert not problems, "\n".join(problems)


FRONT = "book/intro.html"
NARROW, WIDE = 420, 1400


def chapter_pages():
    return [p for p in pages() if "/executed/" in p]


def _viewport(browser, width, height=900):
    """Emulate a window ``width`` CSS pixels wide (the headless window's own size is not exact)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _full_page_screenshot(browser, path, width):
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    _viewport(browser, width, min(max(height, 600), 12000))
    browser.save_screenshot(str(path))
    _viewport(browser, width)


def test_front_page_links_to_every_chapter(site, browser):
    chapters = chapter_pages()
    assert chapters, "no chapter pages in the build"
    browser.get(f"{site}/{FRONT}")
    # Links in the page's own text (not the sidebar, which lists every page anyway).
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('article a[href]')).map(a => a.href)"
        ".filter(h => h.startsWith(location.origin))"
    )
    linked = {urllib.parse.urlparse(urllib.parse.urldefrag(h)[0]).path.lstrip("/") for h in links}
    missing = [c for c in chapters if c not in linked]
    assert not missing, f"the front page does not link to: {missing}"
    broken = []
    for url in {urllib.parse.urldefrag(h)[0] for h in links}:
        try:
            urllib.request.urlopen(url, timeout=10).close()
        except urllib.error.HTTPError as exc:
            broken.append(f"{url} ({exc.code})")
    assert not broken, f"broken links on the front page: {broken}"


def test_no_sideways_scrolling_at_420_px(site, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    data_chapter = next((p for p in chapter_pages() if p.endswith("00_data.html")), None)
    chapters = chapter_pages()
    assert chapters, "no chapter pages in the build"
    targets = [FRONT, "book/scoreboard.html", data_chapter or chapters[0]]
    problems = []
    try:
        for page in targets:
            for width in (NARROW, WIDE):
                _viewport(browser, width)
                browser.get(f"{site}/{page}")
                # The culprits: visible elements reaching past the window that no scrolling box contains.
                overflow = browser.execute_script(
                    "const d = document.documentElement;"
                    "const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)"
                    " { if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true; }"
                    " return false; };"
                    "return [d.scrollWidth, window.innerWidth, Array.from(document.querySelectorAll('body *'))"
                    ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && e.offsetParent !== null"
                    " && !clipped(e))"
                    ".slice(-5).map(e => e.tagName + '.' + String(e.className).slice(0, 60) + ' right=' + "
                    "Math.round(e.getBoundingClientRect().right))]"
                )
                scroll_width, inner, culprits = overflow
                if scroll_width > inner + 1:
                    problems.append(
                        f"{page} at {width} px: page is {scroll_width} px wide for a {inner} px "
                        f"window; widest elements: {culprits}"
                    )
                if page in (FRONT, data_chapter):
                    name = page.replace("/", "__").replace(".html", f"@{width}px.png")
                    _full_page_screenshot(browser, SHOTS / name, width)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert not problems, "\n".join(problems)
