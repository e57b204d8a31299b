"""Reading time (scripts/reading_time.py): the formula, and the 45-minute core chapter."""

import nbformat
import pytest
import reading_time
from conftest import CHAPTERS
from reading_time import CORE_LIMIT, prose, reading_minutes

PNG = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}


def _code(lines, tags=(), figure=False):
    source = "\n".join(f"x{i} = {i}" for i in range(lines))
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {})
    if figure:
        cell.outputs = [nbformat.v4.new_output("display_data", data=PNG)]
    return cell


def _synthetic(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        # 2 + 5 + 2 = 9 words ("#" is not a word; $x$ is one), 1 display equation.
        nbformat.v4.new_markdown_cell(
            "# Title here\n\nSome words are $x$ here.\n\n$$\na = b\n$$\n\nAfter display."
        ),
        # 2 words + the image's alt text (2), 2 display equations, 1 figure.
        nbformat.v4.new_markdown_cell(
            "Two more:\n\n\\begin{align}\nx &= y\n\\end{align}\n\n"
            "```{math}\nz = 1\n```\n\n![a cat](cat.png)"
        ),
        # Removed: nothing counts.
        nbformat.v4.new_markdown_cell("ignored words $$y$$", metadata={"tags": ["remove-cell"]}),
        # The admonition's title (6 words) and body (3 words); its option is markup.
        nbformat.v4.new_markdown_cell(
            ":::{admonition} Source post 001: a KL weight\n"
            ":class: dropdown source-post\nFix it now.\n:::"
        ),
        # 20 visible lines (the blank lines do not count) and 1 figure.
        _code(20, figure=True),
        # 30 hidden lines: 1 minute.
        _code(30, tags=["hide-input"]),
        # Removed: neither its 50 lines nor its figure count.
        _code(50, tags=["remove-cell"], figure=True),
        # Input removed: its figure counts, its 10 lines do not.
        _code(10, tags=["remove-input"], figure=True),
        # Output removed: its 10 lines count, its figure does not.
        _code(10, tags=["remove-output"], figure=True),
        # A solution folded into a Colab form: 15 hidden lines.
        _code(15),
    ]
    nb.cells[-1].metadata["cellView"] = "form"
    nb.cells[4].source = nb.cells[4].source.replace("\n", "\n\n", 3)
    path = tmp_path / "synthetic.ipynb"
    nbformat.write(nb, path)
    return path


def test_reading_minutes_of_a_synthetic_notebook(tmp_path):
    r = reading_minutes(_synthetic(tmp_path))
    assert (r["words"], r["visible_lines"], r["hidden_lines"]) == (22, 30, 45)
    assert (r["figures"], r["equations"]) == (3, 3)
    # 22 / 200 + 30 / 10 + 45 / 30 + 3 * 0.5 + 3 * 0.5
    assert r["prose"] == pytest.approx(0.11)
    assert r["code"] == pytest.approx(3.0)
    assert r["hidden_code"] == pytest.approx(1.5)
    assert r["figure_minutes"] == pytest.approx(1.5)
    assert r["equation_minutes"] == pytest.approx(1.5)
    assert r["minutes"] == pytest.approx(7.61)


def test_prose_counts_inline_math_as_one_word_and_drops_display_math():
    assert prose("the sum $a + b + c$ is small") == (5, 0, 0)
    assert prose("costs \\$5, not $x$") == (4, 0, 0)
    assert prose("before $$\\int f(x)\\,dx$$ after") == (2, 1, 0)
    assert prose("$\\begin{pmatrix} a \\\\ b \\end{pmatrix}$ is inline") == (3, 0, 0)
    assert prose("```{figure} ../book/_static/diagrams/vae.svg\n:alt: a VAE\nThe VAE.\n```") == (
        2,
        0,
        1,
    )
    assert prose("See [the notation page](../book/notation.md).") == (4, 0, 0)


def test_the_script_prints_one_line_per_notebook(tmp_path, capsys):
    path = _synthetic(tmp_path)
    assert reading_time.main([str(path), str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "7.6 min" in lines[0] and "(22 words)" in lines[0]


# The chapters over the limit today, and the issue whose rewrite brings each under it.
# When a chapter comes under the limit its test XPASSes, which fails (strict): then
# remove its line here.
OVER_THE_LIMIT_UNTIL: dict = {}
CORE = [p for p in CHAPTERS if p.name.startswith("0")]


def _param(path):
    part = OVER_THE_LIMIT_UNTIL.get(path.stem)
    if part is None:
        return pytest.param(path, id=path.stem)
    reason = f"over {CORE_LIMIT} reading minutes until issue 'Second edition, part {part}' lands"
    return pytest.param(path, id=path.stem, marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize("chapter", [_param(p) for p in CORE])
def test_a_core_chapter_reads_in_at_most_45_minutes(chapter):
    r = reading_minutes(chapter)
    assert r["minutes"] <= CORE_LIMIT, (
        f"{chapter.name} takes {r['minutes']:.0f} reading minutes, over {CORE_LIMIT}: "
        f"{reading_time.describe(chapter, r)}. Move derivation detours, ablations and "
        "source-post forensics to a deep dive (CONTRIBUTING.md)."
    )


def test_reading_stops_after_the_tagged_cell_and_reads_markdown_pages(tmp_path):
    path = _synthetic(tmp_path)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = ["first-samples"]
    nbformat.write(nb, path)
    # the first two cells only: 9 + 4 words, 3 display equations, 1 figure
    r = reading_minutes(path, "first-samples")
    assert (r["words"], r["equations"], r["figures"], r["visible_lines"]) == (13, 3, 1, 0)
    with pytest.raises(ValueError, match="no cell is tagged 'nowhere'"):
        reading_minutes(path, "nowhere")
    page = tmp_path / "page.md"
    page.write_text("# A page\n\nFour words of prose.\n\n$$\nx = 1\n$$\n")
    r = reading_minutes(page)
    assert (r["words"], r["equations"]) == (6, 1)


def test_the_path_reaches_a_trained_vaes_samples_within_15_minutes():
    """From the index to the first chapter's samples (the on-ramp), by the same formula."""
    minutes = reading_time.minutes_to_first_samples()
    assert minutes <= reading_time.FIRST_SAMPLES_LIMIT, (
        f"the index and chapter 1 up to its 'first-samples' cell take {minutes:.1f} reading "
        f"minutes, over {reading_time.FIRST_SAMPLES_LIMIT}"
    )
