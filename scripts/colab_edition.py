"""Write the Colab edition: every notebook with its MyST markup turned into plain Markdown.

Colab renders Markdown, not MyST, so a chapter opened there would show its
citations, cross-references, glued numbers and exercise fences as raw text. The
Colab edition (``colab/``, one notebook per chapter and deep dive, at the same
relative path) is made from the notebooks and the built HTML book:

* ``{cite:p}`` and ``{cite:t}`` become "(Author, Year)" and "Author (Year)",
  linked to the references page of the HTML book;
* ``{eq}``, ``{ref}``, ``{numref}`` and ``{doc}`` become links to the same
  anchor of the HTML book, with the text the book shows there ("(3)",
  "Exercise 2", a section title), and a numbered equation gets its number as
  ``\\tag``; relative links point to the HTML book;
* exercise fences become headings; a solution becomes a heading with its text
  folded in ``<details>`` (its code cells are already folded: ``cellView:
  form``); admonitions become blockquotes, or ``<details>`` when they are
  dropdowns; a figure becomes its image (from the HTML book) and caption;
* glued values become their values, formatted as the book formats them;
* a cell tagged ``hide-input`` folds its code (``cellView: form``);
* a notebook whose full run takes more than three minutes on the CPU asks
  Colab for a GPU runtime (metadata) and says in one line how to switch.

    python scripts/colab_edition.py --html _build/html           # write colab/
    python scripts/colab_edition.py --html _build/html --check   # exit 1 if colab/ differs

The HTML book's address is ``html.baseurl`` in ``_config.yml``. The Colab
buttons of the HTML book open this edition (``repository.path_to_book: colab``)
and ``tests/test_colab_edition.py`` checks that it is fresh and free of MyST.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import yaml
from bs4 import BeautifulSoup
from myst_nb.core.variables import format_plain_text
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "colab"
GPU_AFTER_SECONDS = 180
"""A notebook whose full run on the CPU takes longer than this asks for a GPU in Colab."""
GPU_LINE = (
    "*This notebook asks Colab for a GPU. If **Runtime → Change runtime type** shows a CPU, "
    "choose a GPU there before running any cell: on a laptop's CPU the full run takes about "
    "{minutes} minutes.*"
)
ROLE = re.compile(r"\{(?P<role>[a-z]+(?::[a-z]+)?)\}`(?P<body>[^`]*)`")
FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z-]+)\}[ \t]*(?P<arg>.*)$")
OPTION = re.compile(r"^:(?P<key>[a-z][a-z-]*):[ \t]*(?P<value>.*)$")
TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*$", re.M)
EQ_LABEL = re.compile(r"^\$\$[ \t]*\((?P<label>[^)\s]+)\)[ \t]*$", re.M)
SOLUTION = "<!-- solution -->"
"""Where a solution's text starts; what follows, up to the solution's end, is folded."""
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<href>[^)\s]+)\)")
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from colab_cell import notebooks  # noqa: E402


def book_url(root: Path = ROOT) -> str:
    """The HTML book's address, ``html.baseurl`` in _config.yml, ending in '/'."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["html"]["baseurl"].rstrip("/") + "/"


class Book:
    """The built HTML book: pages, their anchors, and the bibliography."""

    def __init__(self, html: Path, base: str):
        self.html, self.base = html, base
        self._soups: dict[str, BeautifulSoup] = {}
        self.bib = parse_file(str(ROOT / "book" / "references.bib")).entries
        self._entries = None

    def citation(self, key: str) -> tuple[str, str, str]:
        """(who, year, anchor) of a cited key, as the references page labels and anchors
        its entry ("Nalisnick et al.", "2019a", "id13"); matched by the entry's title."""
        if self._entries is None:
            self._entries = [
                (
                    div.find(class_="label").get_text("", strip=True).strip("[]"),
                    div["id"],
                    _plain(div.get_text(" ", strip=True)),
                )
                for div in self.soup("book/references.html").select("div.citation")
            ]
        if key not in self.bib:
            raise KeyError(f"{key!r} is not in book/references.bib")
        title = _plain(self.bib[key].fields.get("title", ""))
        found = [(label, anchor) for label, anchor, text in self._entries if title in text]
        if len(found) != 1:
            raise KeyError(
                f"{key!r}: its title matches {len(found)} entries of the references page, not 1"
            )
        who, _, year = found[0][0].rpartition(", ")
        return who, year, found[0][1]

    def soup(self, rel: str) -> BeautifulSoup:
        if rel not in self._soups:
            path = self.html / rel
            if not path.is_file():
                raise FileNotFoundError(f"{path} is not in the built book: run `make book` first.")
            self._soups[rel] = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        return self._soups[rel]

    def url(self, rel: str, href: str = "") -> str:
        return urljoin(self.base + rel, href)


