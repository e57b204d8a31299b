"""House rules every notebook, chapter or deep dive, follows (see CONTRIBUTING.md)."""

import re
import subprocess
import sys
import types

import colab_cell
import nbformat
import pytest
from conftest import CHAPTERS, NOTEBOOKS, ROOT

CHECK_TAG = "nbval-check-output"


@pytest.fixture(params=NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def _markdown(nb):
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_starts_with_a_title(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name} must open with a title"
    )


def test_imports_vae_lib_and_links_notation(notebook):
    path, nb = notebook
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import vae_lib as vl" in code
    assert "notation" in _markdown(nb), f"{path.name} must link the notation page"


def test_a_chapter_has_three_exercises(chapter):
    path, nb = chapter
    exercises = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", _markdown(nb))
    assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercises, needs 3"


def test_every_exercise_has_a_collapsed_solution(notebook):
    path, nb = notebook
    text = _markdown(nb)
    for label in re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", text):
        match = re.search(
            r"```\{solution(?:-start)?\} " + re.escape(label) + r"\n:class: dropdown", text
        )
        assert match, f"{path.name}: exercise {label} needs a solution with :class: dropdown"


def test_some_outputs_are_compared_by_nbval(notebook):
    path, nb = notebook
    marked = [
        c for c in nb.cells if c.cell_type == "code" and CHECK_TAG in c.metadata.get("tags", [])
    ]
    assert marked, f"{path.name} tags no cell {CHECK_TAG}"
    for cell in marked:
        assert cell.outputs, f"{path.name}: a {CHECK_TAG} cell has no stored output to compare"


def test_no_device_is_hard_coded(notebook):
    path, nb = notebook
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"""["']cuda["']|\.cuda\(\)""", code), f"{path.name} hard-codes a device"


def test_every_exercise_is_listed_on_the_exercises_page():
    page = (ROOT / "book" / "exercises.md").read_text()
    listed = set(re.findall(r"\{numref\}`([^`]+)`", page))
    found = set()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        found |= set(re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", _markdown(nb)))
    assert found - listed == set(), (
        f"exercises missing from book/exercises.md: {sorted(found - listed)}"
    )
    assert listed - found == set(), (
        f"book/exercises.md lists unknown exercises: {sorted(listed - found)}"
    )


def test_first_code_cell_is_the_canonical_colab_cell(notebook):
    path, nb = notebook
    cell = colab_cell.first_code_cell(nb)
    assert cell is not None and cell.source == colab_cell.canonical_source(), (
        f"{path.name}: the first code cell must be the canonical Colab cell; "
        "run python scripts/colab_cell.py --write"
    )
    assert cell.metadata.get("tags") == colab_cell.TAGS, f"{path.name}: tags {colab_cell.TAGS}"
    others = [
        c
        for c in nb.cells
        if c.cell_type == "code" and c is not cell and "google.colab" in c.source
    ]
    assert not others, f"{path.name}: only the first cell may special-case Colab"


def _run_colab_cell(monkeypatch, in_colab, returncode=0, stderr=""):
    calls = []

    def fake_run(*args, **kwargs):
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args[0], returncode, "", stderr)

    monkeypatch.setattr(subprocess, "run", fake_run)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(colab_cell.canonical_source(), "<colab cell>", "exec"), {})
    return calls


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    assert _run_colab_cell(monkeypatch, in_colab=False) == []


def test_colab_cell_installs_only_vae_lib_from_the_configured_repository(monkeypatch, capsys):
    calls = _run_colab_cell(monkeypatch, in_colab=True)
    assert len(calls) == 1
    (command,), _ = calls[0]
    url, _ = colab_cell.repository()
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == f"vae_lib @ git+{url}@{colab_cell.release()}", (
        "the Colab cell installs vae_lib from the release tag, not from a branch"
    )
    assert not any(a.startswith(("torch", "-U", "--upgrade", "--force")) for a in command), (
        "the Colab cell must not replace Colab's torch"
    )
    assert "installed vae_lib @ git+" in capsys.readouterr().out


