"""The built site in a real browser (headless Chromium through Selenium).

Against the strict build served on localhost, every chapter page must render
with its math typeset by MathJax, every image loaded, solutions collapsed and
a Colab link to its own notebook; the navigation must reach every chapter and
the search must find each one. A student build (solutions hidden) must hold
no solution code. Screenshots of every page go to `_build/screenshots/`.

Needs Chromium and chromedriver (`make test` installs Debian's packages with
scripts/ensure-chromium.sh). This machine reaches no CDN, so the browser
resolves no outside host, and the MathJax 3 the pages load from jsDelivr is
served from the copy that django-static-mathjax installs.
"""

import functools
import html
import http.server
import importlib.metadata
import io
import os
import pathlib
import re
import shutil
import threading
import time
import urllib.parse

import nbformat
import pytest

from conftest import CHAPTERS, ROOT, build_book, report

# One xdist worker runs test_site.py and test_book_build.py: they share the site built once (`built_site`).
pytestmark = [pytest.mark.book, pytest.mark.xdist_group("site")]

SCREENSHOTS = ROOT / "_build" / "screenshots"
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/"
LOCAL_MATHJAX = "/_mathjax/"
# What a chapter's Colab link opens: the learners' copy (student edition without outputs), not book/.
COLAB = "https://colab.research.google.com/github/aecourse/aecourse/blob/main/student/"
WIDTH, HEIGHT = 1280, 1600
PAGES = [f"book/{path.stem}.html" for path in CHAPTERS]


# --- serving the site -------------------------------------------------------

def _mathjax_dir():
    folder = pathlib.Path(importlib.metadata.distribution("django-static-mathjax")
                          .locate_file("mathjax/static/mathjax/es5"))
    assert (folder / "tex-chtml.js").is_file(), f"no MathJax 3 in {folder}; install requirements.txt"
    return folder


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; points its MathJax at a local copy of the same MathJax 3."""

    mathjax = None

    def translate_path(self, path):
        route = urllib.parse.urlsplit(path).path
        if route.startswith(LOCAL_MATHJAX):
            return str(self.mathjax / urllib.parse.unquote(route[len(LOCAL_MATHJAX):]))
        return super().translate_path(path)

    def send_head(self):
        path = pathlib.Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_bytes().replace(MATHJAX_CDN.encode(), LOCAL_MATHJAX.encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args):
        pass


def _serve(folder):
    handler = type("Handler", (_Handler,), {"mathjax": _mathjax_dir()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def site_url(built_site):
    server = _serve(built_site)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


# --- the browser --------------------------------------------------------------

def _executable(*names):
    for name in names:
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = _executable("chromium", "chromium-browser", "google-chrome")
    driver_path = _executable("chromedriver") or (
        os.path.join(os.environ["CHROMEWEBDRIVER"], "chromedriver") if os.environ.get("CHROMEWEBDRIVER") else None)
    assert chromium and driver_path, "Chromium or chromedriver missing: run `bash scripts/ensure-chromium.sh`"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}", "--force-device-scale-factor=1",
                     # no outside host: fail fast instead of waiting for DNS
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    report(f"screenshots of the site: {SCREENSHOTS}")
    return SCREENSHOTS


def _open(driver, url):
    """Loads `url` and waits until MathJax (if the page has it) has typeset the page and its fonts loaded."""
    driver.get(url)
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = (tries) => {
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            // typeset, then its web fonts loaded (else screenshots show blanks where math is)
            MathJax.startup.promise.then(() => document.fonts.ready).then(() => done(true), () => done(false));
          } else if (tries > 0 && document.querySelector('script[src*="mathjax"]')) {
            setTimeout(() => wait(tries - 1), 100);
          } else { done(false); }
        };
        if (document.readyState === 'complete') wait(300);
        else window.addEventListener('load', () => wait(300));
    """)


def _save_screenshots(driver, name, folder, max_tiles=40):
    """Saves the page as viewport-sized tiles, top to bottom: `name-01.png`, ..."""
    height, step = driver.execute_script(
        "return [document.documentElement.scrollHeight, window.innerHeight - 80]")  # tiles overlap a little
    paths = []
    for i, top in enumerate(range(0, height, step)):
        if i == max_tiles:
            break
        driver.execute_script("window.scrollTo(0, arguments[0])", top)
        paths.append(folder / f"{name}-{i + 1:02d}.png")
        driver.save_screenshot(str(paths[-1]))
    driver.execute_script("window.scrollTo(0, 0)")
    return paths


