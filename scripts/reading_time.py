"""How long a notebook takes to read, in minutes, by one fixed formula.

    python scripts/reading_time.py                   # chapters/ and deep_dives/
    python scripts/reading_time.py chapters/01_mlp_vae.ipynb

The formula (CONTRIBUTING.md, "Core chapters and deep dives"):

* prose words / 200. Prose is the markdown cells with display math taken out
  (``$$...$$`` blocks, ``\\begin{...}...\\end{...}`` environments and
  ```` ```{math} ```` fences); each inline ``$...$`` counts as one word. A word
  is a run of non-space characters holding a letter or a digit, so table rules
  and heading marks are not words; fence lines and directive options
  (``:class: dropdown``) are markup, not prose, and a link or an image counts
  by its text only.
* visible code lines / 10: non-blank lines of code cells whose input shows;
* hidden code lines / 30: non-blank lines of code cells tagged ``hide-input``
  (or ``hide-cell``), and of solution cells shown as a Colab form
  (``cellView: form``, whose code stays folded until the reader opens it):
  a reader may open them, and reads them faster;
* 0.5 per figure: each stored output with an ``image/png``, ``image/svg+xml``
  or ``image/jpeg`` picture, and each ``{figure}``, ``{image}``,
  ``{glue:figure}`` or ``![...](...)`` in the markdown;
* 0.5 per display equation (each block of display math taken out above).

Cells tagged ``remove-cell`` count nothing; ``remove-input`` drops a code
cell's lines, ``remove-output`` its figures. ``tests/test_reading_time.py``
holds a core chapter to ``CORE_LIMIT`` minutes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from colab_cell import notebooks

ROOT = Path(__file__).resolve().parents[1]
CORE_LIMIT = 45
"""The most minutes a core chapter may take to read."""

FIRST_SAMPLES_LIMIT = 15
"""The most minutes from the index to the first VAE samples on the recommended path.

Counted as the whole index page plus the first chapter up to and including its
cell tagged ``first-samples``."""


def minutes_to_first_samples() -> float:
    """Reading minutes from the book's index to the first chapter's ``first-samples`` cell."""
    index = ROOT / "book" / "index.md"
    first = notebooks()[0]
    return reading_minutes(index)["minutes"] + reading_minutes(first, "first-samples")["minutes"]


WORDS_PER_MINUTE = 200
VISIBLE_LINES_PER_MINUTE = 10
HIDDEN_LINES_PER_MINUTE = 30
MINUTES_PER_FIGURE = 0.5
MINUTES_PER_EQUATION = 0.5
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")

# Display math, in the order it is taken out: fences first (they may hold
# anything), then $$ blocks, then amsmath environments left at the top level.
_MATH_FENCE = re.compile(r"^(`{3,}|~{3,}|:{3,})\{math\}[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)
_DOLLAR_BLOCK = re.compile(r"\$\$.+?\$\$", re.S)
_ENVIRONMENT = re.compile(r"\\begin\{([^}]+)\}.*?\\end\{\1\}", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)(?:\\.|[^$\\\n])+?\$|\{math\}`[^`]*`")
_MARKDOWN_FIGURE = re.compile(r"^(`{3,}|:{3,})\{(figure|image|glue:figure)\}", re.M)
_MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# A directive's fence line: the title of an admonition or an exercise is prose,
# any other argument (a file, a label) is not.
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})(\{([\w:-]+)\})?(.*)$", re.M)
_TITLED = {"admonition", "exercise", "note", "tip", "important", "warning", "caution"}
_TITLED |= {"attention", "danger", "error", "hint", "seealso", "dropdown"}
_OPTION_LINE = re.compile(r"^\s*:[\w-]+:(\s.*)?$", re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_WORD = re.compile(r"\S*[^\W_]\S*")


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def prose(source: str) -> tuple[int, int, int]:
    """(words, display equations, figures) of one markdown cell's source."""
    text = _COMMENT.sub(" ", source)
    figures = len(_MARKDOWN_FIGURE.findall(text)) + len(_MARKDOWN_IMAGE.findall(text))
    equations = 0
    for pattern in (_MATH_FENCE, _DOLLAR_BLOCK):
        text, found = pattern.subn(" ", text)
        equations += found
    # Inline math before environments: $\begin{pmatrix}...\end{pmatrix}$ is inline.
    text = _INLINE_MATH.sub(" math ", text)
    text, found = _ENVIRONMENT.subn(" ", text)
    equations += found
    text = _MARKDOWN_IMAGE.sub(r" \1 ", text)
    text = _LINK.sub(r" \1 ", text)
    text = _FENCE_LINE.sub(_fence_title, text)
    text = _OPTION_LINE.sub(" ", text)
    return len(_WORD.findall(text)), equations, figures


