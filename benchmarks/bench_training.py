"""How much faster is vae_lib.fit than the classic DataLoader training loop?

Trains the same VAE for the same number of epochs two ways, in one run, from
the same initial weights, and reports samples per second for each:

1. the seed way, as the blog posts the book started from do it:
   ``torchvision.datasets.MNIST`` with a per-sample ``transforms.ToTensor()``,
   a ``DataLoader(batch_size=64, shuffle=True)``, each batch moved to the
   device, and ``loss.item()`` read every step (summed into a Python float);
2. the vae_lib way: ``vae_lib.fit`` on a tensor that is already on the device.

Offline: the images come from ``vae_lib.load_mnist()`` and are written in
torchvision's raw file format into a temporary folder, which
``torchvision.datasets.MNIST(download=False)`` then reads like a downloaded
copy. Both ways minimise the same loss on grey-level targets, so only the
input pipeline and the host syncs differ.

The last line of the output is ``speedup: N.Nx`` (vae_lib samples/s divided
by seed samples/s, for the "mlp" benchmark); each benchmark also prints its
own ``speedup (<name>): N.Nx`` line. Another model is added by registering it
in ``BENCHMARKS``.

Usage:  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_training.py [--help]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torchvision
from torchvision import transforms

import vae_lib as vl
from vae_lib.checks import checks
from vae_lib.data import write_torchvision_raw

LR = 1e-3  # Adam's learning rate in both ways, as in the source blog posts
SEED = 0


@dataclass(frozen=True)
class Benchmark:
    """One model to benchmark: how to build it and the loss it minimises.

    make_model() -> a freshly initialised nn.Module (seeded by the caller).
    loss_fn(model, x, y) -> dict with a scalar "loss" (vae_lib's loss protocol).
    """

    make_model: Callable[[], torch.nn.Module]
    loss_fn: Callable[..., dict]
    description: str
    loss_unit: str = "nats per image"


def conv_post_loss(model, x, y=None, w=0.00025):
    """Post 001's loss on grey-level (B, 1, 28, 28) batches: pad to 32, scale to [-1, 1],
    per-pixel mean squared error + w * KL (what chapter 3 trains)."""
    x = torch.nn.functional.pad(x, (2, 2, 2, 2)) * 2 - 1
    x_hat, mu, logvar = model(x)
    mse = torch.nn.functional.mse_loss(x_hat, x)
    return {"loss": mse + w * vl.kl_standard_normal(mu, logvar).mean(), "mse": mse}


BENCHMARKS: dict[str, Benchmark] = {
    "mlp": Benchmark(
        make_model=lambda: vl.MLPVAE(z_dim=10, hidden=(256,)),
        loss_fn=vl.bernoulli_vae_loss,
        description="MLPVAE(z_dim=10, hidden=(256,)), Bernoulli decoder, grey-level targets",
    ),
    "conv": Benchmark(
        make_model=lambda: vl.ConvVAE(widths=(16, 32, 64, 128, 256), z_dim=128),
        loss_fn=conv_post_loss,
        description="chapter 3's ConvVAE(widths=(16, 32, 64, 128, 256), z_dim=128), "
        "pad to 32x32, [-1, 1], mean MSE + 0.00025 KL",
        loss_unit="(post 001's loss: per-pixel MSE + 0.00025 KL)",
    ),
}

HEADLINE = "mlp"
"""The benchmark whose speedup the final ``speedup:`` line repeats."""


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        action="append",
        choices=[*BENCHMARKS, "all"],
        help="benchmark to run; repeat the flag for several, or 'all' (default: mlp)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run (default 1)")
    parser.add_argument(
        "--n-train",
        type=int,
        default=60000,
        help="training images, the first N of MNIST (default: all 60000)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="DataLoader worker processes in the seed way (default 0, as in the seed)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed runs of each way; the median is reported (default 1)",
    )
    args = parser.parse_args(argv)
    for name in ("epochs", "n_train", "batch_size", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.workers < 0:
        parser.error("--workers must be at least 0")
    if not args.model:
        args.model = ["mlp"]
    if "all" in args.model:
        args.model = list(BENCHMARKS)
    args.model = list(dict.fromkeys(args.model))  # drop repeats, keep order
    return args


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so that a timer read afterwards is honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def seed_way(model, loss_fn, dataset, device, epochs: int, batch_size: int, workers: int) -> float:
    """Train the classic way; return the mean loss of the last epoch.

    torchvision dataset -> DataLoader(shuffle=True) -> .to(device) per batch,
    and loss.item() every step, as in the source blog posts.
    """
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=workers
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    for _ in range(epochs):
        train_loss = 0.0
        for x, _labels in loader:
            x = x.to(device)
            # The same loss as the vae_lib way; its optional [0, 1] range check
            # is off here, as it is in fit after the first batch.
            with checks(False):
                loss = loss_fn(model, x, None)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * len(x)
    return train_loss / len(dataset)


def vae_lib_way(model, loss_fn, x_train, epochs: int, batch_size: int) -> float:
    """Train with vae_lib.fit on a device tensor; return the mean loss of the last epoch."""
    history = vl.fit(
        model, loss_fn, x_train, epochs=epochs, batch_size=batch_size, lr=LR, progress=False
    )
    return history.train["loss"][-1]


def timed(run: Callable[[], float], device: torch.device) -> tuple[float, float]:
    """Call run() between two synchronised timer reads; return (seconds, its result)."""
    synchronize(device)
    started = time.perf_counter()
    result = run()
    synchronize(device)
    return time.perf_counter() - started, result


def warm_up(bench: Benchmark, device: torch.device, x: torch.Tensor, batch_size: int) -> None:
    """A few training steps of a throwaway model on one batch, used by neither way.

    Pays the one-off costs both ways share (CUDA context, kernel and library
    loading, the allocator) so that neither way pays them alone.
    """
    model = bench.make_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    xb = x[:batch_size].to(device)
    for _ in range(5):
        with checks(False):
            loss = bench.loss_fn(model, xb, None)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    synchronize(device)


def torchvision_dataset(data: vl.MNIST, root: str) -> torchvision.datasets.MNIST:
    """Write data in torchvision's raw format under root and read it back with torchvision.

    Checks that torchvision read exactly the images that were written.
    """
    write_torchvision_raw(data, root)
    dataset = torchvision.datasets.MNIST(
        root, train=True, download=False, transform=transforms.ToTensor()
    )
    expected = torch.round(data.x_train.cpu() * 255).to(torch.uint8).reshape(-1, 28, 28)
    if not torch.equal(dataset.data, expected):
        raise RuntimeError("torchvision did not read back the images that were written.")
    return dataset


def run_benchmark(name: str, args, data: vl.MNIST, dataset, device: torch.device) -> float:
    """Time both ways for one registered model; print the figures; return the speedup."""
    bench = BENCHMARKS[name]
    print(
        f"\n[{name}] {bench.description}; batch {args.batch_size}, Adam {LR:g}, "
        f"{args.epochs} epoch(s), {args.repeat} repeat(s)"
    )
    x_train = data.x_train.to(device)
    vl.seed_everything(SEED)
    initial = bench.make_model().to(device)
    warm_up(bench, device, x_train, args.batch_size)

    def seed_run() -> float:
        return seed_way(
            copy.deepcopy(initial),
            bench.loss_fn,
            dataset,
            device,
            args.epochs,
            args.batch_size,
            args.workers,
        )

    def lib_run() -> float:
        return vae_lib_way(
            copy.deepcopy(initial), bench.loss_fn, x_train, args.epochs, args.batch_size
        )

    runs = {"seed": (seed_run, []), "vae_lib": (lib_run, [])}
    for r in range(args.repeat):
        # Alternate which way goes first, so that neither always runs second.
        order = ["seed", "vae_lib"] if r % 2 == 0 else ["vae_lib", "seed"]
        for way in order:
            run, results = runs[way]
            vl.seed_everything(SEED + 1 + r)  # same shuffling seed for both ways
            seconds, loss = timed(run, device)
            results.append((seconds, loss))
            if args.repeat > 1:
                print(f"  repeat {r + 1}/{args.repeat}: {way} way {seconds:.3f} s")

    samples = args.epochs * len(data.x_train)
    rates = {}
    labels = {
        "seed": "seed way (torchvision + ToTensor + DataLoader, loss.item() per step)",
        "vae_lib": "vae_lib way (vl.fit on a device tensor)",
    }
    for way, (_run, results) in runs.items():
        seconds = statistics.median(s for s, _ in results)
        rates[way] = samples / seconds
        print(
            f"  {labels[way]}: {seconds:.3f} s, {rates[way]:.1f} samples/s, "
            f"last-epoch loss {results[-1][1]:.3f} {bench.loss_unit}"
        )
    speedup = rates["vae_lib"] / rates["seed"]
    print(f"speedup ({name}): {speedup:.1f}x")
    return speedup


def print_environment(device: torch.device, args, data: vl.MNIST) -> None:
    """Device, versions, threads and data: what the figures depend on."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    print(f"device: {device}{f' ({name})' if name else ''}")
    print(
        f"torch: {torch.__version__}, torchvision: {torchvision.__version__}, "
        f"python: {sys.version.split()[0]}"
    )
    print(
        f"threads: torch {torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} "
        f"inter-op; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
        f"{os.cpu_count()} CPUs; DataLoader workers {args.workers}"
    )
    print(f"data: {len(data.x_train)} training images from {data.source}")


def main(argv=None) -> None:
    args = parse_args(argv)
    device = vl.get_device()
    data = vl.load_mnist(n_train=args.n_train, n_test=1000, download=False)  # on the CPU
    print_environment(device, args, data)
    speedups = {}
    with tempfile.TemporaryDirectory(prefix="vae_bench_") as root:
        dataset = torchvision_dataset(data, root)
        for name in args.model:
            speedups[name] = run_benchmark(name, args, data, dataset, device)
    headline = HEADLINE if HEADLINE in speedups else args.model[0]
    print(f"speedup: {speedups[headline]:.1f}x")


if __name__ == "__main__":
    main()
