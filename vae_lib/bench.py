"""Timing functions of the results chapter: how fast does training run here?

``measure`` trains the same model for the same epochs two ways, from the same
initial weights, and returns a ``BenchReport``:

1. the seed way, as the blog posts the book started from do it:
   ``torchvision.datasets.MNIST`` with a per-image ``transforms.ToTensor()``,
   a ``DataLoader(shuffle=True)``, each batch moved to the device and
   ``loss.item()`` read every step;
2. the fit way: ``vae_lib.fit`` on a tensor already on the device, plain and,
   with ``variants=True``, through its faster paths (compile, bf16,
   channels-last).

The images come from ``load_mnist`` and are written in torchvision's raw
format into a temporary folder, so the seed way runs offline too. Both ways
minimise the same loss: only the input pipeline and the host syncs differ.

The hardware's limit comes from the same module: ``matmul_peak`` (FLOP/s of a
large float32 matrix product), ``step_flops`` (FLOPs of one training step of a
model made of linear layers) and ``step_matmul_seconds`` (that step's matrix
products alone). The command line, with its printout and its list of models,
is ``benchmarks/bench_training.py``.
"""

from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from functools import partial
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
SEED_WAY = "seed"
FIT_WAY = "fit"


# ------------------------------------------------------------------ what to time
@dataclass(frozen=True)
class Workload:
    """A model to time and the loss it minimises.

    make_model() -> a freshly initialised nn.Module (``measure`` seeds it).
    loss_fn(model, x, y) -> dict with a scalar "loss" (vae_lib's loss protocol).
    channels_last: also time the model and its batches in channels-last order.
    """

    make_model: Callable[[], torch.nn.Module]
    loss_fn: Callable[..., dict]
    channels_last: bool = False


def conv_post_loss(model, x, y=None, w=0.00025) -> dict:
    """Chapter 3's ``post_loss`` on grey-level (B, 1, 28, 28) batches.

    Chapter 3 pads its images to 32x32 and scales them to [-1, 1] once, in its
    data preparation, then minimises post 001's loss: the per-pixel mean
    squared error + w * KL (w = 0.00025, its ``W_POST``). The benchmark hands
    fit the 28x28 images in [0, 1], so this loss does that preparation per
    batch, then applies the same formula: keep it in step with chapter 3's.
    """
    x = torch.nn.functional.pad(x, (2, 2, 2, 2)) * 2 - 1
    x_hat, mu, logvar = model(x)
    mse = torch.nn.functional.mse_loss(x_hat, x)
    return {"loss": mse + w * kl_standard_normal(mu, logvar).mean(), "mse": mse}


MLP = Workload(lambda: MLPVAE(z_dim=10, hidden=(256,)), bernoulli_vae_loss)
"""MLPVAE(z_dim=10, hidden=(256,)), Bernoulli decoder on grey-level targets."""

CONV = Workload(
    lambda: ConvVAE(widths=(16, 32, 64, 128, 256), z_dim=128),
    conv_post_loss,
    channels_last=True,
)
"""Chapter 3's ConvVAE with post 001's loss (``conv_post_loss``)."""


# ---------------------------------------------------------- timers and FLOP counts
def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so that a timer read afterwards is honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(run: Callable[[], float], device: torch.device) -> tuple[float, float]:
    """Call run() between two synchronised timer reads; return (seconds, its result)."""
    synchronize(device)
    started = time.perf_counter()
    result = run()
    synchronize(device)
    return time.perf_counter() - started, result


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


def _linear_layers(model: torch.nn.Module) -> list[torch.nn.Linear] | None:
    """The nn.Linear layers of a model made only of Linear, ReLU and Identity, or None."""
    layers = [m for m in model.modules() if len(list(m.children())) == 0]
    allowed = (torch.nn.Linear, torch.nn.ReLU, torch.nn.Identity)
    if not layers or not all(isinstance(m, allowed) for m in layers):
        return None
    return [m for m in layers if isinstance(m, torch.nn.Linear)]