class Converter:
    """Turns one notebook's MyST Markdown into Colab's Markdown."""

    def __init__(self, book: Book, rel: Path, notebook: nbformat.NotebookNode):
        self.book, self.rel = book, rel.with_suffix(".html").as_posix()
        self.page = book.soup(self.rel)
        self.glued = _glued(notebook)

    # --- roles --------------------------------------------------------------
    def role(self, match: re.Match) -> str:
        role, body = match["role"], match["body"]
        if role.startswith("glue"):
            doc, _, rest = body.rpartition("::")  # "other.ipynb::key:fmt" glues across pages
            key, _, fmt = rest.rpartition(":") if ":" in rest else (rest, "", "")
            glued = self.glued if not doc else self.glued_in(doc)
            if key not in glued:
                raise KeyError(f"{self.rel}: no glued value {key!r} in {doc or 'this notebook'}")
            return format_plain_text(glued[key], fmt)
        if role in ("cite:p", "cite:t"):
            return self.cite(role, [k.strip() for k in body.split(",")])
        text, label = _text_and_target(body)
        if role == "eq":
            return self.link_to(f"equation-{label}", text)
        if role in ("ref", "numref"):
            return self.link_to(label, text)
        if role == "doc":
            href = label + ".html"
            shown = text or self._link_text(lambda h: h.split("#")[0] == href) or label
            return f"[{shown}]({self.book.url(self.rel, href)})"
        raise ValueError(f"{self.rel}: the role {{{role}}} has no Colab form yet")

    def glued_in(self, doc: str) -> dict[str, str]:
        """The glued values of another notebook, named relative to this one."""
        path = (ROOT / self.rel).parent / doc
        return _glued(nbformat.read(path.resolve(), as_version=4))

    def cite(self, role: str, keys: list[str]) -> str:
        links = []
        for who, year, anchor in (self.book.citation(k) for k in keys):
            url = self.book.url("book/references.html", f"#{anchor}")
            text = f"{who} ({year})" if role == "cite:t" else f"{who}, {year}"
            links.append(f"[{text}]({url})")
        return "; ".join(links) if role == "cite:t" else "(" + "; ".join(links) + ")"

    def _link_text(self, wanted) -> str | None:
        for a in self.page.select("article a.reference.internal, main a.reference.internal"):
            if wanted(a.get("href", "")):
                return " ".join(a.get_text(" ", strip=True).split())
        return None

    def link_to(self, anchor: str, text: str | None) -> str:
        """A link to ``anchor`` wherever the book has it, with the book's text for it."""
        rel = self.find_anchor(anchor)
        shown = text or self._link_text(lambda h: urlparse(h).fragment == anchor) or anchor
        return f"[{shown}]({self.book.url(rel, '#' + anchor)})"

    def find_anchor(self, anchor: str) -> str:
        if self.page.find(id=anchor):
            return self.rel
        for path in sorted(self.book.html.rglob("*.html")):
            rel = path.relative_to(self.book.html).as_posix()
            if not rel.startswith("_") and self.book.soup(rel).find(id=anchor):
                return rel
        raise KeyError(f"{self.rel}: no page of the built book has the anchor #{anchor}")

    # --- blocks ---------------------------------------------------------------
    def markdown(self, source: str) -> str:
        source = TARGET.sub("", source)
        source = EQ_LABEL.sub(self._tag, source)
        source = self.fences(source)
        source = ROLE.sub(self.role, source)
        source = LINK.sub(self._link, source)
        return re.sub(r"\n{3,}", "\n\n", source).strip()

    def _tag(self, match: re.Match) -> str:
        anchor = f"equation-{match['label']}"
        node = self.page.find(id=anchor)
        if node is None or node.find(class_="eqno") is None:
            raise KeyError(f"{self.rel}: no numbered equation #{anchor} on the built page")
        eqno = node.find(class_="eqno").get_text(strip=True)
        number = re.match(r"\(([^)]*)\)", eqno)[1]  # "(3)#": the number, then the link sign
        return "\\tag{" + number + "}\n$$"

    def _link(self, match: re.Match) -> str:
        href = match["href"]
        if re.match(r"^[a-z]+:", href):
            return match[0]
        if href.startswith("#"):
            return f"[{match['text']}]({self.book.url(self.rel, href)})"
        path, _, fragment = href.partition("#")
        path = re.sub(r"\.(md|ipynb)$", ".html", path)
        url = self.book.url(self.rel, path) + (f"#{fragment}" if fragment else "")
        return f"[{match['text']}]({url})"

    def fences(self, source: str) -> str:
        lines, out, i = source.split("\n"), [], 0
        while i < len(lines):
            opened = FENCE.match(lines[i])
            if not opened:
                out.append(lines[i])
                i += 1
                continue
            fence, name, arg = opened["fence"], opened["name"], opened["arg"].strip()
            options, i = {}, i + 1
            while i < len(lines) and (option := OPTION.match(lines[i])):
                options[option["key"]] = option["value"].strip()
                i += 1
            body = []
            while i < len(lines) and lines[i].strip() != fence:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"{self.rel}: the {{{name}}} fence {fence} is never closed")
            i += 1  # the closing fence
            inner = self.fences("\n".join(body)).strip()  # a directive inside a directive
            out.append(self.directive(name, arg, options, inner))
        return "\n".join(out)

    def directive(self, name: str, arg: str, options: dict, body: str) -> str:
        if name == "exercise":
            return f"### {self.exercise_title(options['label'])}\n\n{body}"
        if name == "solution-start":
            return f"#### Solution: {self.exercise_title(arg)}\n{SOLUTION}"
        if name == "solution-end":
            return ""
        if name == "figure":
            return self.figure(arg, options, body)
        if name == "admonition" or name in ("note", "tip", "warning", "important", "seealso"):
            title = arg or name.capitalize()
            if "dropdown" in options.get("class", ""):
                return f"<details>\n<summary><b>{title}</b></summary>\n\n{body}\n\n</details>"
            quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
            return f"> **{title}**\n>\n{quoted}"
        raise ValueError(f"{self.rel}: the directive {{{name}}} has no Colab form yet")

    def exercise_title(self, label: str) -> str:
        node = self.page.find(id=label)
        if node is None:
            raise KeyError(f"{self.rel}: no exercise {label!r} in the built page")
        title = node.find(class_="admonition-title") or node
        return " ".join(title.get_text(" ", strip=True).split())

    def figure(self, path: str, options: dict, caption: str) -> str:
        alt = options.get("alt", "")
        name = Path(path).name
        image = next(
            (img for img in self.page.find_all("img") if Path(img.get("src", "")).name == name),
            None,
        )
        if image is None:
            raise KeyError(f"{self.rel}: the figure {path} is not on the built page")
        number = ""
        if options.get("name") and (node := self.page.find(id=options["name"])):
            tag = node.find(class_="caption-number")
            number = tag.get_text(" ", strip=True) + " " if tag else ""
        url = self.book.url(self.rel, image["src"])
        label = f"**{number.strip()}.** " if number.strip() else ""
        return f"![{alt}]({url})\n\n{label}*{caption}*"


