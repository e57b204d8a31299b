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

The hardware's limit is measured in the same run: the FLOP rate of a large
float32 matrix product on the device. For a model made only of linear layers
the script counts the FLOPs of one training step from the layer shapes
(forward and backward) and prints the rate the vae_lib way achieves as
``fraction of matmul peak: 0.NN``.

Besides plain ``vl.fit``, each benchmark times the faster paths that fit
offers (``compile=True``, ``bf16=True`` where the device has bf16 units; for
the conv model also channels-last memory), each from the same weights, one
line each (``--no-variants`` skips them).

The last line of the output is ``speedup: N.Nx`` (vae_lib samples/s divided
by seed samples/s, for the "mlp" benchmark, plain ``vl.fit``); each benchmark
also prints its own ``speedup (<name>): N.Nx`` line. Another model is added by
registering it in ``BENCHMARKS``.

Usage:  .venv/bin/python benchmarks/bench_training.py [--help]   (a thin wrapper)
From Python (the results chapter does this): ``vae_lib.bench.measure(...)``.
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

from . import accel
from .checks import checks
from .data import MNIST, load_mnist, write_torchvision_raw
from .device import get_device, seed_everything
from .losses import bernoulli_vae_loss, kl_standard_normal
from .models import MLPVAE, ConvVAE
from .train import fit

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
    channels_last: bool = False
    """Also time the model and its batches in channels-last memory order."""


def conv_post_loss(model, x, y=None, w=0.00025):
    """Post 001's loss on grey-level (B, 1, 28, 28) batches: pad to 32, scale to [-1, 1],
    per-pixel mean squared error + w * KL (what chapter 3 trains)."""
    x = torch.nn.functional.pad(x, (2, 2, 2, 2)) * 2 - 1
    x_hat, mu, logvar = model(x)
    mse = torch.nn.functional.mse_loss(x_hat, x)
    return {"loss": mse + w * kl_standard_normal(mu, logvar).mean(), "mse": mse}


