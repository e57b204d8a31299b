"""CITATION.cff names the book, both licences and the version that the Colab cell installs."""

import tomllib

import yaml
from conftest import ROOT


def test_citation_file_matches_the_book_and_the_package():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    package = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert citation["cff-version"] == "1.2.0"
    assert citation["title"] == config["title"]
    assert [a["name"] for a in citation["authors"]] == [config["author"]]
    assert citation["version"] == package["version"]
    assert config["repository"]["release"] == "v" + citation["version"]
    assert citation["repository-code"] == config["repository"]["url"]
    # the text and figures (LICENSE-CC-BY-SA-4.0.md) and the code (LICENSE, in pyproject)
    assert set(citation["license"]) == {"CC-BY-SA-4.0", package["license"]}
    assert {"message", "type"} <= set(citation)
