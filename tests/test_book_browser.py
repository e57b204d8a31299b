"""Open every page of the built book in headless Chromium, as a reader would.

Fails on a JavaScript error, a broken image, math left unrendered, a raw
widget or traceback on the page, a request to anything but localhost, an
internal link whose page or anchor does not exist, a Colab link that does
not open the page's own notebook on the repository named in _config.yml, or a
code cell that scrolls sideways in a 1280-pixel-wide window.
Screenshots go to artifacts/screenshots/ for a person to look at.

Without Chromium the test is skipped on a workstation, but fails when the
environment variable CI is set: a CI runner must not skip it silently.
"""

import functools
import http.server
import os
import shutil
import threading
import urllib.parse

import colab_cell
import pytest
import yaml
from conftest import ROOT

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = [
    name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path
]
IN_CI = bool(os.environ.get("CI", "").strip())  # the same rule as vae_lib.quick_mode
INSTALL = (
    "install Debian's chromium and chromium-driver packages "
    "(`apt-get install -y chromium chromium-driver` as root; `make test` does it "
    "when run as root)"
)
pytestmark = pytest.mark.skipif(
    bool(MISSING) and not IN_CI, reason=f"{' and '.join(MISSING)} not found: {INSTALL}"
)
SHOTS = ROOT / "artifacts" / "screenshots"
MATHJAX_TIMEOUT_S = 300
"""How long one page may take to typeset its math (generous: CI machines can be loaded)."""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(html):
    handler = functools.partial(QuietHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2000",
        # No network: every host but the local server fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _pages(html):
    return sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not p.name.startswith(("genindex", "search"))
        and not p.relative_to(html).as_posix().startswith("_static/")
    )


PAGE_STATE = """
const text = document.querySelector('main') ? document.querySelector('main').innerText : '';
const images = Array.from(document.images);
return {
  text: text,
  broken: images.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src),
  images: images.length,
  mathSource: document.querySelectorAll('.math').length,
  mathRendered: document.querySelectorAll('mjx-container').length,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  scrollingCode: Array.from(document.querySelectorAll('div.cell_input pre'))
    .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.slice(0, 60)),
};
"""


def _expected_colab(page):
    """The Colab URL a page must carry: its own notebook, or None for .md pages."""
    source = ROOT / page.replace(".html", ".ipynb")
    if not source.is_file():
        return None
    colab = yaml.safe_load((ROOT / "_config.yml").read_text())["launch_buttons"]["colab_url"]
    url, branch = colab_cell.repository()
    org_repo = url.split("github.com/", 1)[1]
    return (
        f"{colab.rstrip('/')}/github/{org_repo}/blob/{branch}/{source.relative_to(ROOT).as_posix()}"
    )


def _link_problems(html, server, page, links):
    """Internal links whose file or #anchor is missing; wrong or missing Colab links."""
    problems = []
    for link in links:
        if not link.startswith(server + "/"):
            continue
        parsed = urllib.parse.urlparse(link)
        target = html / urllib.parse.unquote(parsed.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{page}: link to a missing page {parsed.path}")
        elif parsed.fragment and target.suffix == ".html":
            anchor = urllib.parse.unquote(parsed.fragment)
            if f'id="{anchor}"' not in target.read_text():
                problems.append(f"{page}: link to a missing anchor {parsed.path}#{anchor}")
    colab = sorted({link for link in links if "colab.research.google.com" in link})
    expected = _expected_colab(page)
    if expected is None and colab:
        problems.append(f"{page}: Colab links on a page with no notebook: {colab}")
    elif expected is not None and colab != [expected]:
        problems.append(f"{page}: Colab links {colab}, expected [{expected}]")
    return problems


MATHJAX_DONE = """
const done = arguments[arguments.length - 1];
if (!document.querySelector('.math')) { done('no math'); return; }
// MathJax 3 loads with defer: wait until its startup object exists, then for the promise
// that resolves once the page's first typesetting has finished.
(function wait() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done('typeset'), e => done('MathJax failed: ' + e));
  } else {
    setTimeout(wait, 100);
  }
})();
"""


def _wait_for_mathjax(browser, page):
    """Wait for MathJax.startup.promise; return a problem string, or None."""
    from selenium.common.exceptions import TimeoutException

    try:
        result = browser.execute_async_script(MATHJAX_DONE)
    except TimeoutException:
        return f"{page}: MathJax did not finish typesetting within {MATHJAX_TIMEOUT_S} s"
    if result not in ("no math", "typeset"):
        return f"{page}: {result}"
    return None


def test_every_page_reads_well(request):
    import json

    if MISSING:  # only reached under CI: elsewhere the module is skipped
        pytest.fail(
            f"CI is set but {' and '.join(MISSING)} not found on PATH; {INSTALL}.", pytrace=False
        )
    # Fixtures asked for only now, so that a missing browser fails before the book build.
    html = request.getfixturevalue("html")
    server = request.getfixturevalue("server")
    browser = request.getfixturevalue("browser")
    browser.set_script_timeout(MATHJAX_TIMEOUT_S)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for page in _pages(html):
        browser.get_log("performance")  # drop entries from the previous page
        browser.get(f"{server}/{page}")
        mathjax_problem = _wait_for_mathjax(browser, page)
        if mathjax_problem:
            problems.append(mathjax_problem)
        state = browser.execute_script(PAGE_STATE)
        browser.save_screenshot(str(SHOTS / (page.replace("/", "__") + ".png")))
        # Chromium probes /favicon.ico by itself on the bare redirect page that
        # Jupyter Book writes at the site root; the book's own favicon is linked.
        errors = [
            e["message"]
            for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and not e["message"].startswith(f"{server}/favicon.ico ")
        ]
        remote = []
        for entry in browser.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                url = message["params"]["request"]["url"]
                if not url.startswith((server, "data:", "blob:", "about:")):
                    remote.append(url)
        problems += _link_problems(html, server, page, state["links"])
        if errors:
            problems.append(f"{page}: JavaScript errors {errors}")
        if remote:
            problems.append(f"{page}: requests leave the site {remote[:3]}")
        if state["scrollingCode"]:
            problems.append(
                f"{page}: code cells scroll sideways in a 1280-pixel window: "
                f"{state['scrollingCode'][:2]}"
            )
        if state["broken"]:
            problems.append(f"{page}: broken images {state['broken'][:3]}")
        if state["mathSource"] and state["mathRendered"] < state["mathSource"]:
            problems.append(
                f"{page}: {state['mathSource']} math elements, "
                f"{state['mathRendered']} rendered by MathJax"
            )
        for raw in (
            "$$",
            "\\begin{",
            "application/vnd.jupyter.widget",
            "Traceback (most recent call last)",
        ):
            if raw in state["text"]:
                problems.append(f"{page}: raw {raw!r} visible on the page")
    assert not problems, "\n".join(problems)