BENCHMARKS: dict[str, Benchmark] = {
    "mlp": Benchmark(
        make_model=lambda: MLPVAE(z_dim=10, hidden=(256,)),
        loss_fn=bernoulli_vae_loss,
        description="MLPVAE(z_dim=10, hidden=(256,)), Bernoulli decoder, grey-level targets",
    ),
    "conv": Benchmark(
        make_model=lambda: ConvVAE(widths=(16, 32, 64, 128, 256), z_dim=128),
        loss_fn=conv_post_loss,
        description="chapter 3's ConvVAE(widths=(16, 32, 64, 128, 256), z_dim=128), "
        "pad to 32x32, [-1, 1], mean MSE + 0.00025 KL",
        loss_unit="(post 001's loss: per-pixel MSE + 0.00025 KL)",
        channels_last=True,
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


def vae_lib_way(model, loss_fn, x_train, epochs: int, batch_size: int, **options) -> float:
    """Train with vae_lib.fit on a device tensor; return the mean loss of the last epoch.

    options: fit's speed options (compile, bf16).
    """
    history = fit(
        model,
        loss_fn,
        x_train,
        epochs=epochs,
        batch_size=batch_size,
        lr=LR,
        progress=False,
        **options,
    )
    return history.train["loss"][-1]


def channels_last_loss(loss_fn: Callable[..., dict]) -> Callable[..., dict]:
    """loss_fn with each batch converted to channels-last memory order first."""

    def loss(model, x, y=None):
        return loss_fn(model, x.contiguous(memory_format=torch.channels_last), y)

    return loss


def variants(bench: Benchmark, device: torch.device) -> dict:
    """{label: (fit options, channels_last)} for the faster paths worth timing here."""
    found = {"compile": (dict(compile=True), False)}
    if accel.bf16_supported(device):
        found["bf16"] = (dict(bf16=True), False)
        found["compile + bf16"] = (dict(compile=True, bf16=True), False)
    if bench.channels_last:
        found["channels-last"] = ({}, True)
        if accel.bf16_supported(device):
            found["channels-last + bf16"] = (dict(bf16=True), True)
    return found


def matmul_peak(device: torch.device, size: int = 2048, repeat: int = 10) -> float:
    """FLOP/s of a size x size float32 matrix product on device (best of repeat)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)

    def product() -> float:
        a @ b
        return 0.0

    for _ in range(3):
        product()
    best = min(timed(product, device)[0] for _ in range(repeat))
    return 2 * size**3 / best


def step_flops(model: torch.nn.Module, batch_size: int) -> int | None:
    """FLOPs of one training step of a model made of nn.Linear layers, or None.

    Each linear layer costs 2*B*in*out FLOPs forward, as much again for the
    gradient of its weights and again for the gradient of its input, except
    the first layer, whose input (the data) needs no gradient. Biases,
    activations, the loss and the optimiser are left out (under 2% here).
    """
    layers = [m for m in model.modules() if len(list(m.children())) == 0]
    if not layers or not all(
        isinstance(m, (torch.nn.Linear, torch.nn.ReLU, torch.nn.Identity)) for m in layers
    ):
        return None
    linears = [m for m in layers if isinstance(m, torch.nn.Linear)]
    total = 0
    for i, layer in enumerate(linears):
        forward = 2 * batch_size * layer.in_features * layer.out_features
        total += forward * (2 if i == 0 else 3)
    return total


def step_matmul_seconds(
    model: torch.nn.Module, batch_size: int, device: torch.device
) -> float | None:
    """Seconds that one training step's matrix products alone take, or None.

    For a model made of nn.Linear layers: the products that ``step_flops``
    counts (forward, gradient of the weights, gradient of the input), at their
    real shapes, on random data, back to back; no bias, activation, loss or
    optimiser. Best of 5 runs of 50 steps' products. ``step_flops`` divided by
    this is the fastest any training step of that model at that batch size
    could run on this device's matrix-product library: a ceiling for the
    fraction of the peak.
    """
    flops = step_flops(model, batch_size)
    if flops is None:
        return None
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    products = []
    for i, layer in enumerate(linears):
        n_in, n_out = layer.in_features, layer.out_features
        x = torch.randn(batch_size, n_in, device=device)
        w = torch.randn(n_out, n_in, device=device)
        g = torch.randn(batch_size, n_out, device=device)
        products.append((x, w.t()))  # forward
        products.append((g.t(), x))  # gradient of the weights
        if i > 0:
            products.append((g, w))  # gradient of the input

    def run(repeat: int = 50) -> float:
        for _ in range(repeat):
            for a, b in products:
                a @ b
        return 0.0

    run(5)
    best = min(timed(run, device)[0] for _ in range(5))
    return best / 50


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


def torchvision_dataset(data: MNIST, root: str) -> torchvision.datasets.MNIST:
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


def run_benchmark(name: str, args, data: MNIST, dataset, device: torch.device, peak: float) -> dict:
    """Time both ways for one registered model; print the figures; return them.

    Returns {"name", "labels": {way: description}, "samples_per_s": {way:
    rate}, "speedup": {way: ratio to the seed way}, "fraction_of_peak": {way:
    share} or None, "step_mflop"}; the ways are "seed", "vae_lib" (plain
    vl.fit) and "vae_lib <variant>"; "ceiling": the share of the peak the
    step's matrix products alone reach (``step_matmul_seconds``), or None.
    """
    bench = BENCHMARKS[name]
    print(
        f"\n[{name}] {bench.description}; batch {args.batch_size}, Adam {LR:g}, "
        f"{args.epochs} epoch(s), {args.repeat} repeat(s)"
    )
    x_train = data.x_train.to(device)
    seed_everything(SEED)
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
    labels = {
        "seed": "seed way (torchvision + ToTensor + DataLoader, loss.item() per step)",
        "vae_lib": "vae_lib way (vl.fit on a device tensor)",
    }
    for label, (options, last) in (variants(bench, device) if args.variants else {}).items():

        def variant_run(options=options, last=last) -> float:
            model = copy.deepcopy(initial)
            loss_fn = bench.loss_fn
            if last:
                model = model.to(memory_format=torch.channels_last)
                loss_fn = channels_last_loss(loss_fn)
            return vae_lib_way(model, loss_fn, x_train, args.epochs, args.batch_size, **options)

        runs[f"vae_lib {label}"] = (variant_run, [])
        labels[f"vae_lib {label}"] = f"vae_lib way, {label}"
        if options.get("compile"):
            # Compilation is a one-off cost per model and shape: pay it on a
            # few batches first (and on the size of the last, partial batch),
            # so that the timed runs measure training, and report it.
            warm = x_train[: 4 * args.batch_size + len(x_train) % args.batch_size]
            seconds, _ = timed(
                lambda o=options, w=warm: vae_lib_way(
                    copy.deepcopy(initial), bench.loss_fn, w, 1, args.batch_size, **o
                ),
                device,
            )
            print(f"  {label}: compiling took {seconds:.1f} s (before timing, not counted)")
    for r in range(args.repeat):
        # Alternate which way goes first, so that neither always runs second.
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for way in order:
            run, results = runs[way]
            seed_everything(SEED + 1 + r)  # same shuffling seed for both ways
            seconds, loss = timed(run, device)
            results.append((seconds, loss))
            if args.repeat > 1:
                print(f"  repeat {r + 1}/{args.repeat}: {way} way {seconds:.3f} s")

    samples = args.epochs * len(data.x_train)
    rates = {}
    for way, (_run, results) in runs.items():
        seconds = statistics.median(s for s, _ in results)
        rates[way] = samples / seconds
        print(
            f"  {labels[way]}: {seconds:.3f} s, {rates[way]:.1f} samples/s, "
            f"last-epoch loss {results[-1][1]:.3f} {bench.loss_unit}"
        )
    for way in runs:
        if way.startswith("vae_lib "):
            print(f"  speedup over the seed way, {labels[way]}: {rates[way] / rates['seed']:.1f}x")
    flops = step_flops(initial, args.batch_size)
    if flops is not None:
        step_rate = flops * rates["vae_lib"] / args.batch_size
        print(
            f"  training step: {flops / 1e6:.1f} MFLOP per batch of {args.batch_size} "
            f"(linear layers, forward and backward); vl.fit reaches "
            f"{step_rate / 1e9:.1f} GFLOP/s"
        )
        for way in runs:
            if way.startswith("vae_lib "):
                rate = flops * rates[way] / args.batch_size / peak
                print(f"  fraction of matmul peak, {labels[way]}: {rate:.2f}")
        ceiling = flops / step_matmul_seconds(initial, args.batch_size, device) / peak
        print(
            f"  ceiling: the step's own matrix products alone, at their shapes, "
            f"reach {ceiling:.2f} of the peak"
        )
        print(f"fraction of matmul peak: {step_rate / peak:.2f}")
    speedup = rates["vae_lib"] / rates["seed"]
    print(f"speedup ({name}): {speedup:.1f}x")
    return {
        "name": name,
        "labels": labels,
        "samples_per_s": rates,
        "speedup": {way: rates[way] / rates["seed"] for way in rates},
        "fraction_of_peak": (
            {way: flops * rates[way] / args.batch_size / peak for way in rates}
            if flops is not None
            else None
        ),
        "step_mflop": None if flops is None else flops / 1e6,
        "ceiling": None if flops is None else ceiling,
    }


def print_environment(device: torch.device, args, data: MNIST) -> None:
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


def measure(argv=None) -> dict:
    """Run the benchmarks that the command-line options ``argv`` select; print and return.

    argv: a list of options as on the command line (see --help), e.g.
    ``["--model", "all", "--n-train", "10000"]``. Returns {"device",
    "peak_gflops", "results": {name: run_benchmark's dict}}.
    """
    args = parse_args(argv)
    device = get_device()
    data = load_mnist(n_train=args.n_train, n_test=1000, download=False)  # on the CPU
    print_environment(device, args, data)
    peak = matmul_peak(device)
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s (2048 x 2048 float32 product, best of 10)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="vae_bench_") as root:
        dataset = torchvision_dataset(data, root)
        for name in args.model:
            results[name] = run_benchmark(name, args, data, dataset, device, peak)
    headline = HEADLINE if HEADLINE in results else args.model[0]
    print(f"speedup: {results[headline]['speedup']['vae_lib']:.1f}x")
    return {"device": str(device), "peak_gflops": peak / 1e9, "results": results}


def main(argv=None) -> None:
    measure(argv)
