"""House rules every notebook, chapter or deep dive, follows (see CONTRIBUTING.md)."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from dataclasses import dataclass

import colab_cell
import nbformat
import pytest
from conftest import CHAPTERS, NOTEBOOKS, ROOT, alt_text_problem

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


# --- exercises (CONTRIBUTING.md, "Exercises") -----------------------------------------------
# Every exercise has one layout. A markdown cell holds the exercise; the first line of its
# body states kind and difficulty ("*implement · ★★☆*"). For an implement or predict
# exercise, a code cell tagged exercise-attempt follows (a stub calling vl.exercises.check,
# or `my_prediction = ...`). Then a markdown cell opens ```{solution-start} <label> with
# :class: dropdown; the solution's code cells follow, each opening with "# @title Solution"
# and carrying "cellView": "form" (Colab collapses them); a markdown cell holding only
# ```{solution-end} closes the solution. sphinx-exercise puts everything between the two
# into the dropdown, so no solution code shows on the page until the reader opens it
# (tests/test_book_browser.py checks the HTML).

KINDS = ("derive", "implement", "predict", "experiment")
DIFFICULTIES = ("★☆☆", "★★☆", "★★★")
KIND_LINE = re.compile(
    rf"\*(?P<kind>{'|'.join(KINDS)}) · (?P<difficulty>{'|'.join(DIFFICULTIES)})\*"
)
ATTEMPT_TAG = "exercise-attempt"
SOLUTION_TITLE = re.compile(r"# ?@title Solution(?:: \S.*)?")
"""The first line of a solution's code cell: Colab reads "#@title" and "# @title" alike,
and ruff format writes the second."""
CHECK_CALL = re.compile(r"""vl\.exercises\.check\(\s*["']([^"']+)["']""")
EXERCISES_PAGE = ROOT / "book" / "exercises.md"
_DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>exercise(?:-start)?|solution(?:-start|-end)?)\}"
    r"[ \t]*(?P<argument>\S*)"
)


@dataclass
class Directive:
    """One exercise or solution directive: the cell that holds it, its name and content."""

    cell: int
    name: str
    argument: str
    options: dict
    body: list


@dataclass
class Exercise:
    """An exercise, its stated kind and difficulty, and the directives of its solution."""

    label: str
    cell: int
    first_line: str
    kind: str | None
    difficulty: str | None
    start: Directive | None
    end: Directive | None

    @property
    def solution_cells(self) -> range:
        """The cells between the {solution-start} cell and the {solution-end} cell."""
        if self.start is None or self.end is None:
            return range(0)
        return range(self.start.cell + 1, self.end.cell)


def directives(nb) -> list[Directive]:
    """The exercise and solution directives in a notebook's markdown cells, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines, i = cell.source.splitlines(), 0
        while i < len(lines):
            opening = _DIRECTIVE.match(lines[i].strip())
            i += 1
            if not opening:
                continue
            options, body = {}, []
            while i < len(lines) and (option := _OPTION.match(lines[i].strip())):
                options[option["name"]] = option["value"]
                i += 1
            while i < len(lines) and lines[i].strip() != opening["fence"]:
                body.append(lines[i])
                i += 1
            i += 1
            found.append(Directive(index, opening["name"], opening["argument"], options, body))
    return found


def exercises(nb) -> list[Exercise]:
    """Every exercise of a notebook, with its kind line and its solution's directives."""
    found, parts = [], directives(nb)
    for d in parts:
        if d.name not in ("exercise", "exercise-start"):
            continue
        label = d.options.get("label", "")
        first = next((line.strip() for line in d.body if line.strip()), "")
        mark = KIND_LINE.fullmatch(first)
        at = next(
            (k for k, s in enumerate(parts) if s.name == "solution-start" and s.argument == label),
            None,
        )
        start = end = None
        if at is not None:  # gated directives do not nest: its end is the next directive
            start = parts[at]
            after = parts[at + 1] if at + 1 < len(parts) else None
            end = after if after is not None and after.name == "solution-end" else None
        kind, difficulty = (mark["kind"], mark["difficulty"]) if mark else (None, None)
        found.append(Exercise(label, d.cell, first, kind, difficulty, start, end))
    return found


def _tags(cell) -> list:
    return cell.metadata.get("tags", [])


def _inside_solutions(nb) -> set:
    return {i for e in exercises(nb) for i in e.solution_cells}


def _attempt_cells(nb, exercise) -> list:
    """The code cells right after the exercise's cell, up to the next markdown cell."""
    cells = []
    for cell in nb.cells[exercise.cell + 1 :]:
        if cell.cell_type == "markdown":
            break
        if cell.cell_type == "code":
            cells.append(cell)
    return cells


def _checked_labels(nb) -> set:
    return {
        label
        for cell in nb.cells
        if cell.cell_type == "code"
        for label in CHECK_CALL.findall(cell.source)
    }


def kind_line_problems(nb) -> list[str]:
    """Exercises whose first line does not state kind and difficulty in the fixed form."""
    return [
        f"exercise {e.label}: state kind and difficulty as the first line of its body, in "
        f"the form '*implement · ★★☆*' (kind one of {', '.join(KINDS)}; difficulty one of {', '.join(DIFFICULTIES)}), "
        f"not {e.first_line!r}"
        for e in exercises(nb)
        if e.kind is None
    ]


def solution_layout_problems(nb) -> list[str]:
    """Solutions not in a dropdown, not closed in their own cell, or code outside them."""
    problems = []
    for e in exercises(nb):
        start = f"{{solution-start}} {e.label}"
        if e.start is None:
            problems.append(
                f"exercise {e.label}: add a markdown cell ```{start} (:class: dropdown)"
            )
            continue
        if "dropdown" not in e.start.options.get("class", "").split():
            problems.append(f"{start}: add ':class: dropdown' so that the solution is collapsed")
        if e.end is None:
            problems.append(f"{start}: close it with a markdown cell ```{{solution-end}}")
        elif e.kind != "derive" and e.end.cell == e.start.cell:
            problems.append(
                f"{start}: its {{solution-end}} is in the same cell; give it a markdown cell of "
                "its own after the solution's code cells, so that they sit in the dropdown"
            )
        elif e.kind != "derive":
            lines = [line for line in nb.cells[e.end.cell].source.splitlines() if line.strip()]
            if len(lines) != 2:
                problems.append(f"the {{solution-end}} cell of {e.label} must hold nothing else")
    inside = _inside_solutions(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or index in inside:
            continue
        first = cell.source.split("\n", 1)[0]
        if SOLUTION_TITLE.match(first):
            problems.append(
                f"code cell {index} ({first!r}) shows on the page: move it between "
                "{solution-start} and {solution-end}"
            )
        elif CHECK_CALL.search(cell.source) and ATTEMPT_TAG not in _tags(cell):
            problems.append(
                f"code cell {index} calls vl.exercises.check outside every solution: a "
                f"reference solution goes inside its dropdown, an attempt cell is tagged "
                f"{ATTEMPT_TAG}"
            )
    return problems


def collapsed_solution_problems(nb) -> list[str]:
    """Solution code cells that Colab would not collapse (no #@title, no cellView form)."""
    problems = []
    for e in exercises(nb):
        for index in e.solution_cells:
            cell = nb.cells[index]
            if cell.cell_type != "code":
                continue
            first = cell.source.split("\n", 1)[0]
            if not SOLUTION_TITLE.fullmatch(first.rstrip()):
                problems.append(
                    f"{e.label}: make '# @title Solution' (or '# @title Solution: <what it "
                    f"shows>') the first line of its solution's code cell {index}, not {first!r}"
                )
            if cell.metadata.get("cellView") != "form":
                problems.append(
                    f'{e.label}: add "cellView": "form" to the metadata of its solution\'s '
                    f"code cell {index} (Colab then collapses it)"
                )
    return problems


def attempt_problems(nb) -> list[str]:
    """Implement and predict exercises without their attempt cell; attempts left hidden."""
    problems = []
    for e in exercises(nb):
        attempts = [c for c in _attempt_cells(nb, e) if ATTEMPT_TAG in _tags(c)]
        if e.kind == "implement" and not attempts:
            problems.append(
                f"{e.label} (implement): put a code cell tagged {ATTEMPT_TAG} right after the "
                f"exercise: a stub raising NotImplementedError, then "
                f'vl.exercises.check("{e.label}", ...)'
            )
        elif e.kind == "implement" and not any(
            e.label in CHECK_CALL.findall(c.source) for c in attempts
        ):
            problems.append(
                f'{e.label}: its {ATTEMPT_TAG} cell must call vl.exercises.check("{e.label}", ...)'
            )
        elif e.kind == "predict" and not attempts:
            problems.append(
                f"{e.label} (predict): put a code cell tagged {ATTEMPT_TAG} right after the "
                "exercise, where the learner writes `my_prediction = ...`"
            )
        others = {label for c in attempts for label in CHECK_CALL.findall(c.source)} - {e.label}
        if others:
            problems.append(
                f"{e.label}: its {ATTEMPT_TAG} cell checks {sorted(others)}; call "
                f'vl.exercises.check("{e.label}", ...) there'
            )
    for index in sorted(_inside_solutions(nb)):
        if ATTEMPT_TAG in _tags(nb.cells[index]):
            problems.append(
                f"code cell {index} is tagged {ATTEMPT_TAG} but sits inside a solution, hidden: "
                "move it before {solution-start}"
            )
    return problems


def reference_check_problems(nb) -> list[str]:
    """Checked exercises (every implement one, and any whose attempt cell calls the
    checker) whose solution does not run the checker on the reference."""
    problems = []
    for e in exercises(nb):
        attempted = [label for c in _attempt_cells(nb, e) for label in CHECK_CALL.findall(c.source)]
        if e.kind != "implement" and e.label not in attempted:
            continue
        calls = [
            label
            for i in e.solution_cells
            if nb.cells[i].cell_type == "code"
            for label in CHECK_CALL.findall(nb.cells[i].source)
        ]
        if e.label not in calls:
            problems.append(
                f"{e.label}: end its solution's code with "
                f'vl.exercises.check("{e.label}", <the reference function>)'
            )
    return problems


def test_every_exercise_states_kind_and_difficulty_first(notebook):
    path, nb = notebook
    problems = kind_line_problems(nb)
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_solution_code_sits_inside_the_dropdown(notebook):
    path, nb = notebook
    problems = solution_layout_problems(nb)
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_solution_code_cells_are_collapsed_in_colab(notebook):
    path, nb = notebook
    problems = collapsed_solution_problems(nb)
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_implement_and_predict_exercises_have_an_attempt_cell(notebook):
    path, nb = notebook
    problems = attempt_problems(nb)
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_an_implement_solution_runs_the_checker_on_its_reference(notebook):
    path, nb = notebook
    problems = reference_check_problems(nb)
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_checker_calls_name_an_exercise_of_their_notebook(notebook):
    path, nb = notebook
    unknown = _checked_labels(nb) - {e.label for e in exercises(nb)}
    assert not unknown, (
        f"{path.name}: vl.exercises.check is called with {sorted(unknown)}, which are not "
        "labels of this notebook's exercises; fix the label in the call"
    )


def test_every_checked_label_has_a_registered_checker():
    import vae_lib as vl

    registered = set(vl.exercises.checkers())
    missing = [
        f"{path.name}: {label}"
        for path in NOTEBOOKS
        for label in sorted(_checked_labels(nbformat.read(path, as_version=4)))
        if label not in registered
    ]
    assert not missing, (
        f"vl.exercises.check is called for exercises that have no checker: {missing}; "
        'register one with @checker("<label>") in vae_lib/exercises/chN.py'
    )


def test_every_registered_checker_is_used_by_a_notebook():
    import vae_lib as vl

    used = set()
    for path in NOTEBOOKS:
        used |= _checked_labels(nbformat.read(path, as_version=4))
    unused = sorted(set(vl.exercises.checkers()) - used)
    assert not unused, (
        f"checkers that no notebook calls: {unused}; call vl.exercises.check(label, ...) in "
        "the exercise's attempt cell, or remove the checker from vae_lib/exercises/"
    )


def test_every_chapter_has_a_predict_or_implement_exercise(chapter):
    path, nb = chapter
    kinds = {e.label: e.kind for e in exercises(nb)}
    assert {"predict", "implement"} & set(kinds.values()), (
        f"{path.name}: the exercises' kinds are {kinds}; turn at least one into an implement "
        "exercise with a checker or a predict-then-run one"
    )


# The exercises page, book/exercises.md: one table per notebook under a "## <its title>"
# heading; each row is | {numref}`label` | kind | difficulty | what the exercise asks |.
_PAGE_ROW = re.compile(
    r"^\|\s*\{numref\}`(?P<label>[^`]+)`\s*\|\s*(?P<kind>[^|]*?)\s*\|\s*(?P<difficulty>[^|]*?)\s*\|"
)


def page_rows(text: str) -> list[tuple[str, str, str, str]]:
    """(heading, label, kind, difficulty) for every exercise row of the exercises page."""
    rows, heading = [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif row := _PAGE_ROW.match(line):
            rows.append((heading, row["label"], row["kind"], row["difficulty"]))
    return rows


def _title(nb) -> str:
    return nb.cells[0].source.splitlines()[0].removeprefix("# ").strip()


def exercises_page_problems(text: str, books: list) -> list[str]:
    """What the page gets wrong against ``books``: (notebook title, its exercises) pairs."""
    rows = page_rows(text)
    listed = [label for _, label, _, _ in rows]
    problems = [
        f"{label} is listed {listed.count(label)} times"
        for label in sorted(set(listed))
        if listed.count(label) > 1
    ]
    known = {e.label: (title, e) for title, found in books for e in found}
    for heading, label, kind, difficulty in rows:
        if label not in known:
            problems.append(f"{label} is listed but no notebook has that exercise")
            continue
        title, e = known[label]
        if heading != title:
            problems.append(f"{label} is listed under {heading!r}; it belongs under {title!r}")
        if (kind, difficulty) != (e.kind, e.difficulty):
            problems.append(
                f"{label} is listed as {kind} · {difficulty}; its notebook says "
                f"{e.kind} · {e.difficulty}"
            )
    problems += [
        f"{label} is missing: add a row under {known[label][0]!r}"
        for label in known
        if label not in listed
    ]
    return problems


def test_the_exercises_page_lists_every_exercise_once_with_its_kind():
    books = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        books.append((_title(nb), exercises(nb)))
    problems = exercises_page_problems(EXERCISES_PAGE.read_text(), books)
    assert not problems, "book/exercises.md: " + "; ".join(problems)


# --- the exercise parser and rules on a small notebook written here -------------------------


def _toy_notebook():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("# A toy chapter\n\nSome text."),
        md(
            "## Exercises\n\n```{exercise}\n:label: toy-ex-kl\n\n*implement · ★★☆*\n"
            "Write `kl(mu, logvar)`, the KL to the prior per row: (B, D) -> (B,).\n```"
        ),
        code(
            'def kl(mu, logvar):\n    raise NotImplementedError("write your code here")\n\n\n'
            'vl.exercises.check("toy-ex-kl", kl)',
            metadata={"tags": [ATTEMPT_TAG]},
        ),
        md("```{solution-start} toy-ex-kl\n:class: dropdown\n```\n\nThe closed form."),
        code(
            "# @title Solution\ndef kl(mu, logvar):\n    return 0.5 * (mu**2 + logvar.exp() - 1 - "
            'logvar).sum(-1)\n\n\nvl.exercises.check("toy-ex-kl", kl)',
            metadata={"cellView": "form"},
        ),
        md("```{solution-end}\n```"),
        md(
            "```{exercise}\n:label: toy-ex-prior\n\n*predict · ★☆☆*\nWhat does the KL give "
            "at mu = 0, logvar = 0?\n```"
        ),
        code("my_prediction = ...  # a number, in nats", metadata={"tags": [ATTEMPT_TAG]}),
        md("```{solution-start} toy-ex-prior\n:class: dropdown\n```\n\nZero."),
        code("# @title Solution: the KL at the prior\nprint(0.0)", metadata={"cellView": "form"}),
        md("```{solution-end}\n```"),
        md(
            "```{exercise}\n:label: toy-ex-why\n\n*derive · ★★★*\nWhy is it never negative?"
            "\n```\n\n```{solution-start} toy-ex-why\n:class: dropdown\n```\n\nJensen."
            "\n\n```{solution-end}\n```"
        ),
        code("print('the chapter goes on')"),
    ]
    return nb


RULES = {
    "kind": kind_line_problems,
    "layout": solution_layout_problems,
    "colab": collapsed_solution_problems,
    "attempt": attempt_problems,
    "reference": reference_check_problems,
}


def test_the_exercise_parser_reads_a_toy_notebook():
    nb = _toy_notebook()
    found = exercises(nb)
    assert [(e.label, e.kind, e.difficulty) for e in found] == [
        ("toy-ex-kl", "implement", "★★☆"),
        ("toy-ex-prior", "predict", "★☆☆"),
        ("toy-ex-why", "derive", "★★★"),
    ]
    assert [e.cell for e in found] == [1, 6, 11]
    assert [list(e.solution_cells) for e in found] == [[4], [9], []]
    assert found[0].start.options == {"class": "dropdown"}
    assert _checked_labels(nb) == {"toy-ex-kl"}
    assert {name: rule(nb) for name, rule in RULES.items()} == {name: [] for name in RULES}


def _swap(nb, i, j):
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]


def _edit(index, old, new):
    def edit(nb):
        assert old in nb.cells[index].source
        nb.cells[index].source = nb.cells[index].source.replace(old, new)

    return edit


@pytest.mark.parametrize(
    "break_it, rule, words",
    [
        (_edit(1, "*implement · ★★☆*\n", ""), "kind", "toy-ex-kl: state kind and difficulty"),
        (_edit(1, "implement ·", "implemented ·"), "kind", "toy-ex-kl: state kind and difficulty"),
        (_edit(6, "★☆☆", "2/3"), "kind", "toy-ex-prior: state kind and difficulty"),
        (_edit(3, ":class: dropdown\n", ""), "layout", "add ':class: dropdown'"),
        (lambda nb: _swap(nb, 4, 5), "layout", "code cell 5 ('# @title Solution') shows"),
        (lambda nb: nb.cells.pop(5), "layout", "close it with a markdown cell"),
        (_edit(5, "```{solution-end}\n```", "```{solution-end}\n```\n\nMore."), "layout", "hold"),
        (_edit(3, "\n\nThe closed form.", "\n\n```{solution-end}\n```"), "layout", "same cell"),
        (
            lambda nb: nb.cells.append(
                nbformat.v4.new_code_cell('vl.exercises.check("toy-ex-kl", f)')
            ),
            "layout",
            "calls vl.exercises.check outside every solution",
        ),
        (_edit(4, "# @title Solution\n", ""), "colab", "make '# @title Solution'"),
        (_edit(9, "Solution: the", "Answer: the"), "colab", "toy-ex-prior: make '# @title"),
        (lambda nb: nb.cells[4].metadata.clear(), "colab", 'add "cellView": "form"'),
        (lambda nb: nb.cells[2].metadata.clear(), "attempt", "toy-ex-kl (implement): put"),
        (_edit(2, '"toy-ex-kl"', '"toy-ex-kl2"'), "attempt", "cell must call vl.exercises"),
        (lambda nb: nb.cells[7].metadata.clear(), "attempt", "toy-ex-prior (predict): put"),
        (lambda nb: _swap(nb, 2, 3), "attempt", "sits inside a solution"),
        (_edit(4, 'vl.exercises.check("toy-ex-kl", kl)', "kl"), "reference", "end its solution"),
        (
            _edit(7, "my_prediction = ...", 'vl.exercises.check("toy-ex-prior", ...)'),
            "reference",
            'toy-ex-prior: end its solution\'s code with vl.exercises.check("toy-ex-prior"',
        ),
        (
            _edit(2, "kl)", 'kl)\nvl.exercises.check("toy-ex-why", 1)'),
            "attempt",
            "toy-ex-kl: its exercise-attempt cell checks ['toy-ex-why']",
        ),
    ],
    ids=[
        "no-kind-line",
        "unknown-kind",
        "difficulty-not-stars",
        "not-a-dropdown",
        "solution-after-end",
        "no-solution-end",
        "solution-end-not-alone",
        "solution-end-in-start-cell",
        "reference-check-outside",
        "no-title",
        "title-not-solution",
        "no-cellview",
        "attempt-not-tagged",
        "attempt-checks-another-label",
        "predict-without-attempt",
        "attempt-inside-solution",
        "reference-not-checked",
        "checked-predict-without-reference",
        "attempt-checks-two-labels",
    ],
)
def test_each_exercise_rule_catches_its_mistake(break_it, rule, words):
    nb = _toy_notebook()
    break_it(nb)
    problems = RULES[rule](nb)
    assert any(words in p for p in problems), problems


TOY_PAGE = """\
# All exercises

## A toy chapter

| Exercise | Kind | Difficulty | What you do |
|---|---|---|---|
| {numref}`toy-ex-kl` | implement | ★★☆ | Write the KL to the prior. |
| {numref}`toy-ex-prior` | predict | ★☆☆ | Predict the KL at the prior. |
| {numref}`toy-ex-why` | derive | ★★★ | Show that the KL is never negative. |
"""


@pytest.mark.parametrize(
    "page, words",
    [
        (TOY_PAGE, None),
        (TOY_PAGE.replace("| implement |", "| derive |"), "listed as derive · ★★☆"),
        (TOY_PAGE.replace("| ★☆☆ |", "| ★★☆ |"), "its notebook says predict · ★☆☆"),
        (TOY_PAGE.replace("## A toy", "## Another"), "it belongs under 'A toy chapter'"),
        (TOY_PAGE.replace("{numref}`toy-ex-why`", "{numref}`toy-ex-kl`"), "listed 2 times"),
        (TOY_PAGE.replace("{numref}`toy-ex-why`", "{numref}`toy-ex-kl`"), "toy-ex-why is missing"),
        (TOY_PAGE + "| {numref}`toy-ex-gone` | derive | ★☆☆ | Old. |\n", "no notebook has"),
    ],
    ids=["good", "kind", "difficulty", "chapter", "twice", "missing", "unknown"],
)
def test_the_exercises_page_check_catches_a_wrong_row(page, words):
    nb = _toy_notebook()
    problems = exercises_page_problems(page, [(_title(nb), exercises(nb))])
    if words is None:
        assert problems == []
    else:
        assert any(words in p for p in problems), problems


def test_every_figure_has_alt_text_that_describes_it(notebook):
    """myst-nb reads a figure's alt text from the cell's metadata.mystnb.image.alt."""
    _, nb = notebook
    problems = []
    for index, cell in enumerate(nb.cells):
        images = [
            o
            for o in cell.get("outputs", [])
            if {"image/png", "image/svg+xml", "image/jpeg"} & set(o.get("data", {}))
        ]
        if cell.cell_type != "code" or not images:
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
        why = alt_text_problem(alt)
        if why:
            problems.append(f"cell {index} ({cell.get('id')}): {why}")
    assert not problems, "\n".join(problems)
