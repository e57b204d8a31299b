"""Play the Colab reader: each notebook (chapter or deep dive) alone, vae_lib installed.

In Colab a reader opens one notebook. Torch, numpy, matplotlib and
ipywidgets are already installed; the notebook's first cell pip-installs
vae_lib from the repository, and nothing else is there: no checkout, no
``book/``, no ``vae_lib/`` folder beside the notebook.

This test builds the same situation here:

* a fresh virtual environment outside the checkout, with nothing installed
  in it. What Colab has preinstalled is lent to it from the project's
  ``.venv`` (every package there but vae_lib, pip included, linked into a
  folder on its path), because installing torch again would cost minutes;
* vae_lib built as a wheel from the checkout's files and installed with
  ``pip install --no-index``: if installing it needed anything Colab lacks,
  or wanted another torch, the install fails;
* each notebook copied alone into its own temporary folder and executed top
  to bottom, in quick mode, by a kernel running the fresh environment's
  Python, with an empty folder for saved models (each Colab notebook has its
  own runtime); a probe cell at the end records where vae_lib was imported from;
* a release served on 127.0.0.1 with one file per published model
  (scripts/publish_models.py's list, freshly initialised weights written by
  its write_asset) and the installed vae_lib's manifest pinning them: the
  results chapter, which finds no model saved in its runtime, must download
  every one and fill every row of its table.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
import torch
from conftest import NOTEBOOKS, ROOT, serve_folder
from publish_models import PUBLISHED, manifest_entry, write_asset

from vae_lib.zoo import FORMAT

PROBE = textwrap.dedent("""\
    import json as _json, os as _os, sys as _sys, vae_lib as _vl
    print("COLAB-READER-PROBE" + _json.dumps({
        "vae_lib": _vl.__file__, "executable": _sys.executable,
        "cwd": _os.getcwd(), "path": _sys.path}))
""")

DRIVER = textwrap.dedent("""\
    import sys
    import nbclient, nbformat

    path, probe = sys.argv[1], sys.argv[2]
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    client = nbclient.NotebookClient(
        nb, kernel_name="colab-reader", timeout=600,
        resources={"metadata": {"path": sys.argv[3]}})
    client.execute()
    nbformat.write(nb, path)
""")


def _lent(name: str) -> bool:
    """Whether a .venv site-packages entry is lent to the fresh environment."""
    return (
        name != "__pycache__"
        and not name.endswith(".pth")
        and not name.startswith(("vae_lib", "__editable__"))
    )


def _copy_checkout(dest: Path) -> None:
    """Copy the checkout's files (tracked or new, not ignored; as they are on disk) to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0 and listed.stdout:
        for rel in filter(None, listed.stdout.split("\0")):
            src = ROOT / rel
            if src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:  # not a git checkout: copy what building the package needs
        shutil.copytree(
            ROOT / "vae_lib", dest / "vae_lib", ignore=shutil.ignore_patterns("__pycache__")
        )
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(ROOT / name, dest / name)


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A fresh environment with vae_lib installed from the checkout."""
    base = tmp_path_factory.mktemp("colab-reader")
    assert ROOT not in base.parents, "the reader's folders must lie outside the checkout"
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    fresh_site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )

    lent = base / "preinstalled"
    lent.mkdir()
    project_site = Path(sysconfig.get_paths()["purelib"])
    for entry in project_site.iterdir():
        if _lent(entry.name):
            (lent / entry.name).symlink_to(entry)
    (fresh_site / "zz_preinstalled.pth").write_text(f"{lent}\n")

    src, wheels = base / "src", base / "wheels"
    _copy_checkout(src)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(src),
        ],
        check=True,
        cwd=base,
    )
    before = {p.name for p in fresh_site.iterdir()}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--find-links", str(wheels), "vae_lib"],
        capture_output=True,
        text=True,
        cwd=base,
    )
    assert install.returncode == 0, (
        "pip could not install vae_lib from what Colab already has:\n"
        + install.stdout[-2000:]
        + install.stderr[-2000:]
    )
    added = {p.name for p in fresh_site.iterdir()} - before
    assert {n.split("-")[0] for n in added} == {"vae_lib"}, (
        f"installing vae_lib added more than vae_lib: {sorted(added)}"
    )

    _publish_a_release(base / "release", base / "saved", fresh_site / "vae_lib")

    kernels = base / "jupyter" / "kernels" / "colab-reader"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Colab reader",
                "language": "python",
            }
        )
    )
    (base / "driver.py").write_text(DRIVER)
    with serve_folder(base / "release") as url:
        yield {
            "base": base,
            "python": python,
            "site": fresh_site,
            "jupyter_path": str(base / "jupyter"),
            "release_url": url + "/",
        }


def _publish_a_release(served: Path, saved: Path, installed: Path) -> None:
    """Publish every model of publish_models.PUBLISHED (fresh weights) into ``served``
    and pin them in the installed vae_lib's manifest."""
    saved.mkdir()
    models = {}
    for name, (chapter, build) in PUBLISHED.items():
        torch.manual_seed(0)
        model = build()
        facts = {"chapter": 0, "epochs": 1, "batch_size": 64, "seconds": 1.0}
        facts["parameters"] = sum(p.numel() for p in model.parameters())
        torch.save(
            {"format": FORMAT, "model": model.state_dict(), "facts": facts}, saved / f"{name}.pt"
        )
        asset = write_asset(saved / f"{name}.pt", served, torch.float16)
        models[name] = manifest_entry(asset, chapter, "float16", 0.0)
    manifest = {"release": "v0-test", "url": "http://127.0.0.1:9/unused/", "models": models}
    assert (installed / "published.json").is_file(), "the wheel must ship the manifest"
    (installed / "published.json").write_text(json.dumps(manifest))


