"""The canonical first code cell of every chapter: install vae_lib in Colab.

The cell is made from ``repository.url`` and ``repository.branch`` in
``_config.yml`` (the one place the repository is named). In Google Colab it
runs ``pip install "vae_lib @ git+<url>@<branch>"``; vae_lib's requirements
are loose (torch>=2.1, ...), so pip keeps the torch Colab already has.
Anywhere else the cell does nothing.

    python scripts/colab_cell.py            # check every chapter; exit 1 if one differs
    python scripts/colab_cell.py --write    # put the cell first in every chapter

``tests/test_notebook_conventions.py`` checks every chapter against
``canonical_source()``. The cell is left out of the stored-output hash
(``scripts/notebook_hash.py``), so ``--write`` needs no ``make execute``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-install"
"""Cell tag that marks the install cell."""
TAGS = [TAG, "hide-input"]
"""The cell's tags: the HTML book folds its code away behind a toggle."""

TEMPLATE = """\
# Colab only: install this book's helper package, vae_lib, from the book's
# repository. Colab's own torch stays: vae_lib asks only for torch>=2.1.
# Anywhere else this cell does nothing (see the setup page).
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = "vae_lib @ git+{url}@{branch}"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", source],
        capture_output=True, text=True,
    )
    if pip.returncode != 0:
        raise RuntimeError(
            f"Could not install {{source}}. pip said:\\n{{pip.stderr[-2000:]}}\\n"
            "Check that the runtime is online, then run this cell again."
        )
    print(f"installed {{source}}")"""


def repository(config_path: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """(url, branch) of the book's repository, read from ``_config.yml``."""
    config = yaml.safe_load(config_path.read_text())
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch")
    if not url or not branch:
        raise ValueError(f"{config_path}: set repository.url and repository.branch")
    return url.rstrip("/"), branch


def canonical_source() -> str:
    """The exact source every chapter's first code cell must have."""
    url, branch = repository()
    return TEMPLATE.format(url=url, branch=branch)


def first_code_cell(nb) -> nbformat.NotebookNode | None:
    """The first code cell of a notebook, or None if it has none."""
    return next((cell for cell in nb.cells if cell.cell_type == "code"), None)


def is_canonical(cell) -> bool:
    """Whether ``cell`` is the canonical Colab cell, source and tags."""
    return (
        cell is not None and cell.source == canonical_source() and cell.metadata.get("tags") == TAGS
    )


def write(path: Path) -> bool:
    """Make the canonical cell the first code cell of ``path``; True if changed."""
    nb = nbformat.read(path, as_version=4)
    cell = first_code_cell(nb)
    if is_canonical(cell):
        return False
    if cell is not None and TAG in cell.metadata.get("tags", []):
        cell.source = canonical_source()
        cell.metadata["tags"] = list(TAGS)
    else:
        new = nbformat.v4.new_code_cell(canonical_source(), metadata={"tags": list(TAGS)})
        index = nb.cells.index(cell) if cell is not None else len(nb.cells)
        nb.cells.insert(index, new)
    nbformat.write(nb, path)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="insert or update the cell in every chapter"
    )
    args = parser.parse_args(argv)
    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    wrong = []
    for path in chapters:
        if args.write:
            if write(path):
                print(f"updated {path.relative_to(ROOT)}")
        else:
            nb = nbformat.read(path, as_version=4)
            if not is_canonical(first_code_cell(nb)):
                wrong.append(path.relative_to(ROOT))
    for path in wrong:
        print(
            f"{path}: first code cell is not the canonical Colab cell; "
            "run python scripts/colab_cell.py --write",
            file=sys.stderr,
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