# --- every chapter page ---------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_typeset_math_and_figures(browser, site_url, screenshots, page):
    _open(browser, site_url + page)
    title = browser.execute_script("const h = document.querySelector('main h1'); return h ? h.innerText : ''")
    assert title.strip(), f"{page}: no title"
    state = browser.execute_script("""
        const main = document.querySelector('main');
        const clone = main.cloneNode(true);
        clone.querySelectorAll('pre, code, script, mjx-container').forEach(e => e.remove());
        const math = [...main.querySelectorAll('.math')];
        return {
          mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
          mathjax_src: (document.querySelector('script[src*="mathjax" i]') || {}).src,
          math: math.length,
          untypeset: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
          errors: [...main.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
          dollars: (clone.innerText.match(/\\$\\$|\\\\\\(|\\\\\\[/g) || []).length,
          images: [...main.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
                                                             width: i.naturalWidth, shown: i.getBoundingClientRect().width})),
          // a Markdown table shown as text: a paragraph of | cells |
          raw_tables: [...main.querySelectorAll('p')].map(p => p.innerText.trim())
              .filter(t => /^\|.*\|$/s.test(t) && t.split('|').length > 4).map(t => t.slice(0, 80)),
          // wider than the text column: scrolled inside a box (noted) or spilling out of it (a defect)
          wide: [...main.querySelectorAll('table, img, .cell_output')]
              .filter(e => e.getBoundingClientRect().right > main.getBoundingClientRect().right + 2)
              .map(e => {
                let box = e.parentElement, scrolls = false;
                for (; box && box !== main; box = box.parentElement) {
                  if (/auto|scroll/.test(getComputedStyle(box).overflowX)) { scrolls = true; break; }
                }
                return {what: e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''), scrolls};
              }),
        };
    """)
    paths = _save_screenshots(browser, page.split("/")[-1].removesuffix(".html"), screenshots)
    # Any error the page's scripts log fails the test (a missing favicon is the server's, not the page's).
    console = sorted({entry["message"].split(" ", 2)[-1][:160] for entry in browser.get_log("browser")
                      if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]})
    assert not console, f"{page}: browser console errors: {console}"
    assert state["mathjax"], (f"{page}: MathJax did not load from {state['mathjax_src']} "
                              f"(the browser reaches only 127.0.0.1; {MATHJAX_CDN} is served locally)")
    assert state["math"] > 0, f"{page}: no math on the page"
    assert not state["untypeset"], f"{page}: math left untypeset: {state['untypeset'][:3]}"
    assert not state["errors"], f"{page}: MathJax errors: {state['errors'][:3]}"
    assert state["dollars"] == 0, f"{page}: raw $$ or \\( \\[ left in the text"
    broken = [image["src"] for image in state["images"] if not image["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"
    assert state["images"], f"{page}: no figure on the page (is the notebook stored executed?)"
    assert not state["raw_tables"], f"{page}: Markdown tables shown as raw text: {state['raw_tables']}"
    scrolled = [wide["what"] for wide in state["wide"] if wide["scrolls"]]
    if scrolled:
        report(f"{page}: {len(scrolled)} tables or outputs scroll sideways: {scrolled[:5]}")
    spilled = [wide["what"] for wide in state["wide"] if not wide["scrolls"]]
    assert not spilled, f"{page}: tables or outputs spill out of the text column: {spilled}"
    assert paths


VISIBLE = "{opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true}"


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_solutions_are_collapsed(browser, site_url, page):
    _open(browser, site_url + page)
    solutions = browser.execute_script(f"""
        return [...document.querySelectorAll('main .solution')].map(s => {{
          const code = s.querySelector('pre');
          return {{id: s.id, collapsed: s.tagName === 'DETAILS' ? !s.open : s.classList.contains('toggle-hidden'),
                   code_visible: !!code && code.checkVisibility({VISIBLE}), has_code: !!code}};
        }});
    """)
    exercises = len(browser.find_elements("css selector", "main .exercise"))
    assert solutions, f"{page}: no solutions"
    assert len(solutions) == exercises, f"{page}: {exercises} exercises but {len(solutions)} solutions"
    shown = [s["id"] for s in solutions if not s["collapsed"] or s["code_visible"]]
    assert not shown, f"{page}: solutions shown without a click: {shown}"
    assert all(s["has_code"] for s in solutions), f"{page}: a solution holds no code"
    # One click on a solution's title shows its code.
    first = browser.find_element("css selector", "main .solution")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", first)
    # The toggle button (the title also holds a link to the exercise, which a click may hit instead).
    toggles = first.find_elements("css selector", "button.toggle-button")
    (toggles[0] if toggles else first.find_element("css selector", ".admonition-title, summary")).click()
    assert browser.execute_async_script(f"""
        const [solution, done] = arguments;
        setTimeout(() => done(solution.querySelector('pre').checkVisibility({VISIBLE})), 1000);
    """, first), f"{page}: clicking a solution's title does not show it"


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_notebook_links_open_only_the_learners_copy(browser, site_url, page):
    """The page's only link to a notebook is its Colab link to the learners' copy: no download, no launch button."""
    _open(browser, site_url + page)
    links = {a.get_attribute("href") for a in browser.find_elements("css selector", "a[href*='.ipynb'], a[href*='colab']")}
    notebook = COLAB + page.removesuffix("html").removeprefix("book/") + "ipynb"
    assert links == {notebook}, f"{page}: expected one notebook link, to {notebook}; found {links}"


# --- the site as a whole -------------------------------------------------------------

@pytest.mark.browser
def test_navigation_reaches_every_chapter(browser, site_url):
    browser.get(site_url)  # index.html redirects to the first page
    for _ in range(100):
        if browser.current_url != site_url:
            break
        time.sleep(0.1)
    assert browser.current_url == site_url + "book/intro.html"
    chapters = [site_url + page for page in PAGES]
    sidebar = [a.get_attribute("href").split("#")[0]
               for a in browser.find_elements("css selector", ".bd-sidebar-primary nav a.reference.internal")]
    missing = [url for url in chapters if url not in sidebar]
    assert not missing, f"the sidebar has no link to {missing}"
    # Following "next" from the first page visits every chapter, in the order of _toc.yml.
    visited = [browser.current_url.split("#")[0]]
    for _ in range(len(sidebar) + 2):
        following = browser.find_elements("css selector", "a.right-next")
        if not following:
            break
        following[0].click()
        visited.append(browser.current_url.split("#")[0])
    assert [url for url in visited if url in chapters] == chapters, visited


def _search_word(page_html):
    """A word of the chapter's title to search for: its longest, other than "autoencoders"."""
    title = re.search(r"<h1>(.*?)<", page_html, re.S).group(1)
    words = re.findall(r"[A-Za-z]+", html.unescape(title))
    return max([word for word in words if "autoencoder" not in word.lower()] or words, key=len)


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_search_finds_the_chapter(browser, built_site, site_url, page):
    word = _search_word((built_site / page).read_text())
    browser.get(f"{site_url}search.html?q={urllib.parse.quote(word)}")
    found = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const poll = (tries) => {
          const links = [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href);
          const status = document.querySelector('#search-results p.search-summary');
          // Sphinx adds results one by one, then says "Search finished" or "did not match"
          if ((status && /finished|did not match/i.test(status.innerText)) || tries === 0) done(links);
          else setTimeout(() => poll(tries - 1), 100);
        };
        poll(300);
    """)
    assert any(link.split("#")[0].split("?")[0] == site_url + page for link in found), (
        f"searching {word!r} did not find {page}: {found}")


# --- the student site ------------------------------------------------------------------

@pytest.fixture(scope="session")
def student_site(tmp_path_factory):
    """The site built with solutions hidden (as `make student-site` does); returns its html folder."""
    import subprocess
    import sys

    if os.environ.get("AECOURSE_STUDENT_SITE"):
        return pathlib.Path(os.environ["AECOURSE_STUDENT_SITE"])
    out = tmp_path_factory.mktemp("student")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "student_site.py"), str(out / "_config.yml")],
                   check=True, capture_output=True)
    return build_book(out, config=out / "_config.yml")


def _page(path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(), "html.parser").find("main")


def _solution_lines(chapter):
    """The longest line of each solution cell's answer (between the BEGIN/END SOLUTION markers)."""
    lines = []
    for cell in nbformat.read(chapter, as_version=4).cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            answer = cell.source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0]
            lines.append(max((line.strip() for line in answer.splitlines()), key=len))
    return lines


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_student_site_has_no_solution_code(built_site, student_site, chapter):
    page = f"book/{chapter.stem}.html"
    normal, student = _page(built_site / page), _page(student_site / page)
    answers = _solution_lines(chapter)
    assert answers, f"{chapter.name}: no solution cells"
    assert all(line in normal.get_text() for line in answers), f"{page}: the normal site lacks a solution"
    shown = [line for line in answers if line in student.get_text()]
    assert not shown, f"{page}: the student site shows solution code: {shown}"
    assert not student.select(".solution, .tag_solution"), f"{page}: the student site has solution blocks"
    # The exercises and their check cells are all still there.
    assert len(student.select(".exercise")) == len(normal.select(".exercise")) == len(answers)
    assert len(student.select(".tag_check")) == len(normal.select(".tag_check")) > 0


def test_no_site_serves_a_notebook(built_site, student_site):
    """Neither site holds a chapter notebook (Sphinx's `_sources/` copy would serve every solution)."""
    served = [path for site in (built_site, student_site) for path in site.rglob("*.ipynb")]
    assert not served, f"the sites serve notebooks with solutions: {served[:3]}"
