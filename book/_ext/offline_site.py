"""Make the built book work offline and load without console errors.

1. MathJax from the built book itself instead of a CDN. Sphinx loads
MathJax 3 from jsDelivr by default, so a reader offline (or a build checked
without network) sees raw LaTeX. This extension points
``mathjax_path`` at ``_static/mathjax/tex-chtml.js`` and, after the build,
copies MathJax 3.2.2 there from the PyPI package ``django-static-mathjax``
(import name ``mathjax``), pinned in requirements.txt: the TeX-to-HTML bundle,
its fonts, the TeX extensions it loads on demand, and the menu.

2. Each script once per page. sphinx-thebe registers its inline
configuration script every time Sphinx reads the sources, and the bibliography
makes Sphinx read them twice; the second copy re-declares a ``const`` and the
browser reports a SyntaxError. Duplicates are dropped when a page is written.
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


def drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # An inline script's filename is None or "" depending on who added it.
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: Sphinx's MathJax handler appends to this same list afterwards.
    context["script_files"][:] = unique


def setup(app: Sphinx) -> dict:
    mathjax_source()  # fail early, with instructions, if the files are missing
    app.config.mathjax_path = f"mathjax/{BUNDLE}"
    app.connect("build-finished", copy_mathjax)
    # Run first: a handler that returns a template name stops later ones.
    app.connect("html-page-context", drop_duplicate_scripts, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
