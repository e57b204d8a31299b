"""The hash that ties a notebook's stored outputs to the code that made them.

It covers the notebook's code cells (their source, in order) and every file of
vae_lib. The canonical Colab cell (tag ``colab-install``) is left out: it does
nothing outside Colab, and a test keeps it identical to
``scripts/colab_cell.py``'s template, so changing the repository URL does not
make every stored output stale. ``scripts/execute_notebooks.py`` writes the
hash into the notebook's metadata after a full-mode run;
``tests/test_stored_outputs.py`` recomputes it and fails when the stored
outputs are stale.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
from colab_cell import TAG as COLAB_TAG

from vae_lib.checkpoint import library_sha256

ROOT = Path(__file__).resolve().parents[1]
METADATA_KEY = "vae_book"


def vae_lib_hash(root: Path = ROOT) -> str:
    return library_sha256(root / "vae_lib")


def code_hash(notebook: nbformat.NotebookNode) -> str:
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code" and COLAB_TAG not in cell.metadata.get("tags", []):
            digest.update(cell.source.encode())
            digest.update(b"\0")
    return digest.hexdigest()


def notebook_hashes(notebook: nbformat.NotebookNode, root: Path = ROOT) -> dict:
    return {"code_sha256": code_hash(notebook), "vae_lib_sha256": vae_lib_hash(root)}
