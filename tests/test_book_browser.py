"""Open every page of the built book in headless Chromium, as a reader would.

Fails on a JavaScript error, a broken image, math left unrendered, a raw
widget or traceback on the page, or a request to anything but localhost.
Screenshots go to artifacts/screenshots/ for a person to look at.
"""
import functools
import http.server
import shutil
import threading

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (make test installs them as root)",
)
SHOTS = ROOT / "artifacts" / "screenshots"


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
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,2000",
                 # No network: every host but the local server fails to resolve.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _pages(html):
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not p.name.startswith(("genindex", "search"))
                  and not p.relative_to(html).as_posix().startswith("_static/"))


PAGE_STATE = """
const text = document.querySelector('main') ? document.querySelector('main').innerText : '';
const images = Array.from(document.images);
return {
  text: text,
  broken: images.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src),
  images: images.length,
  mathSource: document.querySelectorAll('.math').length,
  mathRendered: document.querySelectorAll('mjx-container').length,
};
"""


def test_every_page_reads_well(html, server, browser):
    import json
    import time

    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for page in _pages(html):
        browser.get_log("performance")  # drop entries from the previous page
        browser.get(f"{server}/{page}")
        deadline = time.time() + 20
        state = browser.execute_script(PAGE_STATE)
        while state["mathSource"] and state["mathRendered"] < state["mathSource"] and time.time() < deadline:
            time.sleep(0.25)
            state = browser.execute_script(PAGE_STATE)
        browser.save_screenshot(str(SHOTS / (page.replace("/", "__") + ".png")))
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        remote = []
        for entry in browser.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                url = message["params"]["request"]["url"]
                if not url.startswith((server, "data:", "blob:", "about:")):
                    remote.append(url)
        if errors:
            problems.append(f"{page}: JavaScript errors {errors}")
        if remote:
            problems.append(f"{page}: requests leave the site {remote[:3]}")
        if state["broken"]:
            problems.append(f"{page}: broken images {state['broken'][:3]}")
        if state["mathSource"] and state["mathRendered"] < state["mathSource"]:
            problems.append(f"{page}: {state['mathSource']} math elements, "
                            f"{state['mathRendered']} rendered by MathJax")
        for raw in ("$$", "\\begin{", "application/vnd.jupyter.widget",
                    "Traceback (most recent call last)"):
            if raw in state["text"]:
                problems.append(f"{page}: raw {raw!r} visible on the page")
    assert not problems, "\n".join(problems)
