"""The outputs stored in each chapter come from a full run of the current code."""
import nbformat
import pytest

from conftest import CHAPTERS, ROOT

from notebook_hash import METADATA_KEY, notebook_hashes

HOW_TO_FIX = "re-run `make execute NB={path}` and commit the notebook"


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_there_are_chapters():
    assert len(CHAPTERS) >= 1


def test_outputs_are_from_current_code(chapter):
    path, notebook = chapter
    stored = notebook.metadata.get(METADATA_KEY)
    assert stored is not None, f"{path.name} has no stored run; {HOW_TO_FIX.format(path=path.relative_to(ROOT))}"
    current = notebook_hashes(notebook)
    assert stored["code_sha256"] == current["code_sha256"], (
        f"{path.name}: code cells changed since the outputs were stored; "
        + HOW_TO_FIX.format(path=path.relative_to(ROOT)))
    assert stored["vae_lib_sha256"] == current["vae_lib_sha256"], (
        f"{path.name}: vae_lib changed since the outputs were stored; "
        + HOW_TO_FIX.format(path=path.relative_to(ROOT)))
    assert stored["mode"] == "full"


def test_every_cell_ran_once_in_order_without_errors(chapter):
    path, notebook = chapter
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert all(n is not None for n in counts), f"{path.name} has code cells that never ran"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} was not run top to bottom once"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name} stores an error output"
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert "Traceback (most recent call last)" not in text, f"{path.name} stores a traceback"


def test_hash_changes_when_code_changes(chapter):
    _, notebook = chapter
    before = notebook_hashes(notebook)["code_sha256"]
    code_cell = next(c for c in notebook.cells if c.cell_type == "code"
                     and "colab-install" not in c.metadata.get("tags", []))
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
            f"took {seconds} s (notebook metadata {METADATA_KEY}.seconds)")
