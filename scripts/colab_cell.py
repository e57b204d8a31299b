"""The canonical first code cell of every notebook: install vae_lib in Colab.

The cell is made from ``repository.url`` and ``repository.release`` in
``_config.yml`` (the one place the repository and the release are named). In
Google Colab it runs ``pip install "vae_lib @ git+<url>@<release>"``, a
release tag such as ``v0.1.0``, so a reader gets the vae_lib the book was
made with rather than whatever the branch holds today; vae_lib's requirements
are loose (torch>=2.1, ...), so pip keeps the torch Colab already has.
Anywhere else the cell does nothing.

The release tag must be ``v`` + the package version, which is written twice:
``version`` in ``pyproject.toml`` and ``__version__`` in ``vae_lib/__init__.py``
(read here as text, so this script never imports torch). ``release_problems()``
says where they disagree; the check and ``--write`` refuse to go on until they
agree (CONTRIBUTING.md, "Cutting a release").

    python scripts/colab_cell.py            # check every notebook; exit 1 if one differs
    python scripts/colab_cell.py --write    # put the cell first in every notebook

Every notebook is every chapter (``chapters/``), every deep dive
(``deep_dives/``) and every appendix (``appendix/``). ``tests/test_notebook_conventions.py`` checks each against
``canonical_source()`` and the versions against each other. The cell is left
out of the stored-output hash (``scripts/notebook_hash.py``), so ``--write``
needs no ``make execute``.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-install"
"""Cell tag that marks the install cell."""
TAGS = [TAG, "hide-input"]
"""The cell's tags: the HTML book folds its code away behind a toggle."""

TEMPLATE = """\
# Colab only: install this book's helper package, vae_lib, as it was at the
# book's release {release}. Colab's own torch stays: vae_lib asks only for
# torch>=2.1. Anywhere else this cell does nothing (see the setup page).
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = "vae_lib @ git+{url}@{release}"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", source],
        capture_output=True,
        text=True,
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


def release(config_path: Path = ROOT / "_config.yml") -> str:
    """The release tag the Colab cell installs (``repository.release``, e.g. ``v0.1.0``)."""
    config = yaml.safe_load(config_path.read_text())
    tag = (config.get("repository") or {}).get("release")
    if not tag:
        raise ValueError(f"{config_path}: set repository.release, e.g. v0.1.0")
    return str(tag)


def package_versions(root: Path = ROOT) -> dict[str, str | None]:
    """vae_lib's version as written in pyproject.toml and in vae_lib/__init__.py.

    Both are read as text: importing vae_lib would import torch.
    """
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    init = root / "vae_lib" / "__init__.py"
    dunder = None
    for node in ast.parse(init.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            dunder = node.value.value
    return {
        "pyproject.toml": pyproject.get("project", {}).get("version"),
        "vae_lib/__init__.py": dunder,
    }


def release_problems(root: Path = ROOT) -> list[str]:
    """Where the release tag in _config.yml and the package versions disagree ([] if nowhere)."""
    versions = package_versions(root)
    problems = [f"{where}: no version found" for where, v in versions.items() if not v]
    found = {v for v in versions.values() if v}
    if len(found) > 1:
        problems.append(
            "the package version differs: "
            + ", ".join(f"{where} says {v}" for where, v in versions.items())
        )
    tag = release(root / "_config.yml")
    for where, version in versions.items():
        if version and tag != f"v{version}":
            problems.append(
                f"_config.yml repository.release is {tag}, but {where} says version "
                f"{version} (the tag must be v{version})"
            )
    return problems


def canonical_source(config_path: Path = ROOT / "_config.yml") -> str:
    """The exact source every chapter's first code cell must have."""
    url, _ = repository(config_path)
    return TEMPLATE.format(url=url, release=release(config_path))


def first_code_cell(nb) -> nbformat.NotebookNode | None:
    """The first code cell of a notebook, or None if it has none."""
    return next((cell for cell in nb.cells if cell.cell_type == "code"), None)


def is_canonical(cell) -> bool:
    """Whether ``cell`` is the canonical Colab cell, source and tags."""
    return (
        cell is not None and cell.source == canonical_source() and cell.metadata.get("tags") == TAGS
    )


NOTEBOOK_FOLDERS = ("chapters", "deep_dives", "appendix")
"""Where the book's notebooks live, in the order they are listed and executed."""


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook of the book: the chapters, the deep dives, the appendix (each carries the cell)."""
    return [p for folder in NOTEBOOK_FOLDERS for p in sorted((root / folder).glob("*.ipynb"))]


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
        "--write", action="store_true", help="insert or update the cell in every notebook"
    )
    args = parser.parse_args(argv)
    problems = release_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            "make the release tag and the versions agree first (CONTRIBUTING.md, "
            '"Cutting a release")',
            file=sys.stderr,
        )
        return 1
    wrong = []
    for path in notebooks():
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