def _fence_title(match: re.Match) -> str:
    name, rest = match.group(3), match.group(4)
    if name is None:  # a plain code fence, or the end of a directive
        return " "
    return f" {rest} " if name.split(":")[0] in _TITLED else " "


def code_lines(source: str) -> int:
    """Non-blank lines of a code cell."""
    return sum(1 for line in source.splitlines() if line.strip())


def output_figures(cell) -> int:
    """Stored outputs of a code cell that show a picture."""
    return sum(
        1
        for output in cell.get("outputs", [])
        if any(kind in output.get("data", {}) for kind in IMAGE_TYPES)
    )


def reading_minutes(path, until_tag: str | None = None) -> dict:
    """The reading time of one notebook (or markdown page) and the parts it is the sum of.

    Returns words, visible_lines, hidden_lines, figures and equations (the
    counts), prose, code, hidden_code, figure_minutes and equation_minutes
    (their minutes) and minutes, the total. A ``.md`` path is read as one
    markdown cell. With ``until_tag``, reading stops after the first cell
    carrying that tag (a ``ValueError`` if no cell does).
    """
    path = Path(path)
    if path.suffix == ".md":
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(path.read_text())])
    else:
        notebook = nbformat.read(str(path), as_version=4)
    counts = dict(words=0, visible_lines=0, hidden_lines=0, figures=0, equations=0)
    for cell in _cells_until(notebook.cells, until_tag, path):
        tags = _tags(cell)
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            words, equations, figures = prose(cell.source)
            counts["words"] += words
            counts["equations"] += equations
            counts["figures"] += figures
        elif cell.cell_type == "code":
            if "remove-input" not in tags:
                folded = cell.get("metadata", {}).get("cellView") == "form"
                hidden = bool(tags & {"hide-input", "hide-cell"}) or folded
                counts["hidden_lines" if hidden else "visible_lines"] += code_lines(cell.source)
            if "remove-output" not in tags:
                counts["figures"] += output_figures(cell)
    return _with_minutes(counts)


def _cells_until(cells, tag, path):
    """The cells up to and including the first one tagged ``tag`` (all of them for None)."""
    if tag is None:
        return cells
    for i, cell in enumerate(cells):
        if tag in _tags(cell):
            return cells[: i + 1]
    raise ValueError(f"{path}: no cell is tagged {tag!r}.")


def _with_minutes(counts: dict) -> dict:
    parts = dict(
        prose=counts["words"] / WORDS_PER_MINUTE,
        code=counts["visible_lines"] / VISIBLE_LINES_PER_MINUTE,
        hidden_code=counts["hidden_lines"] / HIDDEN_LINES_PER_MINUTE,
        figure_minutes=counts["figures"] * MINUTES_PER_FIGURE,
        equation_minutes=counts["equations"] * MINUTES_PER_EQUATION,
    )
    return {**counts, **parts, "minutes": sum(parts.values())}


def describe(path: Path, r: dict) -> str:
    """One line: the total and its parts."""
    try:
        name = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        name = str(path)
    return (
        f"{name:<36} {r['minutes']:6.1f} min = "
        f"prose {r['prose']:.1f} ({r['words']} words) "
        f"+ code {r['code']:.1f} ({r['visible_lines']} lines) "
        f"+ hidden code {r['hidden_code']:.1f} ({r['hidden_lines']} lines) "
        f"+ figures {r['figure_minutes']:.1f} ({r['figures']}) "
        f"+ equations {r['equation_minutes']:.1f} ({r['equations']})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks or notebooks():  # every chapter, then every deep dive
        print(describe(path, reading_minutes(path)))
    if not args.notebooks:
        print(f"index to the first samples: {minutes_to_first_samples():.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
