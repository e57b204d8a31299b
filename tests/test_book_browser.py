"""Open every page of the built book in headless Chromium, as a reader would.

Fails on a JavaScript error, a broken image, math left unrendered, a raw
widget or traceback on the page, a request to anything but localhost, an
internal link whose page or anchor does not exist, a Colab link that does
not open the page's own notebook in the Colab edition on the repository named
in _config.yml, a code cell that scrolls sideways in a 1280-pixel-wide window,
an image whose alt text is empty, a file name or not a sentence, or a serious or
critical violation that axe-core (an accessibility checker, run in the page)
finds. On every
notebook's page, no solution code or output may show before the reader opens
its dropdown, and a click on the dropdown's toggle must show the code.
Screenshots go to artifacts/screenshots/ for a person to look at.

The in-page latent explorers (vae_lib.explorer) are checked on the pages
that carry them: moved through the same code path the pointer takes, their
canvas must show what PyTorch computes from the weights embedded in the page
(within 2 of 255 grey levels), the embedded weights must reproduce the
float32 reference stored with them, a new image must be drawn within 16 ms
(median) and each explorer may add at most 500 KB. A page built here with a
corrupted export, and one with a broken drawing routine, must fail those
checks.

Without Chromium the test is skipped on a workstation, but fails when the
environment variable CI is set: a CI runner must not skip it silently.
"""

import json
import os
import shutil
import statistics
import urllib.parse
import urllib.request
from pathlib import Path

import colab_cell
import numpy as np
import pytest
import torch
import yaml
from conftest import CHAPTERS, NOTEBOOKS, ROOT, alt_text_problem, serve_folder
from test_lib_explorer import corrupt
from torch import nn

import vae_lib as vl
from vae_lib import explorer as ex

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


@pytest.fixture(scope="module")
def server(html):
    with serve_folder(html) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


def _chromium(javascript=True):
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
    if not javascript:  # the page's scripts are off; WebDriver's own still run
        prefs = {"profile.managed_default_content_settings.javascript": 2}
        options.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


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
  alts: images.map(i => [i.src, i.getAttribute('alt'), !!i.closest('article')]),
  scrollingCode: Array.from(document.querySelectorAll('div.cell_input pre'))
    .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.slice(0, 60)),
};
"""


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag',
  values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(
  r => done(r.violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))),
  e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def _axe_problems(browser, page):
    """axe-core's serious and critical violations of WCAG 2.1 A and AA on the open page.

    Only the WCAG rules run (not axe's "best practice" ones, whose impact is mostly
    moderate): on the chapters' long pages they halve axe's time.
    """
    import axe_core_python

    source = Path(axe_core_python.__file__).with_name("axe.min.js").read_text()
    browser.execute_script(source)
    return [
        f"{page}: accessibility ({v['impact']}) {v['id']}: {v['help']}; e.g. {v['nodes']}"
        for v in browser.execute_async_script(AXE_RUN)
    ]


def _expected_colab(page):
    """The Colab URL a page must carry: its notebook in the Colab edition, or None."""
    source = ROOT / page.replace(".html", ".ipynb")
    if not source.is_file():
        return None
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    colab = config["launch_buttons"]["colab_url"]
    edition = config["repository"]["path_to_book"]  # the Colab edition's folder
    url, branch = colab_cell.repository()
    org_repo = url.split("github.com/", 1)[1]
    rel = source.relative_to(ROOT).as_posix()
    return f"{colab.rstrip('/')}/github/{org_repo}/blob/{branch}/{edition}/{rel}"


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
        for src, alt, in_article in state["alts"]:
            name = Path(urllib.parse.urlparse(src).path).name
            # a figure of the book needs a sentence; an icon of the theme, a label
            why = alt_text_problem(alt, name) if in_article else (None if alt else "no alt text")
            if why:
                problems.append(f"{page}: image {name[:20]}: {why}")
        problems += _axe_problems(browser, page)
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


# --- the in-page latent explorers ------------------------------------------------

EXPLORER_PAGES = [
    "chapters/01_mlp_vae.html",
    "chapters/04_swiss_roll.html",
    "chapters/05_cvae.html",
]
"""Pages that must carry at least one explorer (vae_lib.explorer)."""
MOVES = [(0.0, 0.0), (1.2, -0.7), (-2.1, 1.5), (2.9, 2.9), (-0.4, -2.2), (0.8, 0.3)]
"""Plane coordinates the test moves each explorer to."""
TIMED_MOVES = 25
DRAW_BUDGET_MS = 16.0
PIXEL_TOLERANCE = 2  # of 255 grey levels
POINT_TOLERANCE = 1e-4  # data units: float32 in the page against float32 in torch

EXPLORER_READY = """
const [index, done] = [arguments[0], arguments[arguments.length - 1]];
(function wait(tries) {
  const el = document.querySelectorAll('.vae-explorer')[index];
  if (!el || !el.vaeExplorer) {
    if (tries > 100) { done({error: 'no explorer ' + index}); return; }
    setTimeout(() => wait(tries + 1), 100);
    return;
  }
  el.scrollIntoView({block: 'center'});
  el.vaeExplorer.ready.then(
    () => done({spec: el.querySelector('script.vae-explorer-spec').textContent,
                bytes: new Blob([el.querySelector('script.vae-explorer-spec').outerHTML,
                                 el.querySelectorAll('script')[1].outerHTML]).size,
                checkError: el.vaeExplorer.state.checkError}),
    e => done({error: String(e)}));
})(0);
"""

EXPLORER_MOVE = """
const [index, u1, u2, label] = arguments;
const api = document.querySelectorAll('.vae-explorer')[index].vaeExplorer;
if (label !== null && label !== api.state.label) api.setLabel(label);
const result = api.moveTo(u1, u2);
return Object.assign(result, {pixels: api.imageCanvas ? Array.from(
  api.imageCanvas.getContext('2d').getImageData(
    0, 0, api.imageCanvas.width, api.imageCanvas.height).data) : null});
