"""The training benchmark runs end to end on a tiny configuration (about 10 s on a CPU).

Both ways must also reach the same last-epoch loss: they train the same model the same way.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"


LOSS_RTOL = 0.05
"""How far apart the two ways' last-epoch mean losses may be, relative to the seed way's.

Both ways start from the same weights with the same Adam and the same images; only the
shuffling differs (DataLoader's sampler vs torch.randperm), which moves the epoch mean
by well under 1% here (0.4% on 2,048 images). A loop that does not train, or that
averages over steps instead of images, is off by far more."""


def run_bench(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")  # the machine is shared; one thread
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=600
    )


def last_epoch_losses(out: str) -> dict:
    """{benchmark name: (seed way's, vae_lib way's last-epoch loss)} from the printed report."""
    parts = re.split(r"^\[(\w+)\] ", out, flags=re.MULTILINE)
    losses = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        found = dict(
            re.findall(
                r"^\s*(seed|vae_lib) way \(.*, last-epoch loss (-?[0-9.]+) ", body, re.MULTILINE
            )
        )
        assert set(found) == {"seed", "vae_lib"}, f"[{name}] lacks a last-epoch loss:\n{out}"
        losses[name] = (float(found["seed"]), float(found["vae_lib"]))
    return losses


def variant_losses(out: str) -> dict:
    """{variant label: last-epoch loss} of fit's faster paths, all benchmarks together."""
    found = re.findall(
        r"^\s*vae_lib way, ([\w +-]+): .*, last-epoch loss (-?[0-9.]+) ", out, re.MULTILINE
    )
    return {label: float(loss) for label, loss in found}


def assert_the_two_ways_agree(out: str, names: list) -> None:
    losses = last_epoch_losses(out)
    assert sorted(losses) == sorted(names), out
    for name, (seed, lib) in losses.items():
        assert abs(lib - seed) <= LOSS_RTOL * abs(seed), (
            f"[{name}] last-epoch losses differ by more than {LOSS_RTOL:.0%}: seed way "
            f"{seed}, vae_lib way {lib}\n{out}"
        )


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
    assert_the_two_ways_agree(out, ["mlp"])
    seed, lib = last_epoch_losses(out)["mlp"]
    assert 100 < lib < 500  # nats per image after one epoch: trained, but not implausibly well
    # fit's faster paths train the same model as well (compile draws other noise).
    variants = variant_losses(out)
    assert "compile" in variants, out
    for label, loss in variants.items():
        assert abs(loss - lib) <= LOSS_RTOL * lib, f"{label}: {loss} against {lib}\n{out}"
    # The hardware's limit, measured in the same run, and the step's share of it.
    peak = re.search(r"^matmul peak: ([0-9.]+) GFLOP/s", out, re.MULTILINE)
    assert peak and float(peak.group(1)) > 0, out
    step = re.search(
        r"training step: ([0-9.]+) MFLOP per batch of 64 .* reaches ([0-9.]+) GFLOP/s", out
    )
    # MLPVAE(10, (256,)): 2*64*(784*256*2 + 256*20*3 + 10*256*3 + 256*784*3) FLOPs
    assert step and float(step.group(1)) == pytest.approx(131.4, abs=0.05), out
    fraction = re.search(r"^fraction of matmul peak: ([0-9.]+)$", out, re.MULTILINE)
    assert fraction, out
    assert float(fraction.group(1)) == pytest.approx(
        float(step.group(2)) / float(peak.group(1)), abs=0.006
    )


def test_benchmark_rejects_bad_options():
    result = run_bench("--n-train", "0")
    assert result.returncode == 2
    assert "--n-train must be at least 1" in result.stderr


def test_benchmark_runs_the_conv_model_and_keeps_the_mlp_headline():
    result = run_bench("--model", "mlp", "--model", "conv", "--n-train", "256", "--no-variants")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^speedup \(conv\): [0-9]+\.[0-9]x$", out, re.MULTILINE), out
    mlp = re.search(r"^speedup \(mlp\): ([0-9]+\.[0-9])x$", out, re.MULTILINE)
    last = out.strip().splitlines()[-1]
    assert mlp and last == f"speedup: {mlp.group(1)}x", out
    assert_the_two_ways_agree(out, ["mlp", "conv"])


def test_step_matmul_seconds_times_exactly_the_products_step_flops_counts():
    import torch
    from torch.overrides import TorchFunctionMode

    import vae_lib as vl

    class CountMatmulFlops(TorchFunctionMode):
        flops = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") in ("matmul", "__matmul__"):
                a, b = args
                CountMatmulFlops.flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
            return func(*args, **(kwargs or {}))

    model = vl.MLPVAE(z_dim=3, hidden=(16, 8))
    with CountMatmulFlops():
        seconds = vl.bench.step_matmul_seconds(model, 4, torch.device("cpu"))
    assert seconds > 0
    # 5 warm-up steps, then 5 timed runs of 50 steps each
    assert CountMatmulFlops.flops == (5 + 5 * 50) * vl.bench.step_flops(model, 4)
    conv = vl.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=2)
    assert vl.bench.step_matmul_seconds(conv, 4, torch.device("cpu")) is None