def test_colab_cell_stops_with_pips_message_when_the_install_fails(monkeypatch):
    with pytest.raises(
        RuntimeError, match="(?s)Could not install vae_lib.*no network here.*run this cell again"
    ):
        _run_colab_cell(monkeypatch, in_colab=True, returncode=1, stderr="ERROR: no network here")


def test_colab_cell_installs_the_release_of_this_package_version():
    """The tag in the cell, _config.yml's repository.release, the version in
    pyproject.toml and vae_lib.__version__ name one release (CONTRIBUTING.md)."""
    import tomllib

    import vae_lib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert vae_lib.__version__ == version, (
        f"vae_lib.__version__ is {vae_lib.__version__}, pyproject.toml says {version}"
    )
    assert colab_cell.release() == f"v{version}", (
        f"_config.yml repository.release is {colab_cell.release()}, the package is {version}"
    )
    url, _ = colab_cell.repository()
    assert f'"vae_lib @ git+{url}@v{version}"' in colab_cell.canonical_source()
    assert colab_cell.release_problems() == []


_VERSION_LINES = {
    "pyproject.toml": 'version = "{}"',
    "vae_lib/__init__.py": '__version__ = "{}"',
    "_config.yml": "release: v{}",
}


@pytest.mark.parametrize("moved", sorted(_VERSION_LINES))
def test_release_check_fails_when_one_version_moves(tmp_path, moved):
    for name in _VERSION_LINES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    assert colab_cell.release_problems(tmp_path) == []
    version = colab_cell.package_versions(ROOT)["pyproject.toml"]
    text = (tmp_path / moved).read_text()
    line = _VERSION_LINES[moved].format(version)
    assert text.count(line) == 1, f"{moved}: expected one line {line!r}"
    (tmp_path / moved).write_text(text.replace(line, _VERSION_LINES[moved].format("9.9.9")))
    problems = colab_cell.release_problems(tmp_path)
    assert problems and any(moved in p for p in problems), problems
    tag = colab_cell.release(tmp_path / "_config.yml")
    assert f'@{tag}"' in colab_cell.canonical_source(tmp_path / "_config.yml")


def test_colab_cell_is_left_out_of_the_output_hash(notebook):
    from notebook_hash import code_hash

    path, nb = notebook
    cell = colab_cell.first_code_cell(nb)
    before = code_hash(nb)
    cell.source = cell.source.replace("git+", "git+https://example.org/elsewhere#")
    assert code_hash(nb) == before, "changing the repository URL must not stale the outputs"
    other = next(c for c in reversed(nb.cells) if c.cell_type == "code" and c is not cell)
    other.source += "\n# edited"
    assert code_hash(nb) != before


def test_code_lines_fit_the_html_page(notebook):
    path, nb = notebook
    wide = [
        (i, line)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if len(line) > 79
    ]
    assert not wide, (
        f"{path.name}: code lines over 79 characters scroll sideways in "
        f"the HTML book: {[line for _, line in wide[:3]]}"
    )


# The source-post box (CONTRIBUTING.md): a correction of one of the five source posts is a
# collapsed admonition with the class source-post and the title "Source post 00N: ...", and
# it stays short: at most two paragraphs and one code block.
SOURCE_POST_CLASS = "source-post"
SOURCE_POST_TITLE = re.compile(r"Source post 00[0-4]: \S.*")
_OPENING = re.compile(r"^(?P<fence>:{3,}|`{3,})\{admonition\}[ \t]*(?P<title>.*)$")
_OPTION = re.compile(r"^:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$")
_CODE_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})")