"""

EXPLORER_STATE = """
const api = document.querySelectorAll('.vae-explorer')[arguments[0]].vaeExplorer;
const c = api.imageCanvas;
return {u: api.state.u, label: api.state.label, output: api.state.output,
        picked: api.state.picked, times: api.state.times,
        pixels: c ? Array.from(c.getContext('2d').getImageData(
          0, 0, c.width, c.height).data) : null};
"""

DATA_PIXEL = """
const [index, x, y] = arguments;
const c = document.querySelectorAll('.vae-explorer')[index].vaeExplorer.dataCanvas;
return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data);
"""


def _expected(net, spec, u, label):
    """What PyTorch computes from the page's weights at plane point u."""
    with torch.no_grad():
        return net(ex.plane_inputs(spec, torch.tensor([u]), label))[0].numpy()


def _drawn_matches(name, spec, net, state, gaps=None):
    """Problems if the explorer's canvas (or point) differs from PyTorch.

    gaps: a list that collects each difference (grey levels, data units).
    """
    label = state["label"] if spec["nClasses"] else None
    want = _expected(net, spec, tuple(state["u"]), label)
    where = f"{name} at u={tuple(round(v, 3) for v in state['u'])}, label {label}"
    if spec["mode"] == "image":
        drawn = np.asarray(state["pixels"], np.int64).reshape(-1, 4)
        gap = int(np.abs(drawn[:, 0] - np.round(want * 255)).max())
        if gaps is not None:
            gaps.append(gap)
        opaque_grey = (drawn[:, 3] == 255).all() and (drawn[:, 0] == drawn[:, 2]).all()
        if gap > PIXEL_TOLERANCE or not opaque_grey:
            return [f"{where}: canvas differs from PyTorch by {gap}/255"]
        return []
    gap = float(np.abs(np.asarray(state["output"]) - want).max())
    if gaps is not None:
        gaps.append(gap)
    if gap > POINT_TOLERANCE:
        return [f"{where}: decoded point differs from PyTorch by {gap:.2e}"]
    return []


def _point_pixel_problems(browser, index, name, spec, output):
    """The red marker must sit where the decoded point lies on the canvas."""
    x0, x1, y0, y1 = spec["data"]["box"]
    px = int((output[0] - x0) / (x1 - x0) * 280)
    py = int((1 - (output[1] - y0) / (y1 - y0)) * 280)
    if not (0 <= px < 280 and 0 <= py < 280):
        return []  # off the plotted box: nothing to read
    r, g, b, _ = browser.execute_script(DATA_PIXEL, index, px, py)
    if not (r > 200 and g < 80 and b < 80):
        return [f"{name}: no red marker at ({px}, {py}) for point {output[:2]}, pixel {r, g, b}"]
    return []