def _folded(text: str) -> str:
    """Markdown folded behind a "Show the solution" toggle (nothing for empty text)."""
    text = text.strip()
    if not text:
        return ""
    return f"<details>\n<summary>Show the solution</summary>\n\n{text}\n\n</details>"


def _glued(notebook) -> dict[str, str]:
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                values[name] = output["data"]["application/papermill.record/text/plain"]
    return values


def _plain(text: str) -> str:
    """Lower-case letters and digits only, single-spaced: for matching titles."""
    text = re.sub(r"\\[a-z]+|[{}$]", "", text.lower())  # LaTeX commands such as \beta
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _text_and_target(body: str) -> tuple[str | None, str]:
    explicit = re.fullmatch(r"(?P<text>.*?)\s*<(?P<target>[^>]+)>", body, re.S)
    if explicit:
        return explicit["text"], explicit["target"]
    return None, body


def colab_notebook(book: Book, path: Path) -> nbformat.NotebookNode:
    """The Colab edition of the notebook at ``path`` (a chapter or deep dive)."""
    rel = path.relative_to(ROOT)
    notebook = nbformat.read(path, as_version=4)
    converter = Converter(book, rel, notebook)
    out = copy.deepcopy(notebook)
    cells, in_solution = [], False
    for cell in out.cells:
        if cell.cell_type == "markdown":
            ends = "{solution-end}" in cell.source
            cell.source = converter.markdown(cell.source)
            if SOLUTION in cell.source:
                heading, _, text = cell.source.partition(SOLUTION)
                cell.source = heading.strip() + "\n\n" + _folded(text)
                in_solution = True
            elif in_solution:
                cell.source = _folded(cell.source)
            in_solution = in_solution and not ends
            if not cell.source.strip():
                continue
        elif "hide-input" in cell.metadata.get("tags", []):
            cell.metadata["cellView"] = "form"
        cells.append(cell)
    out.cells = cells
    seconds = notebook.metadata.get("vae_book", {}).get("seconds", 0)
    out.metadata.pop("vae_book", None)
    colab = {"provenance": [], "toc_visible": True}
    if seconds > GPU_AFTER_SECONDS:
        out.metadata["accelerator"] = "GPU"
        colab["gpuType"] = "T4"
        first = out.cells[0]
        title, _, rest = first.source.partition("\n")
        line = GPU_LINE.format(minutes=max(1, round(seconds / 60)))
        first.source = f"{title}\n\n{line}\n{rest}"
    out.metadata["colab"] = colab
    return out


def render(notebook: nbformat.NotebookNode) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 where --out differs")
    args = parser.parse_args(argv)
    book = Book(args.html, book_url())
    stale = []
    for path in notebooks():
        target = args.out / path.relative_to(ROOT)
        text = render(colab_notebook(book, path))
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target.relative_to(args.out)))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if stale:
        print(
            "The Colab edition is stale for: " + ", ".join(stale) + ". Run `make book`, then "
            "`python scripts/colab_edition.py` and commit colab/.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
