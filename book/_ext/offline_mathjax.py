"""Serve MathJax from the built book itself instead of a CDN.

Sphinx loads MathJax 3 from jsDelivr by default, so a reader offline (or a
build checked without network) sees raw LaTeX. This extension points
``mathjax_path`` at ``_static/mathjax/tex-chtml.js`` and, after the build,
copies MathJax 3.2.2 there from the PyPI package ``django-static-mathjax``
(import name ``mathjax``), pinned in requirements.txt: the TeX-to-HTML bundle,
its fonts, the TeX extensions it loads on demand, and the menu.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

BUNDLE = "tex-chtml.js"
SUBFOLDERS = ("input", "output", "ui", "a11y", "adaptors")


def mathjax_source() -> Path:
    """Folder holding MathJax's es5 build inside the installed package."""
    spec = importlib.util.find_spec("mathjax")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(folder) / "static" / "mathjax" / "es5"
        if (es5 / BUNDLE).is_file():
            return es5
    raise ExtensionError(
        "MathJax files not found: install them with "
        "`pip install --no-deps django-static-mathjax==3.2.2.1` (see requirements.txt)."
    )


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / BUNDLE, target / BUNDLE)
    for name in SUBFOLDERS:
        shutil.copytree(source / name, target / name, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    mathjax_source()  # fail early, with instructions, if the files are missing
    app.config.mathjax_path = f"mathjax/{BUNDLE}"
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
