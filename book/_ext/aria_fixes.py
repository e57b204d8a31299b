"""Repair one ARIA pattern that Sphinx writes and accessibility checkers reject.

Sphinx 7 writes a bibliography as ``<div role="list" class="citation-list">``
whose entries carry ``role="doc-biblioentry"``; a list must contain list items,
so axe-core (run on every page by tests/test_book_browser.py) reports a critical
"aria-required-children" violation on the references page. The entries become
``role="listitem"``, which is what the list needs; the DPUB-ARIA role
doc-biblioentry is deprecated anyway.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def entries_as_list_items(app: Sphinx, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", entries_as_list_items)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