def step_flops(model: torch.nn.Module, batch_size: int) -> int | None:
    """FLOPs of one training step of a model made of nn.Linear layers, or None.

    Each linear layer costs 2*B*in*out FLOPs forward, as much again for the
    gradient of its weights and again for the gradient of its input, except
    the first layer, whose input (the data) needs no gradient. Biases,
    activations, the loss and the optimiser are left out (under 2% here).
    """
    linears = _linear_layers(model)
    if linears is None:
        return None
    return sum(
        2 * batch_size * layer.in_features * layer.out_features * (2 if i == 0 else 3)
        for i, layer in enumerate(linears)
    )


def _step_products(model: torch.nn.Module, batch_size: int, device: torch.device) -> list:
    """[(a, b)]: random operands of every product that ``step_flops`` counts."""
    products = []
    for i, layer in enumerate(_linear_layers(model)):
        n_in, n_out = layer.in_features, layer.out_features
        x = torch.randn(batch_size, n_in, device=device)
        w = torch.randn(n_out, n_in, device=device)
        g = torch.randn(batch_size, n_out, device=device)
        products.append((x, w.t()))  # forward
        products.append((g.t(), x))  # gradient of the weights
        if i > 0:
            products.append((g, w))  # gradient of the input
    return products


def step_matmul_seconds(
    model: torch.nn.Module, batch_size: int, device: torch.device
) -> float | None:
    """Seconds that one training step's matrix products alone take, or None.

    For a model made of nn.Linear layers: the products that ``step_flops``
    counts, at their real shapes, on random data, back to back; no bias,
    activation, loss or optimiser. Best of 5 runs of 50 steps' products.
    ``step_flops`` divided by this is the fastest any training step of that
    model at that batch size could run on this device's matrix-product
    library: a ceiling for the fraction of the peak.
    """
    if step_flops(model, batch_size) is None:
        return None
    products = _step_products(model, batch_size, device)

    def run(steps: int = 50) -> float:
        for _ in range(steps):
            for a, b in products:
                a @ b
        return 0.0

    run(5)
    return min(timed(run, device)[0] for _ in range(5)) / 50


