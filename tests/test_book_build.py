"""The HTML book builds from the stored outputs with warnings as errors."""

import re
from pathlib import Path

import yaml
from conftest import ROOT


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def test_every_toc_entry_is_a_page(html):
    for entry in _toc_files():
        page = html / f"{Path(entry).with_suffix('')}.html"
        assert page.is_file(), f"{entry} from _toc.yml is missing in the HTML"
        assert page.stat().st_size > 2000


def test_chapters_render_figures_math_and_exercises(html):
    for entry in _toc_files():
        if not entry.startswith("chapters/"):
            continue
        text = (html / f"{entry}.html").read_text()
        assert "<img" in text and ("_images/" in text or "data:image/png" in text), (
            f"{entry}: no figures"
        )
        assert "math notranslate" in text, f"{entry}: no math"
        assert text.count('class="admonition exercise') >= 3 or text.count("exercise") >= 3
        assert "solution" in text and "dropdown" in text, f"{entry}: solutions not collapsed"
        assert "```{" not in text and "{cite" not in text, f"{entry}: an unparsed directive or role"
        assert "Traceback (most recent call last)" not in text
        assert not re.search(r"application/vnd\.jupyter\.widget-view\+json", text), (
            f"{entry}: a widget with no state would show as an empty box"
        )


def test_pages_load_no_remote_scripts(html):
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax was not copied"
    for page in html.rglob("*.html"):
        text = page.read_text()
        remote = re.findall(r'<script[^>]+src="(https?:[^"]+)"', text)
        assert not remote, f"{page.relative_to(html)} loads scripts from the network: {remote}"


def test_link_checker_catches_bad_links(tmp_path):
    """The browser test's link check can fail: feed it one bad link of each kind."""
    from test_book_browser import _expected_colab, _link_problems

    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_mlp_vae.html").write_text('<h1 id="here">x</h1>')
    server = "http://127.0.0.1:1"
    page = "chapters/01_mlp_vae.html"
    good = [f"{server}/{page}#here", _expected_colab(page)]
    assert _link_problems(tmp_path, server, page, good) == []
    bad = [
        f"{server}/{page}#nowhere",
        f"{server}/missing.html",
        _expected_colab(page).replace("01_mlp_vae", "03_conv_vae"),
    ]
    problems = _link_problems(tmp_path, server, page, bad)
    assert len(problems) == 3, problems
    assert _link_problems(tmp_path, server, "book/setup.html", [good[1]]), (
        "a Colab link on a page with no notebook must be reported"
    )


def test_docs_name_the_configured_repository():
    """README and book pages that spell out the install URL use _config.yml's,
    at the release tag the Colab cell installs."""
    from colab_cell import release, repository

    url, _ = repository()
    expected = f"git+{url}@{release()}"
    for page in [ROOT / "README.md", *(ROOT / "book").glob("*.md")]:
        for found in re.findall(r"git\+https?://[^\s\"'`]+", page.read_text()):
            assert found == expected, (
                f"{page.name} installs from {found}, _config.yml says {expected}"
            )


def test_bibliography_labels_are_author_year(html):
    """The list on the references page is labelled as the chapters cite."""
    text = (html / "book" / "references.html").read_text()
    assert "Kingma and Welling, 2013" in text and "Rezende et al., 2014" in text
    assert "[KW13]" not in text
    chapter = (html / "chapters" / "01_mlp_vae.html").read_text()
    assert "Kingma and Welling" in chapter, "chapter 1 should cite Kingma and Welling (2013)"
