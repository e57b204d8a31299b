"""How fast does training run here, and why? The speed appendix's measurements.

``ladder`` trains one model from the same initial weights with a sequence of
training loops, each one change away from the loop before it:

1. ``posts' loop``: the source posts' loop. A torchvision MNIST data set with a
   per-image ``ToTensor``, a ``DataLoader(shuffle=True)``, each batch copied to
   the device, ``torch.optim.Adam`` with its default update (a loop over the
   parameters on a CPU) and ``loss.item()`` read every step;
2. ``TensorDataset``: the same loop over the images held as one tensor;
3. ``+ fused Adam``: Adam's update as one fused kernel (``accel.adam``);
4. ``- per-step .item()``: the loss summed on the device and read once a block;
5. ``vl.fit``: vae_lib's own epoch loop (``train._train_epoch``), batches drawn
   with ``randperm`` and ``index_select`` from a tensor on the device;
6. ``+ compile``, ``+ bf16`` and both: ``fit``'s faster paths.

Timing (``time_loops``): every loop first runs ``warmup`` steps, which pays
its one-off costs (compiling included). Then, in each of ``rounds`` rounds,
every loop trains a block of ``steps`` steps between two synchronised timer
reads, in an order that rotates from round to round. A loop's time per step is
the median over rounds, with its quartiles. The ratio of two loops is paired by
round, so that a slow spell of the machine, which hits both, cancels: a 95%
t-interval on the mean log ratio. Only training steps are timed: no progress
bar, no per-call set-up, no copy of the model.

Denominators: ``gemm_rate`` is the rate of a large matrix product in float32
and in bfloat16, measured in every round; a loop's share of the peak is its
FLOPs per second (``step_flops``, counted by torch's ``FlopCounterMode``)
over the peak of the precision its products run in. ``trace`` profiles the real
steps of a loop with ``torch.profiler`` and says where their time goes;
``break_even`` measures what ``compile=True`` costs and how many epochs repay it.
The command line is ``benchmarks/bench_training.py``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode
from torchvision import transforms

from . import accel
from . import train as _train
from .checks import checks
from .data import MNIST, binarize, load_mnist, write_torchvision_raw
from .device import seed_everything
from .losses import bernoulli_vae_loss
from .models import MLPVAE, PaddedConvVAE
from .stats import paired

LR = 1e-3  # Adam's learning rate in every loop, as in the source posts
SEED = 0
MNIST_TRAIN = 60000  # images per epoch, for epochs from steps


# ------------------------------------------------------------------ what to time
@dataclass(frozen=True)
class Workload:
    """A model, its loss and its batches: what every loop trains.

    make_model() -> a freshly initialised nn.Module (the caller seeds it).
    loss_fn(model, x, y) -> dict with a scalar "loss" (vae_lib's loss protocol).
    transform: applied to each batch on the device (``binarize``), or None.
    batch_size: images per step.
    """

    name: str
    make_model: Callable[[], torch.nn.Module]
    batch_size: int
    loss_fn: Callable[..., dict] = bernoulli_vae_loss
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None

    def at_batch(self, batch_size: int) -> Workload:
        """The same workload at another batch size."""
        return Workload(self.name, self.make_model, batch_size, self.loss_fn, self.transform)


MLP = Workload("MLP 784-256-10", lambda: MLPVAE(z_dim=10, hidden=(256,)), 64)
"""Chapter 1's MLP VAE at batch 64: Bernoulli decoder, grey-level targets."""

LONG = Workload(
    "MLP 784-200-200-50", lambda: MLPVAE(z_dim=50, hidden=(200, 200)), 128, transform=binarize
)
"""Chapter 7's long run: 784-200-200-50 at batch 128 on binarised batches."""

CONV = Workload(
    "conv 8-16-32-64-128", lambda: PaddedConvVAE((8, 16, 32, 64, 128), 10), 128, transform=binarize
)
"""Chapter 3's convolutional VAE at batch 128 on binarised batches."""


# ---------------------------------------------------------- timers, peaks, FLOPs
def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so that a timer read afterwards is honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(run: Callable[[], object], device: torch.device) -> float:
    """Seconds that run() takes between two synchronised timer reads."""
    synchronize(device)
    started = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - started


def gemm_rate(device: torch.device, dtype: torch.dtype = torch.float32, repeat: int = 3) -> float:
    """FLOP/s of one large square matrix product in dtype on device (best of repeat).

    2048 x 2048 on a CPU, 8192 x 8192 on a GPU: large enough that the product
    runs at the rate its library reaches at best, the denominator of a share
    of the peak.
    """
    size = 8192 if device.type == "cuda" else 2048
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    timed(lambda: a @ b, device)  # the first call loads the kernel
    return 2 * size**3 / min(timed(lambda: a @ b, device) for _ in range(repeat))


def step_flops(workload: Workload, device: torch.device) -> int:
    """FLOPs of one training step of workload at its batch size (forward and backward).

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` on a real step: the
    matrix products and convolutions, two FLOPs per multiply-add; the
    elementwise work, the loss and the optimiser are not counted. The input
    images need no gradient, so the first layer's input gradient is not
    computed and not counted.
    """
    model = workload.make_model().to(device)
    x = torch.rand(workload.batch_size, 1, 28, 28, device=device)
    if workload.transform is not None:
        x = workload.transform(x)
    with FlopCounterMode(display=False) as counter, checks(False):
        workload.loss_fn(model, x, None)["loss"].backward()
    return counter.get_total_flops()


def environment(device: torch.device) -> list[str]:
    """Lines naming what the figures depend on: processor, threads, versions, load."""
    cpu, flags = platform.processor() or platform.machine(), None
    try:
        with open("/proc/cpuinfo") as info:
            fields = [line.split(":", 1) for line in info if ":" in line]
        names = [v.strip() for k, v in fields if k.strip() == "model name"]
        cpu = names[0] if names else cpu
        flag_lines = [v.split() for k, v in fields if k.strip() == "flags"]
        flags = set(flag_lines[0]) if flag_lines else None
    except OSError:
        pass
    if flags is None:
        bf16 = "bf16 instructions: unknown (no /proc/cpuinfo)"
    else:
        found = sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16"))
        bf16 = f"bf16 instructions: {', '.join(found) or 'none'}"
    lines = [
        f"CPU: {cpu}; {os.cpu_count()} logical CPUs; torch uses {torch.get_num_threads()} "
        f"thread(s); {bf16}"
    ]
    if device.type == "cuda":
        lines.append(f"GPU: {torch.cuda.get_device_name(device)}")
    lines.append(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    if hasattr(os, "getloadavg"):
        lines.append(f"load average over the last minute: {os.getloadavg()[0]:.2f}")
    return lines


# ------------------------------------------------------------------ the loops
class _NoBar:
    """The progress bar that fit's epoch loop updates, doing nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **kwargs) -> None:
        pass


class Loop:
    """A training loop that trains one model for any number of steps.

    prepare(steps) sets up a block of steps outside the timer; run() trains it.
    dtype: the precision of the loop's matrix products (its peak's).
    mean_loss: the mean training loss over the last block run (the loss's unit).
    """

    dtype = torch.float32
    mean_loss = math.nan

    def __init__(self, workload: Workload, initial: torch.nn.Module, device: torch.device):
        self.workload, self.device = workload, device
        self.model = copy.deepcopy(initial).to(device).train()
        self.steps = 0

    def prepare(self, steps: int) -> None:
        self.steps = steps

    def run(self) -> None:
        raise NotImplementedError


class DataLoaderLoop(Loop):
    """The posts' loop, or one of its first repairs.

    dataset: a torchvision MNIST (per-image ToTensor) or a TensorDataset.
    fused: Adam's fused update instead of torch's default. item: read
    loss.item() every step (else sum on the device, read once a block).
    """

    def __init__(self, workload, initial, device, dataset, *, fused=False, item=True, workers=0):
        super().__init__(workload, initial, device)
        self.loader = torch.utils.data.DataLoader(
            dataset, batch_size=workload.batch_size, shuffle=True, num_workers=workers,
            drop_last=True, persistent_workers=workers > 0,
        )  # fmt: skip
        self.batches = self._forever()
        params = list(self.model.parameters())
        self.optimizer = accel.adam(params, lr=LR) if fused else torch.optim.Adam(params, lr=LR)
        self.item = item

    def _forever(self):
        while True:
            for x, *_labels in self.loader:
                yield x

    def run(self) -> None:
        total = 0.0 if self.item else torch.zeros((), device=self.device)
        for _ in range(self.steps):
            x = next(self.batches).to(self.device)
            if self.workload.transform is not None:
                x = self.workload.transform(x)
            with checks(False):
                loss = self.workload.loss_fn(self.model, x, None)["loss"]
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total = total + (loss.item() if self.item else loss.detach())
        self.mean_loss = float(total) / self.steps


class FitLoop(Loop):
    """vl.fit's own epoch loop (``train._train_epoch``) on a block of batches.

    x_train: the training images, on the device. prepare(steps) draws
    steps * batch_size of them into one block (outside the timer); run()
    trains one epoch of fit's loop over that block: randperm, index_select,
    the step, the loss kept on the device and read every 50 steps.
    """

    def __init__(self, workload, initial, device, x_train, *, compile=False, bf16=False):
        super().__init__(workload, initial, device)
        self.x = x_train
        self.optimizer = accel.adam(self.model.parameters(), lr=LR)
        self.step_loss = _train._StepLoss(
            workload.loss_fn, workload.transform, device, bf16, compile
        )
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        self.block = x_train[:0]

    def prepare(self, steps: int) -> None:
        super().prepare(steps)
        picks = torch.randint(
            len(self.x), (steps * self.workload.batch_size,), device=self.x.device
        )
        self.block = self.x.index_select(0, picks)

    def run(self) -> None:
        terms = _train._train_epoch(
            self.model,
            self.optimizer,
            self.step_loss,
            self.block,
            None,
            self.workload.batch_size,
            _NoBar(),
            sync_every=50,
        )
        self.mean_loss = terms["loss"]


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


def ladder_loops(workload, initial, device, data: MNIST, folder: str, *, fast=True) -> dict:
    """{name: Loop}: the ladder's loops in order (see the module's docstring).

    fast: add fit's compile and bf16 paths (bf16 only where the device has bf16 units).
    """
    x_cpu = data.x_train.cpu()
    x_device = data.x_train.to(device)
    tensors = torch.utils.data.TensorDataset(x_cpu)
    common = (workload, initial, device)
    loops = {
        "posts' loop": DataLoaderLoop(*common, torchvision_dataset(data, folder)),
        "TensorDataset": DataLoaderLoop(*common, tensors),
        "+ fused Adam": DataLoaderLoop(*common, tensors, fused=True),
        "- per-step .item()": DataLoaderLoop(*common, tensors, fused=True, item=False),
        "vl.fit": FitLoop(*common, x_device),
    }
    if fast:
        loops["vl.fit, compile"] = FitLoop(*common, x_device, compile=True)
        if accel.bf16_supported(device):
            loops["vl.fit, bf16"] = FitLoop(*common, x_device, bf16=True)
            loops["vl.fit, compile + bf16"] = FitLoop(*common, x_device, compile=True, bf16=True)
    return loops


def fit_loop(
    workload: Workload, device, *, n_train: int = 10000, warmup: int = 20, **fast
) -> FitLoop:
    """A FitLoop on workload from seeded initial weights, warmed up and ready to time.

    fast: FitLoop's compile and bf16 options. The warm-up pays the one-off costs.
    """
    device = torch.device(device)
    x = load_mnist(n_train=n_train, n_test=1000, download=False).x_train.to(device)
    seed_everything(SEED)
    loop = FitLoop(workload, workload.make_model().to(device), device, x, **fast)
    loop.prepare(warmup)
    loop.run()
    return loop


# --------------------------------------------------------------------- timing
def time_loops(
    loops: dict, device: torch.device, *, steps: int, rounds: int, warmup: int, progress=None
) -> tuple[dict, dict]:
    """Time every loop in interleaved rounds (see the module's docstring).

    Returns ({name: [seconds per step, one per round]},
    {"float32": [FLOP/s, one per round], "bfloat16": [...]}): the peaks are
    measured at the start of every round, for the loops that use them.
    progress: a callable wrapping range(rounds) (a progress bar), or None.
    """
    for loop in loops.values():
        loop.prepare(warmup)
        loop.run()
    dtypes = {loop.dtype for loop in loops.values()}
    times = {name: [] for name in loops}
    peaks = {str(d).removeprefix("torch."): [] for d in dtypes}
    names = list(loops)
    for r in (progress or range)(rounds):
        for dtype in dtypes:
            peaks[str(dtype).removeprefix("torch.")].append(gemm_rate(device, dtype))
        for name in names[r % len(names) :] + names[: r % len(names)]:
            loops[name].prepare(steps)
            times[name].append(timed(loops[name].run, device) / steps)
    return times, peaks


@dataclass(frozen=True)
class Ratio:
    """How many times faster loop `fast` ran than loop `slow`, paired by round.

    factor: exp of the mean log ratio; lo, hi: its 95% interval; rounds: n.
    """

    factor: float
    lo: float
    hi: float
    rounds: int

    @classmethod
    def of(cls, slow: list, fast: list) -> Ratio:
        diff = paired([math.log(s) for s in slow], [math.log(f) for f in fast], over="rounds")
        return cls(math.exp(diff.mean), math.exp(diff.lo), math.exp(diff.hi), diff.n)

    def __str__(self) -> str:
        return f"{self.factor:.2f}x [{self.lo:.2f}, {self.hi:.2f}]"


def quartiles(values: list) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of values."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


@dataclass
class Ladder:
    """What ``ladder`` found for one workload.

    times: {loop: [seconds per step, one per round]}; dtypes: {loop: "float32"
    or "bfloat16"}; peaks: {dtype: [FLOP/s per round]}; flops: FLOPs per step;
    losses: {loop: mean training loss over its last block}, which should agree
    across loops, since all train the same model from the same weights.
    """

    workload: str
    batch_size: int
    environment: list
    times: dict
    dtypes: dict
    peaks: dict
    flops: int
    steps: int
    losses: dict = field(default_factory=dict)
    names: list = field(init=False)

    def __post_init__(self):
        self.names = list(self.times)

    def seconds(self, name: str) -> float:
        """The loop's median seconds per step."""
        return statistics.median(self.times[name])

    def samples_per_s(self, name: str) -> float:
        return self.batch_size / self.seconds(name)

    def peak(self, name: str) -> float:
        """The peak (FLOP/s) of the loop's precision: the best rate of the run."""
        return max(self.peaks[self.dtypes[name]])

    def fraction_of_peak(self, name: str) -> float:
        return self.flops / self.seconds(name) / self.peak(name)

    def ratio(self, fast: str, slow: str | None = None) -> Ratio:
        """fast's speed over slow's (default: the posts' loop), paired by round."""
        return Ratio.of(self.times[slow or self.names[0]], self.times[fast])

    def headline(self) -> str:
        """The bench command's last line: default vl.fit over the posts' loop."""
        r = self.ratio("vl.fit")
        return (
            f"speedup: {r.factor:.1f}x (95% interval [{r.lo:.2f}, {r.hi:.2f}], {r.rounds} "
            f"rounds): vl.fit over the posts' loop, {self.workload}, batch {self.batch_size}"
        )

    def __str__(self) -> str:
        rounds = len(self.times[self.names[0]])
        lines = [
            *self.environment,
            f"{self.workload}, batch {self.batch_size}: {self.flops / 1e6:.1f} MFLOP per step "
            f"(FlopCounterMode); {rounds} rounds of {self.steps} steps per loop",
            f"{'loop':23s}{'ms/step':>8s}{'IQR':>17s}{'img/s':>8s}"
            f"{'vs rung before':>20s}{'vs posts':>9s}",
        ]
        for i, name in enumerate(self.names):
            q1, q2, q3 = quartiles(self.times[name])
            step = "" if i == 0 else str(self.ratio(name, self._before(i)))
            lines.append(
                f"{name:23s}{1e3 * q2:8.3f}{f'[{1e3 * q1:.3f}, {1e3 * q3:.3f}]':>17s}"
                f"{self.samples_per_s(name):8,.0f}{step:>20s}{self.ratio(name).factor:8.2f}x"
            )
        lines.append(f"{'loop':23s}{'GFLOP/s':>8s}{'peak':>7s}{'of peak':>8s}{'loss':>9s}")
        for name in self.names:
            rate = self.flops / self.seconds(name)
            lines.append(
                f"{name:23s}{rate / 1e9:8.1f}{self.peak(name) / 1e9:7.0f}"
                f"{self.fraction_of_peak(name):8.2f}{self.losses.get(name, math.nan):9.2f}"
            )
        for dtype, rates in self.peaks.items():
            lines.append(
                f"peak: a large {dtype} matrix product, best {max(rates) / 1e9:.0f} GFLOP/s "
                f"(lowest round {min(rates) / 1e9:.0f})"
            )
        lines.append(
            "ms/step: median over rounds, IQR its quartiles; ratios: 95% intervals over\n"
            "rounds; peak: of the loop's precision, GFLOP/s; loss: mean over its last block"
        )
        return "\n".join(lines)

    def _before(self, i: int) -> str:
        """The rung that loop i changes: the one before, or plain vl.fit for fit's paths."""
        name = self.names[i]
        return "vl.fit" if name.startswith("vl.fit, ") else self.names[i - 1]


def ladder(
    workload: Workload = MLP,
    *,
    device: torch.device | str = "cpu",
    rounds: int = 15,
    steps: int = 50,
    warmup: int = 20,
    fast: bool = True,
    n_train: int = MNIST_TRAIN,
    progress=None,
) -> Ladder:
    """Time the ladder's loops on workload, from the same initial weights.

    rounds, steps, warmup: see ``time_loops``. fast: also time fit's compile
    and bf16 paths. n_train: the first N MNIST training images. Prints nothing.
    """
    _check_positive(rounds=rounds, steps=steps, warmup=warmup, n_train=n_train)
    if rounds < 2:
        raise ValueError("rounds must be at least 2: the intervals pair rounds.")
    device = torch.device(device)
    data = load_mnist(n_train=n_train, n_test=1000, download=False)
    seed_everything(SEED)
    initial = workload.make_model().to(device)
    with tempfile.TemporaryDirectory(prefix="vae_bench_") as folder:
        loops = ladder_loops(workload, initial, device, data, folder, fast=fast)
        times, peaks = time_loops(
            loops, device, steps=steps, rounds=rounds, warmup=warmup, progress=progress
        )
    dtypes = {name: str(loop.dtype).removeprefix("torch.") for name, loop in loops.items()}
    losses = {name: loop.mean_loss for name, loop in loops.items()}
    flops = step_flops(workload, device)
    return Ladder(
        workload.name,
        workload.batch_size,
        environment(device),
        times,
        dtypes,
        peaks,
        flops,
        steps,
        losses,
    )


def _check_positive(**sizes: int) -> None:
    """Raise ValueError for a size below 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


# ------------------------------------------------------------------- the trace
@dataclass(frozen=True)
class Trace:
    """Where a loop's steps spend their time, per step, in milliseconds.

    parts: [(what, ms per step)], summing to ``wall``, the profiled wall time
    per step (the profiler itself adds a little to each operation); plain:
    the same loop's median step time without the profiler.
    """

    parts: list
    wall: float
    plain: float

    def __str__(self) -> str:
        lines = [f"{'where the time goes':44s}{'ms/step':>8s}{'share':>7s}"]
        for what, ms in self.parts:
            lines.append(f"{what:44s}{ms:8.3f}{ms / self.wall:7.0%}")
        lines.append(f"{'profiled step, all of it':44s}{self.wall:8.3f}")
        lines.append(f"{'the same step without the profiler (median)':44s}{self.plain:8.3f}")
        return "\n".join(lines)


@contextlib.contextmanager
def _c_stderr_silenced():
    """Silence what C++ code writes to file descriptor 2 while the block runs.

    The profiler's C++ side writes a start and a stop notice there (and, on a
    machine without a GPU, that it found none); Python's exceptions are not
    affected.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


PRODUCTS = ("mm", "conv")  # aten::mm, addmm, bmm, mkldnn_convolution, convolution_backward
"""Substrings of the operators counted as matrix products and convolutions."""


def _category(name: str) -> str:
    """The trace's category of one profiler event, by the operator's name."""
    if not name.startswith("aten::"):
        return "autograd and optimiser bookkeeping"
    op = name.removeprefix("aten::")
    if "adam" in op:
        return "Adam's update (fused kernel)"
    if any(p in op for p in PRODUCTS):
        return "matrix products and convolutions"
    return "other operators (elementwise, sums, copies)"


def trace(
    loop: Loop, device: torch.device, *, steps: int = 50, plain: float | None = None
) -> Trace:
    """Profile ``steps`` real steps of loop (already warmed up) with torch.profiler.

    Each operator's *self* time (its own, without the operators it calls) goes
    to a category: the matrix products and convolutions, Adam's update, the
    other operators, and the bookkeeping of autograd and the optimiser (the
    profiler's non-``aten`` events). What the operators leave of the wall time
    is Python and the framework around them. plain: the loop's step time
    measured without the profiler, in seconds, printed beside it.
    On a GPU the self times are the host's (launching the kernels).
    """
    from torch.profiler import ProfilerActivity, profile

    loop.prepare(steps)
    with _c_stderr_silenced(), profile(activities=[ProfilerActivity.CPU]) as prof:
        wall = timed(loop.run, device)
    totals: dict = {}
    for event in prof.key_averages():
        what = _category(event.key)
        totals[what] = totals.get(what, 0.0) + event.self_cpu_time_total / 1e3  # ms
    parts = sorted(((w, ms / steps) for w, ms in totals.items()), key=lambda p: -p[1])
    wall_ms = 1e3 * wall / steps
    parts.append(
        ("Python and framework, outside any operator", wall_ms - sum(ms for _, ms in parts))
    )
    return Trace(parts, wall_ms, 1e3 * plain if plain is not None else float("nan"))


# ---------------------------------------------------------- the compile break-even
@dataclass(frozen=True)
class BreakEven:
    """What compile=True costs on one workload and when it pays.

    compile_s: seconds of compiling (the first steps' extra time); plain,
    compiled: seconds per step, one per round; epochs: 60,000-image epochs until
    the saving repays compile_s (inf if compiling does not save time).
    """

    workload: str
    batch_size: int
    compile_s: float
    plain: list
    compiled: list

    @property
    def saving(self) -> float:
        """Seconds saved per step (median plain minus median compiled)."""
        return statistics.median(self.plain) - statistics.median(self.compiled)

    @property
    def epochs(self) -> float:
        if self.saving <= 0:
            return math.inf
        return self._epochs_at(statistics.median(self.plain) - statistics.median(self.compiled))

    def _epochs_at(self, saving: float) -> float:
        """Epochs that repay compile_s at a saving of saving seconds per step."""
        if saving <= 0:
            return math.inf
        return self.compile_s / saving / math.ceil(MNIST_TRAIN / self.batch_size)

    @property
    def epochs_interval(self) -> tuple[float, float]:
        """(lo, hi) epochs to break even at the ends of the speed-up's 95%
        interval: the median plain step over each end of ``Ratio.of``'s
        interval (hi is inf where that end does not save time)."""
        r, plain = Ratio.of(self.plain, self.compiled), statistics.median(self.plain)
        return self._epochs_at(plain * (1 - 1 / r.hi)), self._epochs_at(plain * (1 - 1 / r.lo))

    def __str__(self) -> str:
        r = Ratio.of(self.plain, self.compiled)
        epochs = "never" if math.isinf(self.epochs) else f"{self.epochs:.1f}"
        return (
            f"{self.workload:22s}{self.batch_size:6d}{self.compile_s:9.1f}"
            f"{1e3 * statistics.median(self.plain):9.3f}"
            f"{1e3 * statistics.median(self.compiled):10.3f}{str(r):>24s}{epochs:>8s}"
        )


BREAK_EVEN_HEADER = (
    f"{'workload':22s}{'batch':>6s}{'compile':>9s}{'ms/step':>9s}{'compiled':>10s}"
    f"{'speed-up, 95% interval':>24s}{'epochs':>8s}"
)


WORKLOADS = {w.name: w for w in (MLP, LONG, CONV)}
"""The workloads by name: what ``fresh_compile_seconds`` can hand a new process."""


def _first_compiled_steps(name: str, batch_size: int, steps: int, n_train: int, device: str):
    """In a new process: seconds of a compiled fit loop's first ``steps`` steps."""
    device = torch.device(device)
    workload = WORKLOADS[name].at_batch(batch_size)
    x = load_mnist(n_train=n_train, n_test=1000, download=False).x_train.to(device)
    seed_everything(SEED)
    loop = FitLoop(workload, workload.make_model().to(device), device, x, compile=True)
    loop.prepare(steps)
    with tempfile.TemporaryDirectory(prefix="vae_bench_inductor_") as folder:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = folder  # an empty cache: nothing reused
        return timed(loop.run, device)


def fresh_compile_seconds(
    workload: Workload, device: torch.device, steps: int, n_train: int = 10000
) -> float:
    """Seconds of the first ``steps`` steps of compiled fit, as a fresh runtime pays them.

    They run in a new Python process (``multiprocessing``, spawn) with an empty
    inductor cache, so that nothing this process or an earlier run compiled is
    reused: the time includes torch.compile's one-off set-up and building the
    kernels. workload must be one of ``WORKLOADS`` (at any batch size). A script
    that calls it must keep its top level under ``if __name__ == "__main__":``,
    because the new process imports the script's main module.
    """
    if WORKLOADS.get(workload.name) is None:
        raise ValueError(
            f"fresh_compile_seconds runs a workload in a new process by name; "
            f"{workload.name!r} is not one of {sorted(WORKLOADS)}."
        )
    import multiprocessing

    args = (workload.name, workload.batch_size, steps, n_train, str(device))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_first_compiled_steps, args)