def environment(device: torch.device) -> str:
    """One line: the device, versions and threads that the figures depend on."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    return (
        f"{device}{f' ({name})' if name else ''}; torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}; "
        f"{torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs"
    )


# ------------------------------------------------------------------ the two ways
def seed_way(
    initial: torch.nn.Module, loss_fn, dataset, device, *, epochs, batch_size, workers
) -> float:
    """Train a copy of initial the classic way; return the last epoch's mean loss.

    torchvision dataset -> DataLoader(shuffle=True) -> .to(device) per batch,
    and loss.item() every step, as in the source blog posts.
    """
    model = copy.deepcopy(initial).train()
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=workers
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    for _ in range(epochs):
        train_loss = 0.0
        for x, _labels in loader:
            x = x.to(device)
            with checks(False):  # fit, too, checks the range of the first batch only
                loss = loss_fn(model, x, None)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * len(x)
    return train_loss / len(dataset)


def channels_last_loss(loss_fn: Callable[..., dict]) -> Callable[..., dict]:
    """loss_fn with each batch converted to channels-last memory order first."""

    def loss(model, x, y=None):
        return loss_fn(model, x.contiguous(memory_format=torch.channels_last), y)

    return loss


def fit_way(
    initial: torch.nn.Module, loss_fn, x_train, *, epochs, batch_size, channels_last=False, **fast
) -> float:
    """Train a copy of initial with vae_lib.fit; return the last epoch's mean loss.

    x_train: a tensor on the device. channels_last: the model and each batch
    in channels-last memory order. fast: fit's speed options (compile, bf16).
    """
    model = copy.deepcopy(initial)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        loss_fn = channels_last_loss(loss_fn)
    history = fit(
        model, loss_fn, x_train, epochs=epochs, batch_size=batch_size, lr=LR, progress=False, **fast
    )
    return history.train["loss"][-1]


def fit_options(workload: Workload, device: torch.device, variants: bool = True) -> dict:
    """{way: fit_way's options}: plain fit and, with variants, its faster paths here."""
    found = {FIT_WAY: {}}
    if not variants:
        return found
    bf16 = accel.bf16_supported(device)
    found[f"{FIT_WAY}, compile"] = {"compile": True}
    if bf16:
        found[f"{FIT_WAY}, bf16"] = {"bf16": True}
        found[f"{FIT_WAY}, compile + bf16"] = {"compile": True, "bf16": True}
    if workload.channels_last:
        found[f"{FIT_WAY}, channels-last"] = {"channels_last": True}
        if bf16:
            found[f"{FIT_WAY}, channels-last + bf16"] = {"channels_last": True, "bf16": True}
    return found


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


# --------------------------------------------------------------- warm-up and timing
def warm_up(workload: Workload, x: torch.Tensor, batch_size: int, device) -> None:
    """Five training steps of a throwaway model on one batch, used by neither way.

    Pays the one-off costs both ways share (CUDA context, kernel and library
    loading, the allocator) so that neither way pays them alone.
    """
    model = workload.make_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    xb = x[:batch_size].to(device)
    for _ in range(5):
        with checks(False):
            loss = workload.loss_fn(model, xb, None)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    synchronize(device)


def compile_seconds(train: Callable[..., float], x_train, batch_size, device) -> float:
    """Seconds that one epoch of train(x) takes on a few batches, to compile before timing.

    Compilation is a one-off cost per model and shape: four batches and one of
    the size of the last, partial batch pay it, so the timed runs measure training.
    """
    warm = x_train[: 4 * batch_size + len(x_train) % batch_size]
    return timed(partial(train, x_train=warm, epochs=1), device)[0]


def time_ways(runs: dict, repeat: int, device: torch.device) -> dict:
    """{way: [(seconds, last-epoch loss)] per timed run}, for runs {way: run()}.

    The order of the ways alternates between repeats, so that none always
    runs last; every way of one repeat shuffles with the same seed.
    """
    results = {way: [] for way in runs}
    for r in range(repeat):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for way in order:
            seed_everything(SEED + 1 + r)
            results[way].append(timed(runs[way], device))
    return results


# --------------------------------------------------------------------- the report
@dataclass(frozen=True)
class Timing:
    """One way's timed runs.

    seconds: each timed run's wall time, in order. loss: the last run's
    last-epoch mean loss, in the workload's loss unit. samples_per_s: images
    trained per second at the median time. compile_s: seconds spent compiling
    before timing (not counted), or None.
    """

    seconds: tuple[float, ...]
    loss: float
    samples_per_s: float
    compile_s: float | None = None


@dataclass(frozen=True)
class BenchReport:
    """What ``measure`` found.

    timings: {way: Timing}, the ways "seed", "fit" and "fit, <variant>".
    peak_flops: FLOP/s of a 2048 x 2048 float32 matrix product, same run.
    step_flops: FLOPs of one training step (linear models only, else None).
    ceiling: share of the peak that the step's matrix products alone reach, or None.
    """

    environment: str
    device: str
    n_train: int
    epochs: int
    batch_size: int
    peak_flops: float
    timings: dict[str, Timing]
    step_flops: int | None = None
    ceiling: float | None = None

    def speedup(self, way: str = FIT_WAY) -> float:
        """The way's samples/s divided by the seed way's."""
        return self.timings[way].samples_per_s / self.timings[SEED_WAY].samples_per_s

    def fraction_of_peak(self, way: str = FIT_WAY) -> float | None:
        """The share of the matmul peak the way's training steps reach, or None."""
        if self.step_flops is None:
            return None
        steps_per_s = self.timings[way].samples_per_s / self.batch_size
        return self.step_flops * steps_per_s / self.peak_flops

    def __str__(self) -> str:
        repeat = len(self.timings[SEED_WAY].seconds)
        lines = [
            self.environment,
            f"{self.n_train} images, batch {self.batch_size}, {self.epochs} epoch(s), "
            f"median of {repeat}; matmul peak {self.peak_flops / 1e9:.1f} GFLOP/s",
        ]
        if self.step_flops is not None:
            lines.append(
                f"step: {self.step_flops / 1e6:.1f} MFLOP; its matrix products alone "
                f"reach {self.ceiling:.2f} of the peak"
            )
        lines.append(
            f"{'way':27s}{'s':>7s}{'samples/s':>11s}{'speedup':>9s}{'of peak':>8s}{'loss':>10s}"
        )
        lines += [self._row(way) for way in self.timings]
        compiled = [f"{way} {t.compile_s:.1f} s" for way, t in self.timings.items() if t.compile_s]
        if compiled:
            lines.append("compiling, before timing: " + ", ".join(compiled))
        return "\n".join(lines)

    def _row(self, way: str) -> str:
        """One way's line: median seconds, samples/s, speedup, share of the peak, loss."""
        t = self.timings[way]
        share = self.fraction_of_peak(way)
        share = "-" if share is None else f"{share:.2f}"
        return (
            f"{way:27s}{statistics.median(t.seconds):7.3f}{t.samples_per_s:11,.0f}"
            f"{self.speedup(way):8.1f}x{share:>8s}{t.loss:10.3f}"
        )


def _timing(results: list, samples: int, compile_s: float | None) -> Timing:
    """A Timing from [(seconds, loss)] runs that each trained on `samples` images."""
    seconds = tuple(s for s, _ in results)
    return Timing(seconds, results[-1][1], samples / statistics.median(seconds), compile_s)


def _report(initial, results, compiled, device, peak, *, n_train, epochs, batch_size):
    """The BenchReport of time_ways' results; compiled: {way: compile seconds}."""
    timings = {
        way: _timing(runs, epochs * n_train, compiled.get(way)) for way, runs in results.items()
    }
    flops = step_flops(initial, batch_size)
    ceiling = None
    if flops is not None:
        ceiling = flops / step_matmul_seconds(initial, batch_size, device) / peak
    return BenchReport(
        environment(device), str(device), n_train, epochs, batch_size, peak, timings, flops, ceiling
    )


# ---------------------------------------------------------------------- measure
def _fit_runs(workload, initial, x_train, device, variants, *, epochs, batch_size):
    """({way: run() -> last-epoch loss} for fit's ways, {way: compile seconds}).

    The ways that compile are compiled here, before any timing.
    """
    size = dict(epochs=epochs, batch_size=batch_size)
    options = fit_options(workload, device, variants)
    runs = {
        way: partial(fit_way, initial, workload.loss_fn, x_train=x_train, **size, **fast)
        for way, fast in options.items()
    }
    compiled = {
        way: compile_seconds(runs[way], x_train, batch_size, device)
        for way, fast in options.items()
        if fast.get("compile")
    }
    return runs, compiled


def _check_positive(**sizes: int) -> None:
    """Raise ValueError for a size below 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def measure(
    workload: Workload = MLP,
    *,
    n_train: int = 60000,
    epochs: int = 1,
    batch_size: int = 64,
    repeat: int = 1,
    workers: int = 0,
    variants: bool = True,
    device: torch.device | str | None = None,
) -> BenchReport:
    """Time the seed way against vl.fit on workload, from the same initial weights.

    n_train: the first N MNIST training images. epochs: per timed run.
    repeat: timed runs of each way (the report gives the median). workers:
    the seed way's DataLoader processes. variants: also time fit's faster
    paths (``fit_options``). device: default ``get_device()``. Prints nothing.
    """
    _check_positive(n_train=n_train, epochs=epochs, batch_size=batch_size, repeat=repeat)
    device = get_device() if device is None else torch.device(device)
    data = load_mnist(n_train=n_train, n_test=1000, download=False)  # on the CPU
    x_train = data.x_train.to(device)
    peak = matmul_peak(device)
    seed_everything(SEED)
    initial = workload.make_model().to(device)
    warm_up(workload, x_train, batch_size, device)
    size = dict(epochs=epochs, batch_size=batch_size)
    fit_runs, compiled = _fit_runs(workload, initial, x_train, device, variants, **size)
    with tempfile.TemporaryDirectory(prefix="vae_bench_") as root:
        dataset = torchvision_dataset(data, root)
        seed_run = partial(
            seed_way, initial, workload.loss_fn, dataset, device, workers=workers, **size
        )
        results = time_ways({SEED_WAY: seed_run, **fit_runs}, repeat, device)
    return _report(initial, results, compiled, device, peak, n_train=n_train, **size)