def _pointer_problems(browser, index, name, spec, net):
    """Drag on the map, press an arrow key, click the data: the pointer's
    path must land where it points and draw what PyTorch computes there."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    problems = []
    api = f"document.querySelectorAll('.vae-explorer')[{index}].vaeExplorer"
    canvas = browser.execute_script(f"return {api}.mapCanvas;")
    lo, hi = spec["plane"]["range"]
    ActionChains(browser).move_to_element_with_offset(
        canvas, -60, 40
    ).click_and_hold().move_by_offset(40, -100).release().perform()
    state = browser.execute_script(EXPLORER_STATE, index)
    # The drag ends 20 px left of and 60 px above the centre of the 280 px map.
    target = (lo + (140 - 20) / 280 * (hi - lo), hi - (140 - 60) / 280 * (hi - lo))
    if max(abs(a - b) for a, b in zip(state["u"], target)) > 1.5 / 280 * (hi - lo):
        problems.append(f"{name}: drag to {target} ended at {state['u']}")
    problems += _drawn_matches(f"{name} (drag)", spec, net, state)
    before = state["u"][0]
    canvas.send_keys(Keys.ARROW_RIGHT)
    state = browser.execute_script(EXPLORER_STATE, index)
    if abs(state["u"][0] - before - (hi - lo) / 60) > 1e-6:
        problems.append(f"{name}: the right arrow moved z from {before} to {state['u'][0]}")
    problems += _drawn_matches(f"{name} (key)", spec, net, state)
    if "encoder" in spec:
        data = browser.execute_script(f"return {api}.dataCanvas;")
        ActionChains(browser).move_to_element_with_offset(data, 30, -20).click().perform()
        state = browser.execute_script(EXPLORER_STATE, index)
        with torch.no_grad():
            stats = ex.mlp_from_spec(spec["encoder"])(torch.tensor([state["picked"]]))[0]
        if not state["picked"] or np.abs(np.asarray(state["u"]) - stats[:2].numpy()).max() > 1e-4:
            problems.append(f"{name}: a click on the data did not move z to the posterior mean")
        problems += _drawn_matches(f"{name} (posterior mean)", spec, net, state)
    return problems


def _explorer_problems(browser, index, name, shot=None):
    """Everything that must hold for the index-th explorer of the open page."""
    loaded = browser.execute_async_script(EXPLORER_READY, index)
    if "error" in loaded:
        return [f"{name}: {loaded['error']}"]
    spec = json.loads(loaded["spec"])
    problems = []
    if loaded["checkError"]:
        problems.append(f"{name}: the page's self-check failed: {loaded['checkError']}")
    if loaded["bytes"] > ex.BUDGET_BYTES:
        problems.append(f"{name}: {loaded['bytes'] / 1000:.0f} KB, over the 500 KB budget")
    error = ex.export_error(spec)
    if error > spec["check"]["tol"]:
        problems.append(
            f"{name}: the embedded weights miss the float32 reference by {error} "
            f"(allowed {spec['check']['tol']}): a broken or stale export"
        )
    net = ex.mlp_from_spec(spec["net"])
    labels, gaps = [0, 3, 7] if spec["nClasses"] else [None], []
    for label in labels:
        for u in MOVES:
            state = browser.execute_script(EXPLORER_MOVE, index, *u, label)
            problems += _drawn_matches(name, spec, net, state, gaps)
            if spec["mode"] == "point":
                problems += _point_pixel_problems(browser, index, name, spec, state["output"])
    if spec["nClasses"]:  # style transfer: one z, every label
        for label in range(spec["nClasses"]):
            state = browser.execute_script(EXPLORER_MOVE, index, 1.0, -1.0, label)
            problems += _drawn_matches(name, spec, net, state, gaps)
    times = [
        browser.execute_script(EXPLORER_MOVE, index, -2.5 + 0.2 * k, 2.5 - 0.2 * k, None)["ms"]
        for k in range(TIMED_MOVES)
    ]
    if statistics.median(times) >= DRAW_BUDGET_MS:
        problems.append(f"{name}: median draw {statistics.median(times):.1f} ms")
    problems += _pointer_problems(browser, index, name, spec, net)
    if shot is not None:
        # The window, not the element: the reader's view, with the text around it.
        browser.execute_script(
            "document.querySelectorAll('.vae-explorer')[arguments[0]]"
            ".scrollIntoView({block: 'center'});",
            index,
        )
        browser.save_screenshot(str(shot))
    print(
        f"{name}: {loaded['bytes'] / 1000:.0f} KB, median draw {statistics.median(times):.2f} ms "
        f"over {TIMED_MOVES} moves, export error {error} (allowed {spec['check']['tol']}), "
        f"page against PyTorch at {len(gaps)} points: largest difference {max(gaps):.3g} "
        f"({'grey levels' if spec['mode'] == 'image' else 'data units'})"
    )
    return problems


def _console_errors(browser):
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_explorers_draw_what_pytorch_computes(request):
    if MISSING:  # only reached under CI: elsewhere the module is skipped
        pytest.fail(
            f"CI is set but {' and '.join(MISSING)} not found on PATH; {INSTALL}.", pytrace=False
        )
    server = request.getfixturevalue("server")  # builds the book (fixture html)
    browser = request.getfixturevalue("browser")
    browser.set_script_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for page in EXPLORER_PAGES:
        browser.get(f"{server}/{page}")
        count = browser.execute_script("return document.querySelectorAll('.vae-explorer').length;")
        if not count:
            problems.append(f"{page}: no latent explorer on the page")
        for index in range(count):
            stem = page.replace("/", "__").replace(".html", "")
            name = f"{page} explorer {index}"
            shot = SHOTS / f"explorer__{stem}__{index}.png"
            problems += _explorer_problems(browser, index, name, shot)
        problems += [f"{page}: JavaScript error {m}" for m in _console_errors(browser)]
    assert not problems, "\n".join(problems)


def _standalone(explorer_html):
    head = "<meta charset='utf-8'><link rel='icon' href='data:,'>"
    return f"<!doctype html><html><head>{head}</head><body>{explorer_html}</body></html>"


def test_a_broken_export_fails_the_explorer_checks(request, tmp_path):
    """The checks above catch a flipped weight and a broken drawing routine."""
    if MISSING:
        pytest.fail(
            f"CI is set but {' and '.join(MISSING)} not found on PATH; {INSTALL}.", pytrace=False
        )
    browser = request.getfixturevalue("browser")
    browser.set_script_timeout(60)
    torch.manual_seed(0)
    model = vl.MLPVAE(z_dim=2, hidden=(64,))
    explorer = vl.image_explorer(model.decoder, torch.randn(500, 2), torch.randint(0, 10, (500,)))
    flipped = ex.Explorer(corrupt(explorer.spec), explorer.source)
    conditional = vl.image_explorer(  # a second explorer on the intact page
        nn.Sequential(nn.Linear(13, 32), nn.Tanh(), nn.Linear(32, 784)),
        torch.randn(300, 3),
        torch.randint(0, 10, (300,)),
        n_classes=10,
        dims=(2, 0),
    )
    # Draw pixel i from output n - 1 - i: the image upside down and mirrored.
    line = "const v = out[i] * 255;"
    assert line in explorer.html()
    upside_down = explorer.html().replace(line, "const v = out[out.length - 1 - i] * 255;")
    pages = {
        "intact": explorer.html() + conditional.html(),
        "flipped-weight": flipped.html(),
        "upside-down": upside_down,
    }
    for name, text in pages.items():
        (tmp_path / f"{name}.html").write_text(_standalone(text))
    found = {}
    with serve_folder(tmp_path) as url:
        for name in pages:
            browser.get_log("browser")
            browser.get(f"{url}/{name}.html")
            found[name] = _explorer_problems(browser, 0, name)
            if name == "intact":
                found[name] += _explorer_problems(browser, 1, "intact, second explorer")
            found[name] += [f"console: {m}" for m in _console_errors(browser)]
    assert found["intact"] == [], found["intact"]
    flipped_problems = "\n".join(found["flipped-weight"])
    assert "self-check failed" in flipped_problems, flipped_problems
    assert "broken or stale export" in flipped_problems, flipped_problems
    assert "console: " in flipped_problems and "export is broken" in flipped_problems
    upside_down_problems = "\n".join(found["upside-down"])
    assert "canvas differs from PyTorch" in upside_down_problems, upside_down_problems


def test_explorer_pages_fall_back_without_javascript(request):
    """With JavaScript off a reader sees the explorer's note and the static figures."""
    if MISSING:
        pytest.fail(
            f"CI is set but {' and '.join(MISSING)} not found on PATH; {INSTALL}.", pytrace=False
        )
    server = request.getfixturevalue("server")
    driver = _chromium(javascript=False)
    problems = []
    try:
        for page in EXPLORER_PAGES:
            driver.get(f"{server}/{page}")
            found = driver.execute_script(
                "return {notes: Array.from(document.querySelectorAll('.vae-explorer'))"
                "  .map(e => e.innerText.trim()),"
                " canvases: document.querySelectorAll('.vae-explorer canvas').length,"
                " images: Array.from(document.images).filter(i => i.naturalWidth > 0).length};"
            )
            if not found["notes"] or not all("needs JavaScript" in n for n in found["notes"]):
                problems.append(f"{page}: no fallback note with JavaScript off: {found['notes']}")
            if found["canvases"] or not found["images"]:
                problems.append(f"{page}: with JavaScript off: {found}")
    finally:
        driver.quit()
    assert not problems, "\n".join(problems)


