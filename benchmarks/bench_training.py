"""How much faster is vae_lib.fit than the source posts' training loop, and why?

The command line of ``vae_lib.bench`` (see benchmarks/README.md): it times the
ladder of training loops for each chosen model and prints it; with --trace,
where plain vl.fit's step spends its time; with --break-even, what compiling
costs and how many epochs repay it. The last line is the headline:
``speedup: N.Nx (95% interval [...], R rounds): vl.fit over the posts' loop, ...``
for the first model run (the MLP at batch 64 by default).

Usage:  .venv/bin/python benchmarks/bench_training.py [--help]
"""

from __future__ import annotations

import argparse
import sys

import torch

from vae_lib import bench, get_device

WORKLOADS = {"mlp": bench.MLP, "long": bench.LONG, "conv": bench.CONV}
"""The models on offer; add one as a bench.Workload."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        action="append",
        choices=[*WORKLOADS, "all"],
        help="model to time; repeat the flag for several, or 'all' (default: mlp)",
    )
    parser.add_argument("--rounds", type=int, default=15, help="timing rounds (default 15)")
    parser.add_argument(
        "--steps", type=int, default=50, help="steps per loop per round (default 50)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first (default 20)")
    parser.add_argument("--batch-size", type=int, help="override the model's batch size")
    parser.add_argument(
        "--n-train", type=int, default=60000, help="the first N MNIST images (default 60000)"
    )
    parser.add_argument(
        "--no-fast", dest="fast", action="store_false", help="leave out compile and bf16"
    )
    parser.add_argument("--trace", action="store_true", help="profile plain vl.fit's step")
    parser.add_argument(
        "--break-even", action="store_true", help="measure compile=True's cost and break-even"
    )
    args = parser.parse_args(argv)
    for name in ("rounds", "steps", "warmup", "n_train"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: the intervals pair rounds")
    if args.batch_size is not None and args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    models = args.model or ["mlp"]
    args.model = list(WORKLOADS) if "all" in models else list(dict.fromkeys(models))
    return args


def run(name: str, args: argparse.Namespace, device: torch.device) -> bench.Ladder:
    """Time one model's ladder and print it (and its trace, break-even); return it."""
    workload = WORKLOADS[name]
    if args.batch_size is not None:
        workload = workload.at_batch(args.batch_size)
    print(f"\n[{name}]")
    sizes = dict(rounds=args.rounds, steps=args.steps, warmup=args.warmup)
    found = bench.ladder(workload, device=device, fast=args.fast, n_train=args.n_train, **sizes)
    print(found)
    if args.trace:
        loop = bench.fit_loop(workload, device, n_train=args.n_train, warmup=args.warmup)
        print(bench.trace(loop, device, steps=args.steps, plain=found.seconds("vl.fit")))
    if args.break_even:
        print(bench.BREAK_EVEN_HEADER)
        print(bench.break_even(workload, device=device))
    return found


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the chosen models, end with the headline speedup."""
    args = parse_args(argv)
    device = get_device()
    print(f"python {sys.version.split()[0]}; device {device}")
    ladders = [run(name, args, device) for name in args.model]
    first = ladders[0]
    print(
        f"\nvl.fit: {first.fraction_of_peak('vl.fit'):.2f} of the {first.dtypes['vl.fit']} "
        f"peak, median step {1e3 * first.seconds('vl.fit'):.3f} ms"
    )
    print(ladders[0].headline())


if __name__ == "__main__":
    main()
