"""How much faster is vae_lib.fit than the classic DataLoader training loop?

The command line of ``vae_lib.bench`` (see benchmarks/README.md): it reads the
options, prints the environment, runs ``bench.measure`` for each chosen model
and prints its report. The last line is ``speedup: N.Nx``: vl.fit's samples/s
over the seed way's, for the "mlp" model (or the first one run).

Usage:  .venv/bin/python benchmarks/bench_training.py [--help]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import torch

from vae_lib import bench, get_device


@dataclass(frozen=True)
class Benchmark:
    """One model the command line offers: what to time and how to describe it."""

    workload: bench.Workload
    description: str
    loss_unit: str = "nats per image"


BENCHMARKS = {
    "mlp": Benchmark(
        bench.MLP, "MLPVAE(z_dim=10, hidden=(256,)), Bernoulli decoder, grey-level targets"
    ),
    "conv": Benchmark(
        bench.CONV,
        "chapter 3's ConvVAE(widths=(16, 32, 64, 128, 256), z_dim=128) and post_loss, "
        "padding to 32x32 per batch (bench.conv_post_loss)",
        loss_unit="per-pixel MSE + 0.00025 KL",
    ),
}
"""Add a model here: Benchmark(bench.Workload(make_model, loss_fn), description)."""

HEADLINE = "mlp"
"""The benchmark whose speedup the final ``speedup:`` line repeats."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        action="append",
        choices=[*BENCHMARKS, "all"],
        help="model to time; repeat the flag for several, or 'all' (default: mlp)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run (default 1)")
    parser.add_argument(
        "--n-train", type=int, default=60000, help="the first N MNIST images (default 60000)"
    )
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    parser.add_argument(
        "--workers", type=int, default=0, help="the seed way's DataLoader workers (default 0)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="timed runs of each way; median (default 1)"
    )
    parser.add_argument(
        "--no-variants",
        dest="variants",
        action="store_false",
        help="time only plain vl.fit, not its compile / bf16 / channels-last paths",
    )
    args = parser.parse_args(argv)
    for name in ("epochs", "n_train", "batch_size", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.workers < 0:
        parser.error("--workers must be at least 0")
    models = args.model or ["mlp"]
    args.model = list(BENCHMARKS) if "all" in models else list(dict.fromkeys(models))
    return args


def print_environment(args: argparse.Namespace) -> None:
    """What the figures depend on besides the report's first line (device, torch)."""
    print(
        f"threads: {torch.get_num_threads()} intra-op, "
        f"{torch.get_num_interop_threads()} inter-op; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
        f"DataLoader workers {args.workers}"
    )
    print(f"python {sys.version.split()[0]}; data: the first {args.n_train} MNIST images")


def print_repeats(report: bench.BenchReport) -> None:
    """Each way's timed runs in seconds, when there were several."""
    for way, timing in report.timings.items():
        if len(timing.seconds) > 1:
            print(f"  runs of {way}: " + ", ".join(f"{s:.3f}" for s in timing.seconds) + " s")


def run(name: str, args: argparse.Namespace, device: torch.device) -> bench.BenchReport:
    """Measure one registered model; print its report and speedup; return the report."""
    chosen = BENCHMARKS[name]
    print(f"\n[{name}] {chosen.description}; loss: {chosen.loss_unit}")
    report = bench.measure(
        chosen.workload,
        n_train=args.n_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        repeat=args.repeat,
        workers=args.workers,
        variants=args.variants,
        device=device,
    )
    print(report)
    print_repeats(report)
    print(f"speedup ({name}): {report.speedup():.1f}x")
    return report


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the chosen models, end with the headline speedup."""
    args = parse_args(argv)
    device = get_device()
    print_environment(args)
    reports = {name: run(name, args, device) for name in args.model}
    headline = HEADLINE if HEADLINE in reports else args.model[0]
    print(f"speedup: {reports[headline].speedup():.1f}x")


if __name__ == "__main__":
    main()
