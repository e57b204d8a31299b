"""The training benchmark (vae_lib.bench and its command line) on tiny sizes.

These check that it works, not how fast: both ways must reach the same
last-epoch loss, because they train the same model the same way.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vae_lib as vl
from vae_lib import bench

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"
CPU = torch.device("cpu")

LOSS_RTOL = 0.05
"""How far apart the two ways' last-epoch mean losses may be, relative to the seed way's.

Both ways start from the same weights with the same Adam and the same images; only the
shuffling differs (DataLoader's sampler vs torch.randperm), which moves the epoch mean
by well under 1% here (0.4% on 2,048 images). A loop that does not train, or that
averages over steps instead of images, is off by far more."""


def assert_the_ways_agree(report: bench.BenchReport) -> None:
    seed = report.timings["seed"].loss
    for way, timing in report.timings.items():
        assert abs(timing.loss - seed) <= LOSS_RTOL * abs(seed), f"{way}:\n{report}"


@pytest.fixture(scope="module")
def mlp_report() -> bench.BenchReport:
    return bench.measure(bench.MLP, n_train=2048, variants=False, device=CPU)


def test_measure_reports_both_ways_and_the_peak(mlp_report):
    report = mlp_report
    assert list(report.timings) == ["seed", "fit"]
    for timing in report.timings.values():
        assert len(timing.seconds) == 1 and timing.samples_per_s > 0
        assert timing.compile_s is None
    assert report.speedup("seed") == 1.0 and report.speedup() > 0
    assert_the_ways_agree(report)
    assert 100 < report.timings["fit"].loss < 500  # nats per image after one epoch
    # MLPVAE(10, (256,)): 2*64*(784*256*2 + 256*20*3 + 10*256*3 + 256*784*3) FLOPs
    assert report.step_flops / 1e6 == pytest.approx(131.4, abs=0.05)
    assert report.peak_flops > 0 and 0 < report.ceiling
    assert 0 < report.fraction_of_peak() < report.ceiling


def test_the_report_prints_in_a_few_lines(mlp_report):
    text = str(mlp_report)
    assert len(text.splitlines()) <= 15
    assert text.splitlines()[0] == mlp_report.environment
    assert re.search(r"^seed .* 1\.0x", text, re.MULTILINE), text
    assert re.search(r"^fit .*x +0\.\d\d +\d+\.\d{3}$", text, re.MULTILINE), text


def test_measure_times_the_conv_model():
    report = bench.measure(bench.CONV, n_train=256, variants=False, device=CPU)
    assert report.step_flops is None and report.fraction_of_peak() is None
    assert_the_ways_agree(report)


def test_the_channels_last_path_trains_the_same_model():
    torch.manual_seed(0)
    initial = bench.CONV.make_model()
    x = vl.load_mnist(n_train=128, n_test=10, download=False).x_train
    losses = []
    for channels_last in (False, True):
        vl.seed_everything(1)
        fit = bench.fit_way(
            initial, bench.CONV.loss_fn, x, epochs=1, batch_size=64, channels_last=channels_last
        )
        losses.append(fit)
    assert losses[1] == pytest.approx(losses[0], rel=1e-3)


def test_fit_options_list_the_faster_paths():
    assert bench.fit_options(bench.MLP, CPU, variants=False) == {"fit": {}}
    mlp = bench.fit_options(bench.MLP, CPU)
    assert mlp["fit, compile"] == {"compile": True}
    assert not any("channels-last" in way for way in mlp)
    conv = bench.fit_options(bench.CONV, CPU)
    assert conv["fit, channels-last"] == {"channels_last": True}
    assert ("fit, bf16" in conv) == vl.accel.bf16_supported(CPU)


def test_measure_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_train must be a positive integer"):
        bench.measure(n_train=0)


def test_step_matmul_seconds_times_exactly_the_products_step_flops_counts():
    from torch.overrides import TorchFunctionMode

    class CountMatmulFlops(TorchFunctionMode):
        flops = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") in ("matmul", "__matmul__"):
                a, b = args
                CountMatmulFlops.flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
            return func(*args, **(kwargs or {}))

    model = vl.MLPVAE(z_dim=3, hidden=(16, 8))
    with CountMatmulFlops():
        seconds = bench.step_matmul_seconds(model, 4, CPU)
    assert seconds > 0
    # 5 warm-up steps, then 5 timed runs of 50 steps each
    assert CountMatmulFlops.flops == (5 + 5 * 50) * bench.step_flops(model, 4)
    conv = vl.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=2)
    assert bench.step_matmul_seconds(conv, 4, CPU) is None


# ------------------------------------------------------------------ the command line
def test_the_command_line_prints_the_report():
    env = dict(os.environ, OMP_NUM_THREADS="1")  # the machine is shared; one thread
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--n-train", "256", "--no-variants"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^\[mlp\] ", out, re.MULTILINE), out
    assert re.search(r"^way +s +samples/s", out, re.MULTILINE), out
    assert re.search(r"^fit .*x", out, re.MULTILINE), out
    assert re.fullmatch(r"speedup: [0-9]+\.[0-9]x", out.strip().splitlines()[-1]), out


def test_the_command_line_rejects_bad_options(capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_training", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_training", script)  # for its dataclass
    spec.loader.exec_module(script)
    with pytest.raises(SystemExit) as exit_:
        script.parse_args(["--n-train", "0"])
    assert exit_.value.code == 2
    assert "--n-train must be at least 1" in capsys.readouterr().err
    assert script.parse_args(["--model", "all"]).model == list(script.BENCHMARKS)
