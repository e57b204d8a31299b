"""Run the book's notebooks top to bottom in full mode and store their outputs.

    python scripts/execute_notebooks.py                 # every chapter, then every deep dive
    python scripts/execute_notebooks.py chapters/01_mlp_vae.ipynb

This is the only way stored outputs are made. Each notebook gets, in its
metadata under "vae_book", the hashes of its code and of vae_lib (see
notebook_hash.py), the wall-clock seconds of the run and the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from colab_cell import notebooks as book_notebooks  # noqa: E402
from notebook_hash import METADATA_KEY, notebook_hashes  # noqa: E402


def machine_description() -> str:
    import torch

    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}"
    return f"CPU, {os.cpu_count()} cores ({platform.machine()})"


def execute(path: Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        coalesce_streams=True,
        # Widgets need a live kernel; their cells are tagged remove-output and
        # carry a static figure, so no widget state (and no CDN manager) is stored.
        store_widget_state=False,
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    notebook.metadata[METADATA_KEY] = {
        **notebook_hashes(notebook),
        "mode": "full",
        "seconds": round(seconds, 1),
        "machine": machine_description(),
    }
    nbformat.write(notebook, path)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args()
    notebooks = args.notebooks or book_notebooks()
    # Full mode, text progress bars (so the HTML shows their final state).
    os.environ["VAE_QUICK"] = "0"
    os.environ["VAE_PROGRESS"] = "text"
    for path in notebooks:
        print(f"executing {path} ...", flush=True)
        seconds = execute(path.resolve(), args.timeout)
        print(f"  done in {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