# --- the book's diagrams (scripts/draw_diagrams.py) ------------------------------------------

DIAGRAMS = {
    "vae_computation": "chapters/01_mlp_vae.html",
    "graphical_model": "chapters/02_elbo.html",
    "conv_vae_shapes": "book/notation.html",
    "cvae_networks": "book/notation.html",
}
"""The SVGs in book/_static/diagrams/ and the page that must show each."""

IMAGES_LOADED = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(i => { i.loading = 'eager'; });  // a lazy image off screen would never load
Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })))
  .then(() => done(images.map(i => ({src: i.currentSrc || i.src, alt: i.getAttribute('alt'),
                                       width: i.naturalWidth}))));
"""


def test_the_diagrams_show_on_their_pages(request):
    """Each diagram loads on its page, has alt text and is served by the site."""
    if MISSING:
        pytest.fail(
            f"CI is set but {' and '.join(MISSING)} not found on PATH; {INSTALL}.", pytrace=False
        )
    server = request.getfixturevalue("server")  # builds the book (fixture html)
    browser = request.getfixturevalue("browser")
    browser.set_script_timeout(60)
    browser.get_log("browser")  # drop what earlier pages logged
    problems = []
    for name, page in DIAGRAMS.items():
        browser.get(f"{server}/{page}")
        images = browser.execute_async_script(IMAGES_LOADED)
        problems += [f"{page}: JavaScript error {m}" for m in _console_errors(browser)]
        found = [i for i in images if urllib.parse.urlparse(i["src"]).path.endswith(f"/{name}.svg")]
        if len(found) != 1:
            problems.append(f"{page}: {len(found)} images of {name}.svg, expected 1")
            continue
        image = found[0]
        if not image["width"]:
            problems.append(f"{page}: {image['src']} did not load (naturalWidth 0)")
        alt_problem = alt_text_problem(image["alt"], name)
        if alt_problem:
            problems.append(f"{page}: {name}.svg: {alt_problem}")
        if not image["src"].startswith(server + "/"):
            problems.append(f"{page}: {name}.svg comes from {image['src']}, not the site")
            continue
        with urllib.request.urlopen(image["src"], timeout=30) as response:
            served, kind = response.read(), response.headers.get_content_type()
        committed = (ROOT / "book" / "_static" / "diagrams" / f"{name}.svg").read_bytes()
        if kind != "image/svg+xml" or served != committed:
            problems.append(
                f"{image['src']}: served as {kind}, {len(served)} bytes; expected "
                f"image/svg+xml and the {len(committed)} bytes of book/_static/diagrams/{name}.svg"
            )
    assert not problems, "\n".join(problems)


# --- exercises: solutions stay closed until the reader opens them -----------------------------
# How the HTML comes about (sphinx-exercise 1.2 and sphinx-togglebutton 0.4, read from their
# source): sphinx-exercise's MergeGatedSolutions transform moves everything between
# {solution-start} and {solution-end}, myst-nb's code cells (div.cell, holding div.cell_input
# and div.cell_output) included, into one solution node, written as
# <div class="solution dropdown admonition"> with a p.admonition-title ("Solution to
# Exercise N") and the content in a section. sphinx-togglebutton's JavaScript matches
# ".toggle, .admonition.dropdown", adds the classes "toggle toggle-hidden" and a
# button.toggle-button inside the title; its CSS gives every sibling of the title
# "visibility: hidden; opacity: 0; height: 0" while toggle-hidden is set, and a click on the
# button (or the title) removes it.

SOLUTIONS = """
const solutions = Array.from(document.querySelectorAll('div.solution.dropdown'));
return {
  ready: solutions.every(s => s.classList.contains('toggle')
                              && s.querySelector('button.toggle-button')),
  solutions: solutions.map(s => ({
    title: s.querySelector('.admonition-title').textContent.trim(),
    inputs: Array.from(s.querySelectorAll('div.cell_input')),
    outputs: Array.from(s.querySelectorAll('div.cell_output')),
    button: s.querySelector('button.toggle-button'),
  })),
  // A solution cell left after {solution-end} sits outside every dropdown (textContent,
  // unlike innerText, does not depend on what is shown).
  strays: Array.from(document.querySelectorAll('div.cell'))
    .filter(c => !c.closest('div.solution') && /# ?@title Solution/.test(c.textContent))
    .map(c => c.textContent.trim().slice(0, 60)),
};
"""


def _notebook_pages():
    """(page, is a chapter) for the HTML page of every notebook."""
    chapters = {p.relative_to(ROOT).with_suffix(".html").as_posix() for p in CHAPTERS}
    pages = [p.relative_to(ROOT).with_suffix(".html").as_posix() for p in NOTEBOOKS]
    return [(page, page in chapters) for page in pages]


def _solutions_on(browser, page):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda b: b.execute_script(SOLUTIONS)["ready"])
    return browser.execute_script(SOLUTIONS)


def _shown(elements):
    return [element for element in elements if element.is_displayed()]


def _toggle(browser, solution, open_it):
    """Click a solution's toggle button; True once its code is shown (open_it) or hidden."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    button, inputs = solution["button"], solution["inputs"]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    try:
        WebDriverWait(browser, 5).until(lambda _: bool(_shown(inputs)) == open_it)
    except TimeoutException:
        return False
    return True


def _solution_problems(browser, page, is_chapter):
    """Solution code or output shown before a click; a toggle that does not show the code."""
    found = _solutions_on(browser, page)
    problems = [
        f"{page}: a solution's code cell sits outside its dropdown, shown to every reader: "
        f"{stray!r}; move it before {{solution-end}}"
        for stray in found["strays"]
    ]
    with_code = [s for s in found["solutions"] if s["inputs"]]
    if is_chapter and not with_code:
        problems.append(f"{page}: no solution dropdown holds a code cell")
    for solution in found["solutions"]:
        shown = _shown(solution["inputs"] + solution["outputs"])
        if shown:
            problems.append(
                f"{page}: '{solution['title']}' shows {len(shown)} code cell inputs or outputs "
                "before the reader opens it"
            )
    for k, solution in enumerate(with_code):
        if not _toggle(browser, solution, open_it=True):
            problems.append(
                f"{page}: a click on the toggle of '{solution['title']}' does not show its code"
            )
        others = [e for s in with_code[:k] + with_code[k + 1 :] for e in s["inputs"] + s["outputs"]]
        if _shown(others):
            problems.append(f"{page}: opening '{solution['title']}' showed other solutions too")
        if not _toggle(browser, solution, open_it=False):  # closed again for the next one
            problems.append(f"{page}: a second click does not close '{solution['title']}'")
    return problems


def test_solutions_stay_hidden_until_the_reader_opens_them(request):
    """On every notebook's page no solution code or output shows before its dropdown is
    opened, and a click on a solution's toggle shows its code. Every chapter has at
    least one solution with code (CONTRIBUTING.md, "Exercises")."""
    if MISSING:
        pytest.fail(
            f"CI is set but {' and '.join(MISSING)} not found on PATH; {INSTALL}.", pytrace=False
        )
    server = request.getfixturevalue("server")  # builds the book (fixture html)
    browser = request.getfixturevalue("browser")
    problems = []
    for page, is_chapter in _notebook_pages():
        browser.get_log("browser")  # drop what earlier pages logged
        browser.get(f"{server}/{page}")
        problems += _solution_problems(browser, page, is_chapter)
        problems += [f"{page}: JavaScript error {m}" for m in _console_errors(browser)]
    assert not problems, "\n".join(problems)
