"""The speed benchmark (vae_lib.bench and its command line) on tiny sizes.

These check that it measures what it says, not how fast anything is: every loop
of the ladder trains the same model, the ratios are paired by round, the FLOPs
are those of a real step, and the trace accounts for the whole step.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vae_lib import bench

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"
CPU = torch.device("cpu")

LOSS_RTOL = 0.05
"""How far apart the loops' last-block mean losses may be, relative to the posts' loop's.

Every loop starts from the same weights with Adam at the same rate on the same images;
only the batches drawn differ. After a few steps at this size their block means differ by
a few per cent; a loop that did not train, or averaged wrongly, is off by far more."""


@pytest.fixture(scope="module")
def tiny_ladder() -> bench.Ladder:
    return bench.ladder(bench.MLP, rounds=2, steps=3, warmup=20, fast=False, n_train=512)


def test_the_ladder_times_every_rung_in_order(tiny_ladder):
    assert tiny_ladder.names == [
        "posts' loop",
        "TensorDataset",
        "+ fused Adam",
        "- per-step .item()",
        "vl.fit",
    ]
    for name in tiny_ladder.names:
        assert len(tiny_ladder.times[name]) == 2 and min(tiny_ladder.times[name]) > 0
        assert tiny_ladder.dtypes[name] == "float32"
    assert set(tiny_ladder.peaks) == {"float32"} and min(tiny_ladder.peaks["float32"]) > 0


def test_every_loop_trains_the_same_model(tiny_ladder):
    posts = tiny_ladder.losses["posts' loop"]
    untrained = 543.6  # 784 pixels at p = 1/2 cost 784 log 2 nats, about what a new model pays
    assert posts < 0.8 * untrained, tiny_ladder.losses
    for loss in tiny_ladder.losses.values():
        assert abs(loss - posts) <= LOSS_RTOL * posts, tiny_ladder.losses


def test_the_report_names_its_denominators_and_ends_with_the_headline(tiny_ladder):
    text = str(tiny_ladder)
    assert "131.4 MFLOP per step (FlopCounterMode)" in text
    assert re.search(r"^peak: a large float32 matrix product, best \d+ GFLOP/s", text, re.M)
    assert re.search(r"^CPU: .*thread\(s\)", text, re.M), text
    assert re.fullmatch(
        r"speedup: \d+\.\dx \(95% interval \[\d+\.\d\d, \d+\.\d\d\], 2 rounds\): vl\.fit over "
        r"the posts' loop, MLP 784-256-10, batch 64",
        tiny_ladder.headline(),
    )


def test_fast_paths_use_their_own_peak():
    initial = bench.MLP.make_model()
    x = torch.rand(256, 1, 28, 28)
    assert bench.FitLoop(bench.MLP, initial, CPU, x, bf16=True).dtype == torch.bfloat16
    assert bench.FitLoop(bench.MLP, initial, CPU, x, compile=True).dtype == torch.float32
    found = bench.Ladder(
        "toy", 4, [], {"a": [1.0, 1.0], "b": [0.5, 0.5]}, {"a": "float32", "b": "bfloat16"},
        {"float32": [10.0, 8.0], "bfloat16": [40.0, 30.0]}, flops=5, steps=1,
    )  # fmt: skip
    assert found.fraction_of_peak("a") == pytest.approx(5 / 1.0 / 10.0)
    assert found.fraction_of_peak("b") == pytest.approx(5 / 0.5 / 40.0)


def test_a_ratio_is_paired_by_round():
    # a slow second round slows both loops alike: paired, the ratio is exactly 2
    slow, fast = [2.0, 6.0, 2.2], [1.0, 3.0, 1.1]
    r = bench.Ratio.of(slow, fast)
    assert r.factor == pytest.approx(2.0) and r.lo == pytest.approx(2.0)
    assert r.hi == pytest.approx(2.0) and r.rounds == 3
    noisy = bench.Ratio.of([2.0, 2.4, 1.8, 2.2], [1.0, 1.0, 1.0, 1.0])
    assert noisy.lo < noisy.factor < noisy.hi and noisy.factor == pytest.approx(
        math.exp(sum(math.log(v) for v in [2.0, 2.4, 1.8, 2.2]) / 4)
    )


def test_time_loops_rotates_the_order_and_warms_up_first():
    calls = []

    class Recorder(bench.Loop):
        def __init__(self, name):
            self.name, self.dtype = name, torch.float32

        def run(self):
            calls.append((self.name, self.steps))

    loops = {n: Recorder(n) for n in "abc"}
    times, peaks = bench.time_loops(loops, CPU, steps=4, rounds=3, warmup=2)
    assert calls[:3] == [("a", 2), ("b", 2), ("c", 2)]  # the warm-up
    order = [name for name, _ in calls[3:]]
    assert order == list("abc") + list("bca") + list("cab")
    assert all(len(v) == 3 for v in times.values()) and len(peaks["float32"]) == 3


def test_step_flops_counts_a_real_step():
    layers = [(784, 256), (256, 20), (10, 256), (256, 784)]
    by_hand = sum(2 * 64 * i * o * (2 if k == 0 else 3) for k, (i, o) in enumerate(layers))
    assert bench.step_flops(bench.MLP, CPU) == by_hand
    assert bench.step_flops(bench.MLP.at_batch(128), CPU) == 2 * by_hand
    small_conv = bench.Workload("conv", lambda: bench.PaddedConvVAE((4, 4, 4, 4, 4), 2), 2)
    assert bench.step_flops(small_conv, CPU) > 0  # convolutions are counted too


def test_the_trace_accounts_for_the_whole_step():
    loop = bench.fit_loop(bench.MLP, CPU, n_train=512, warmup=2)
    found = bench.trace(loop, CPU, steps=3, plain=0.002)
    kinds = dict(found.parts)
    assert kinds["matrix products and convolutions"] > 0
    assert kinds["Adam's update (fused kernel)"] > 0
    assert sum(kinds.values()) == pytest.approx(found.wall)
    assert found.plain == pytest.approx(2.0)
    assert "profiled step, all of it" in str(found)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("aten::addmm", "matrix products and convolutions"),
        ("aten::mkldnn_convolution", "matrix products and convolutions"),
        ("aten::_fused_adam_", "Adam's update (fused kernel)"),
        ("aten::mul", "other operators (elementwise, sums, copies)"),
        (
            "autograd::engine::evaluate_function: AddmmBackward0",
            "autograd and optimiser bookkeeping",
        ),
        ("Optimizer.step#Adam.step", "autograd and optimiser bookkeeping"),
    ],
)
def test_trace_categories(name, kind):
    assert bench._category(name) == kind


def test_the_break_even_in_epochs():
    found = bench.BreakEven("toy", 60, compile_s=10.0, plain=[0.003] * 3, compiled=[0.002] * 3)
    # 10 s / 1 ms saved per step = 10,000 steps = 10 epochs of 1,000 steps
    assert found.epochs == pytest.approx(10.0)
    slower = bench.BreakEven("toy", 60, 10.0, plain=[0.002] * 3, compiled=[0.003] * 3)
    assert math.isinf(slower.epochs) and "never" in str(slower)
    # Noisy rounds: the interval brackets the estimate, and its upper end is
    # infinite when the slow end of the speed-up's interval saves nothing.
    noisy = bench.BreakEven(
        "toy", 60, 10.0, plain=[0.0030, 0.0031, 0.0029], compiled=[0.0020, 0.0021, 0.0019]
    )
    lo, hi = noisy.epochs_interval
    assert lo < noisy.epochs < hi < math.inf
    unsure = bench.BreakEven(
        "toy", 60, 10.0, plain=[0.003, 0.002, 0.003], compiled=[0.002, 0.003, 0.002]
    )
    assert math.isinf(unsure.epochs_interval[1])


def test_environment_names_the_cpus_bf16_instructions():
    line = bench.environment(CPU)[0]
    assert "bf16 instructions: " in line and "bf16 units" not in line


def test_a_fresh_compile_runs_in_a_new_process():
    seconds = bench.fresh_compile_seconds(bench.MLP.at_batch(8), CPU, steps=2, n_train=64)
    assert seconds > 0.5  # torch.compile's set-up and kernels, paid afresh
    unknown = bench.Workload("not registered", bench.MLP.make_model, 8)
    with pytest.raises(ValueError, match="not one of"):
        bench.fresh_compile_seconds(unknown, CPU, steps=1)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="rounds must be a positive integer"):
        bench.ladder(rounds=0)
    with pytest.raises(ValueError, match="at least 2"):
        bench.ladder(rounds=1)


# ------------------------------------------------------------------ the command line
def test_the_command_line_prints_the_ladder_and_the_headline():
    env = dict(os.environ, OMP_NUM_THREADS="1")  # the machine is shared; one thread
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--n-train", "512", "--no-fast", "--rounds", "2"]
        + ["--steps", "2", "--warmup", "1", "--trace"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^\[mlp\]$", out, re.MULTILINE), out
    assert re.search(r"^loop +ms/step +IQR", out, re.MULTILINE), out
    assert re.search(r"^- per-step \.item\(\) ", out, re.MULTILINE), out
    assert "where the time goes" in out
    assert re.match(r"speedup: \d+\.\dx \(95% interval", out.strip().splitlines()[-1]), out


def test_the_command_line_rejects_bad_options(capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_training", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_training", script)
    spec.loader.exec_module(script)
    with pytest.raises(SystemExit) as exit_:
        script.parse_args(["--n-train", "0"])
    assert exit_.value.code == 2
    assert "--n-train must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.parse_args(["--rounds", "1"])
    assert "--rounds must be at least 2" in capsys.readouterr().err
    assert script.parse_args(["--model", "all"]).model == list(script.WORKLOADS)