def test_installing_vae_lib_keeps_the_preinstalled_torch(reader):
    import torch

    out = subprocess.run(
        [
            str(reader["python"]),
            "-c",
            "import json, torch, vae_lib; print(json.dumps([torch.__version__, "
            "torch.__file__, vae_lib.__file__]))",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=reader["base"],
    ).stdout
    version, torch_file, vae_file = json.loads(out)
    assert version == torch.__version__
    assert Path(torch_file).resolve() == Path(torch.__file__).resolve()
    assert Path(vae_file).is_relative_to(reader["site"]), vae_file


@pytest.mark.parametrize("chapter", NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_chapter_runs_alone_with_vae_lib_installed(reader, chapter):
    folder = reader["base"] / f"{chapter.parent.name}-{chapter.stem}"
    folder.mkdir()
    notebook = folder / chapter.name
    shutil.copy2(chapter, notebook)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")
    }
    env.update(
        VAE_QUICK="1",
        VAE_PROGRESS="text",
        VAE_BOOK_MODELS=str(folder / "models"),
        VAE_BOOK_PRETRAINED_URL=reader["release_url"],
        JUPYTER_PATH=reader["jupyter_path"],
        PATH=f"{reader['python'].parent}{os.pathsep}{env.get('PATH', '')}",
    )
    if chapter.name == RESULTS:  # it downloads from the release on 127.0.0.1
        env.pop("VAE_LIB_OFFLINE", None)
    run = subprocess.run(
        [
            str(reader["python"]),
            str(reader["base"] / "driver.py"),
            str(notebook),
            PROBE,
            str(folder),
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0, (
        f"{chapter.name} failed when run alone in {folder}:\n{run.stderr[-4000:]}"
    )

    import nbformat

    probe = nbformat.read(notebook, as_version=4).cells[-1].outputs[0]["text"]
    seen = json.loads(probe.split("COLAB-READER-PROBE", 1)[1])
    assert Path(seen["vae_lib"]).is_relative_to(reader["site"]), seen["vae_lib"]
    assert Path(seen["executable"]).parent == reader["python"].parent
    assert Path(seen["cwd"]).resolve() == folder.resolve()
    inside = [p for p in seen["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert not inside, f"the kernel could import from the checkout: {inside}"
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".ipynb") == [chapter.name]
    if chapter.name == RESULTS:
        _check_the_table_is_complete(nbformat.read(notebook, as_version=4))


RESULTS = "07_results.ipynb"


def _check_the_table_is_complete(notebook):
    """Every row of the results chapter's table scored, five of them downloaded (d)."""
    text = "\n".join(
        o.get("text", "")
        for c in notebook.cells
        if c.cell_type == "code" and "rows = [" in c.source
        for o in c.outputs
        if o.get("output_type") == "stream"
    )
    assert "not available" not in text, text
    rows = [line for line in text.splitlines() if line.startswith("ch") and "+-" in line]
    assert len(rows) == 6, text
    assert sum(line.rstrip().endswith("d") for line in rows) == 5, text
    assert "d not trained in this runtime" in text