def admonitions(markdown: str) -> list[dict]:
    """Every ``{admonition}`` in a markdown text: its title, classes and body lines."""
    found, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        opening = _OPENING.match(lines[i].strip())
        i += 1
        if not opening:
            continue
        fence, options, body = opening["fence"], {}, []
        while i < len(lines) and (option := _OPTION.match(lines[i].strip())):
            options[option["name"]] = option["value"]
            i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        i += 1
        classes = options.get("class", "").split()
        found.append({"title": opening["title"].strip(), "classes": classes, "body": body})
    return found


def paragraphs_and_code_blocks(body: list[str]) -> tuple[int, int]:
    """Paragraphs (runs of non-blank lines outside code) and fenced code blocks in a body."""
    paragraphs = code_blocks = 0
    in_paragraph, i = False, 0
    while i < len(body):
        line = body[i].strip()
        fence = _CODE_FENCE.match(line)
        if fence:
            code_blocks += 1
            in_paragraph = False
            i += 1
            while i < len(body) and body[i].strip() != fence["fence"]:
                i += 1
        elif line and not in_paragraph:
            paragraphs += 1
            in_paragraph = True
        elif not line:
            in_paragraph = False
        i += 1
    return paragraphs, code_blocks


def source_post_problems(markdown: str) -> list[str]:
    """What is wrong with the source-post boxes in a markdown text ([] if nothing)."""
    problems = []
    for box in admonitions(markdown):
        is_box = SOURCE_POST_CLASS in box["classes"]
        if not is_box:
            if box["title"].lower().startswith("source post"):
                problems.append(f"{box['title']!r}: add :class: dropdown {SOURCE_POST_CLASS}")
            continue
        if not SOURCE_POST_TITLE.fullmatch(box["title"]):
            problems.append(f"{box['title']!r}: the title must read 'Source post 00N: ...'")
        if "dropdown" not in box["classes"]:
            problems.append(f"{box['title']!r}: the box must be collapsed (class dropdown)")
        paragraphs, code_blocks = paragraphs_and_code_blocks(box["body"])
        if paragraphs > 2 or code_blocks > 1:
            problems.append(
                f"{box['title']!r}: {paragraphs} paragraphs and {code_blocks} code blocks "
                "(at most 2 and 1)"
            )
    return problems


def test_source_post_boxes_follow_the_house_form(notebook):
    path, nb = notebook
    problems = [
        p for c in nb.cells if c.cell_type == "markdown" for p in source_post_problems(c.source)
    ]
    assert not problems, f"{path.name}: " + "; ".join(problems)


GOOD_BOX = """\
Text before the box.

:::{admonition} Source post 001: a KL weight in disguise
:class: dropdown source-post
The post weighs the KL by 0.00025 against a mean over pixels.

That is a beta of 0.26 per image; the fix is a sum over pixels.

```python
loss = recon.sum(dim=(1, 2, 3)) + kl
```
:::
"""


@pytest.mark.parametrize(
    "markdown, expected",
    [
        (GOOD_BOX, []),
        (GOOD_BOX.replace("001", "005"), ["the title must read"]),
        (GOOD_BOX.replace("Source post 001: a", "Post 001 - a"), ["the title must read"]),
        (GOOD_BOX.replace("dropdown ", ""), ["must be collapsed"]),
        (GOOD_BOX.replace("dropdown source-post", "dropdown"), ["add :class: dropdown"]),
        (GOOD_BOX.replace("That is", "One more.\n\nThat is"), ["3 paragraphs"]),
        (GOOD_BOX.replace(":::\n", "```\nx = 1\n```\n:::\n"), ["2 code blocks"]),
        (GOOD_BOX.replace(":::", "````"), []),
        (":::{admonition} Note\n:class: tip\nAnything.\n:::\n", []),
    ],
    ids=[
        "good",
        "post-005",
        "title",
        "open",
        "no-class",
        "3-paragraphs",
        "2-code",
        "backticks",
        "other",
    ],
)
def test_the_source_post_check_catches_a_wrong_box(markdown, expected):
    problems = source_post_problems(markdown)
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected):
        assert words in problem, problems
