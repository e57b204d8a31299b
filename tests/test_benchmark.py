"""The training benchmark runs end to end on a tiny configuration (about 10 s on a CPU)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"


def run_bench(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")  # the machine is shared; one thread
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_benchmark_reports_both_ways_and_a_final_speedup():
    result = run_bench("--n-train", "2048")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for way in ("seed way", "vae_lib way"):
        match = re.search(rf"^\s*{way}\b.*?([0-9.]+) samples/s", out, re.MULTILINE)
        assert match, f"no samples/s figure for the {way}:\n{out}"
        assert float(match.group(1)) > 0
    assert re.search(r"^speedup \(mlp\): [0-9]+\.[0-9]x$", out, re.MULTILINE), out
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(r"speedup: ([0-9]+\.[0-9])x", last)
    assert match, f"last line is not 'speedup: N.Nx': {last!r}"
    assert float(match.group(1)) > 0


def test_benchmark_rejects_bad_options():
    result = run_bench("--n-train", "0")
    assert result.returncode == 2
    assert "--n-train must be at least 1" in result.stderr


def test_benchmark_runs_the_conv_model_and_keeps_the_mlp_headline():
    result = run_bench("--model", "mlp", "--model", "conv", "--n-train", "256")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^speedup \(conv\): [0-9]+\.[0-9]x$", out, re.MULTILINE), out
    mlp = re.search(r"^speedup \(mlp\): ([0-9]+\.[0-9])x$", out, re.MULTILINE)
    last = out.strip().splitlines()[-1]
    assert mlp and last == f"speedup: {mlp.group(1)}x", out


def test_benchmark_conv_model_is_chapter_3s_model():
    """The benchmark's copy of ConvVAE must build the same network as the chapter's."""
    import importlib.util

    import nbformat
    import torch

    import vae_lib as vl

    notebook = nbformat.read(SCRIPT.parents[1] / "chapters" / "03_conv_vae.ipynb", as_version=4)
    source = next(c.source for c in notebook.cells
                  if c.cell_type == "code" and "class ConvVAE" in c.source)
    namespace = {"nn": torch.nn, "torch": torch, "vl": vl}
    exec(source, namespace)  # the chapter's own cell: conv_block, deconv_block, ConvVAE

    spec = importlib.util.spec_from_file_location("bench_training", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)

    torch.manual_seed(0)
    chapter = namespace["ConvVAE"](widths=(4, 8, 8, 16, 16), z_dim=6).eval()
    copy = bench.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=6).eval()
    shapes = lambda m: {k: tuple(v.shape) for k, v in m.state_dict().items()}  # noqa: E731
    assert shapes(copy) == shapes(chapter)
    copy.load_state_dict(chapter.state_dict())
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    torch.manual_seed(1)
    expected = chapter(x)
    torch.manual_seed(1)
    actual = copy(x)
    for a, b in zip(actual, expected):
        assert torch.allclose(a, b, atol=1e-6)
