"""The Colab edition (colab/): fresh, free of MyST markup, and every link lands.

scripts/colab_edition.py makes colab/ from the notebooks and the built HTML
book. These tests make it again from this checkout's book (the session's
``html`` fixture) and check that

* the committed colab/ equals what the script makes now (it is not stale);
* no markdown cell holds a MyST role, a directive fence or a target line;
* every link into the HTML book names a page the build has, and an anchor
  that page has;
* the notebooks whose full run is long ask Colab for a GPU and say how.
"""

import re
import urllib.parse

import nbformat
import pytest
from colab_edition import GPU_AFTER_SECONDS, GPU_LINE, Book, book_url, colab_notebook, render
from colab_edition import OUT as COLAB
from conftest import NOTEBOOKS, ROOT

IDS = [f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS]
MYST = [
    (re.compile(r"\{[a-z]+(?::[a-z]+)?\}`"), "a MyST role"),
    (re.compile(r"^\s*(`{3,}|:{3,})\{", re.M), "a directive fence"),
    (re.compile(r"^\([^)\s]+\)=\s*$", re.M), "a target line"),
    (re.compile(r"^\$\$\s*\([^)]+\)\s*$", re.M), "an equation label"),
]
URL = re.compile(r"\]\((?P<url>[^)\s]+)\)|src=\"(?P<src>[^\"]+)\"")


@pytest.fixture(scope="module")
def edition(html):
    book = Book(html, book_url())
    return {path: colab_notebook(book, path) for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_committed_edition_is_fresh(edition, path):
    committed = COLAB / path.relative_to(ROOT)
    assert committed.is_file(), f"{committed} is missing: run scripts/colab_edition.py"
    assert committed.read_text(encoding="utf-8") == render(edition[path]), (
        f"{committed.relative_to(ROOT)} is stale: run `make book`, then "
        "`python scripts/colab_edition.py`, and commit colab/"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_myst_markup_is_left(edition, path):
    problems = []
    for index, cell in enumerate(edition[path].cells):
        if cell.cell_type != "markdown":
            continue
        for pattern, what in MYST:
            found = pattern.search(cell.source)
            if found:
                problems.append(f"cell {index}: {what}: {found.group(0)!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_link_into_the_book_lands(edition, html, path):
    base, problems = book_url(), []
    for cell in edition[path].cells:
        if cell.cell_type != "markdown":
            continue
        for match in URL.finditer(cell.source):
            url = match["url"] or match["src"]
            if not url.startswith(base):
                if not re.match(r"^(https?|mailto):", url):
                    problems.append(f"a link that leaves the HTML book relative: {url}")
                continue
            parsed = urllib.parse.urlparse(url[len(base) :])
            target = html / urllib.parse.unquote(parsed.path)
            if not target.is_file():
                problems.append(f"no such page in the built book: {url}")
            elif parsed.fragment and f'id="{parsed.fragment}"' not in target.read_text():
                problems.append(f"no such anchor in {parsed.path}: #{parsed.fragment}")
    assert not problems, f"{path.name}:\n" + "\n".join(sorted(set(problems)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_long_notebooks_ask_for_a_gpu(edition, path):
    seconds = nbformat.read(path, as_version=4).metadata["vae_book"]["seconds"]
    notebook = edition[path]
    asks = notebook.metadata.get("accelerator") == "GPU"
    assert asks == (seconds > GPU_AFTER_SECONDS), (path.name, seconds)
    assert (GPU_LINE.split("{minutes}")[0] in notebook.cells[0].source) == asks


class _NoPage:
    """A stand-in for the built book where a test needs no page of it."""

    base, html = "https://example.org/book/", ROOT

    def soup(self, rel):
        from bs4 import BeautifulSoup

        return BeautifulSoup("<html></html>", "html.parser")

    def url(self, rel, href=""):
        return urllib.parse.urljoin(self.base + rel, href)


def _converter():
    from colab_edition import Converter

    return Converter(_NoPage(), ROOT / "chapters" / "x.ipynb", nbformat.v4.new_notebook())


def test_a_directive_inside_a_directive_is_converted_too():
    markdown = (
        ":::{admonition} Outer title\n:class: dropdown\n\ntext\n\n```{note}\ninner text\n```\n:::"
    )
    out = _converter().fences(markdown)
    assert "{note}" not in out and "{admonition}" not in out
    assert "<summary><b>Outer title</b></summary>" in out and "> **Note**" in out


def test_an_unclosed_fence_is_an_error():
    with pytest.raises(ValueError, match="never closed"):
        _converter().fences("```{exercise}\n:label: x\n\nno end")


def test_the_colab_buttons_open_the_edition():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["path_to_book"] == COLAB.name
    assert config["html"]["baseurl"].startswith("https://")
