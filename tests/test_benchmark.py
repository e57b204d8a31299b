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