def break_even(
    workload: Workload,
    *,
    device: torch.device | str = "cpu",
    rounds: int = 7,
    steps: int = 30,
    warmup: int = 10,
    n_train: int = 10000,
) -> BreakEven:
    """Measure compile=True on workload: its compile time and its saving per step.

    The compile time is the first ``warmup`` steps of compiled fit in a fresh
    process (``fresh_compile_seconds``) minus as many steady compiled steps;
    the saving comes from ``time_loops`` of plain and compiled fit on the same
    weights. workload must be one of ``WORKLOADS`` (at any batch size).
    """
    _check_positive(rounds=rounds, steps=steps, warmup=warmup, n_train=n_train)
    device = torch.device(device)
    x = load_mnist(n_train=n_train, n_test=1000, download=False).x_train.to(device)
    seed_everything(SEED)
    initial = workload.make_model().to(device)
    first = fresh_compile_seconds(workload, device, warmup, n_train)
    loops = {
        "plain": FitLoop(workload, initial, device, x),
        "compiled": FitLoop(workload, initial, device, x, compile=True),
    }
    times, _ = time_loops(loops, device, steps=steps, rounds=rounds, warmup=warmup)
    compile_s = max(first - warmup * statistics.median(times["compiled"]), 0.0)
    return BreakEven(
        workload.name, workload.batch_size, compile_s, times["plain"], times["compiled"]
    )
