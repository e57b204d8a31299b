"""Numbers that go into a chapter's sentences, from the cell that computed them.

``glue(name, value)`` hands a value to myst-nb, so the HTML book can write it
into the prose with ``{glue:text}`name:.2f` `` and a re-run cannot leave the
sentence stale. Where myst-nb is not installed (Colab, a plain Jupyter) it
does nothing. It returns None, so a cell that ends with it shows nothing.
"""

from __future__ import annotations


def glue(name: str, value) -> None:
    """Store ``value`` under ``name`` for the book's prose.

    name: the key the prose refers to (letters, digits, '-' and '_').
    value: a number or a short string; shown nowhere in the notebook itself.
    A one-element tensor or NumPy number becomes a Python number first, so
    the prose can format it (``{glue:text}`name:.2f` ``).
    """
    if (
        not isinstance(name, str)
        or not name
        or not name.replace("-", "").replace("_", "").isalnum()
    ):
        raise ValueError(f"glue needs a name of letters, digits, '-' and '_', got {name!r}.")
    if hasattr(value, "item"):  # a one-element tensor or NumPy value
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)
