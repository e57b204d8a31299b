"""Author-year labels in the bibliography, to match the author-year citations.

The chapters cite with ``bibtex_reference_style: author_year`` ("Kingma and
Welling, 2013"), but pybtex's stock styles label the list on the references
page with [KW13] or [1]. This extension registers the pybtex formatting
style ``author_year``: the entries are formatted as in ``unsrt``, sorted by
author, year and title, and labelled "Kingma and Welling, 2013",
"Rezende et al., 2014" (with a, b, ... when two labels would coincide).
"""

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _who(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(person.last_names) for person in people]
    if not names:
        raise ValueError(f"bibliography entry {entry.key!r} has no author or editor")
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Author, year" / "A and B, year" / "A et al., year"."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [f"{_who(e)}, {e.fields.get('year', 'n.d.')}" for e in entries]
        repeated, seen = Counter(labels), Counter()
        for label in labels:
            if repeated[label] > 1:
                seen[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
