"""The training loop every chapter uses after the MLP chapter writes one by hand.

The loss protocol
-----------------
``loss_fn(model, x, y) -> dict[str, Tensor]``: x is a batch (B, ...) already on
the model's device, y the matching labels (or None). The dict holds scalar
tensors, each averaged over the batch (nats per example); it must contain
``"loss"``, the quantity minimised. Every other entry (``"recon"``, ``"kl"``,
...) is recorded in the history per epoch, for train and test.

Speed: the data stays on the device as one tensor, each epoch is shuffled with
``torch.randperm``, and per-step losses are summed on the device; the host
reads them only every ``sync_every`` steps (for the progress bar and the NaN
check) and at the end of each epoch.

Faster steps (``vae_lib.accel``): the default optimiser is Adam with its fused
kernel where torch supports it; ``compile=True`` runs the loss (model and loss
function) through ``torch.compile``, and ``bf16=True`` runs it under bfloat16
autocast where the device has native bf16 units. Each falls back to the plain
path, with a warning, where it is not available.

Checkpoints: ``fit(..., checkpoint="run.pt")`` saves the model, the optimiser,
the history and every random generator's state after each epoch, and resumes
from that file when it exists (see ``vae_lib.checkpoint``).
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import torch

from . import accel
from . import checkpoint as ckpt
from .checks import checks

LossFn = Callable[..., dict]


class NonFiniteLossError(FloatingPointError):
    """Raised when a training loss becomes NaN or infinite."""


class _NonFiniteStep(Exception):
    """Inside an epoch: the loss of step ``step`` (from 1) of ``steps`` was not finite."""

    def __init__(self, step: int, steps: int):
        super().__init__(step, steps)
        self.step, self.steps = step, steps


@dataclass
class History:
    """Per-epoch record of a ``fit`` run.

    train[name][e], test[name][e]: the mean of loss term ``name`` in epoch e
    (nats per example), for the training data and the test data.
    seconds[e]: wall-clock seconds spent training in epoch e.
    """

    train: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.seconds)

    def add_epoch(
        self, train: dict, test: dict | None = None, seconds: float = float("nan")
    ) -> None:
        """Record one epoch: {term: mean} for train (and test), and its duration."""
        for split, terms in ((self.train, train), (self.test, test or {})):
            for name, value in terms.items():
                split.setdefault(name, []).append(float(value))
        self.seconds.append(seconds)

    def table(self, digits: int = 2) -> str:
        """A plain-text table with one row per epoch."""
        names = list(self.train)
        header = (
            ["epoch"] + [f"train {n}" for n in names] + [f"test {n}" for n in self.test] + ["s"]
        )
        rows = []
        for e in range(self.epochs):
            row = [str(e + 1)] + [f"{self.train[n][e]:.{digits}f}" for n in names]
            row += [f"{self.test[n][e]:.{digits}f}" for n in self.test]
            rows.append(
                row + [f"{self.seconds[e]:.1f}" if self.seconds[e] == self.seconds[e] else "-"]
            )
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [header] + rows]
        return "\n".join(lines)


def progress_bar(*args, **kwargs):
    """A tqdm progress bar: a widget in Jupyter, text elsewhere.

    ``VAE_PROGRESS=text`` forces a quiet text bar, for stored outputs (the
    project's notebook execution and the tests use it): it writes its first
    and final states on one line, and a bar opened while another is running
    (fit inside ``repeat_over_seeds``) stays silent, so a stored output never
    holds a wall of progress lines.
    """
    if os.environ.get("VAE_PROGRESS", "auto").strip().lower() != "text":
        from tqdm.auto import tqdm

        return tqdm(*args, **kwargs)
    from tqdm.std import tqdm

    if any(not bar.disable for bar in list(tqdm._instances)):
        kwargs["disable"] = True
    kwargs.setdefault("mininterval", 1e9)  # no updates between the first and last state
    kwargs.pop("dynamic_ncols", None)
    return tqdm(*args, **kwargs)


def _device_of(model: torch.nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def _check_inputs(x, y, epochs, batch_size, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}.")
    if x.dim() < 2 or len(x) == 0:
        raise ValueError(f"{name} must have shape (N, ...) with N > 0, got {tuple(x.shape)}.")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be floating point (e.g. x.float() / 255), got {x.dtype}.")
    if y is not None:
        if not isinstance(y, torch.Tensor):
            raise TypeError(f"labels for {name} must be a torch.Tensor, got {type(y).__name__}.")
        if len(y) != len(x):
            raise ValueError(f"{name} has {len(x)} examples but its labels have {len(y)}.")
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}.")


def _call_loss(loss_fn, model, x, y) -> dict:
    terms = loss_fn(model, x, y)
    if not isinstance(terms, dict) or "loss" not in terms:
        raise TypeError(
            "loss_fn(model, x, y) must return a dict of scalar tensors with a 'loss' "
            f"entry, got {type(terms).__name__}"
            + (f" with keys {sorted(terms)}" if isinstance(terms, dict) else "")
            + "."
        )
    for name, value in terms.items():
        if not isinstance(value, torch.Tensor) or value.dim() != 0:
            raise TypeError(
                f"loss term {name!r} must be a scalar tensor (average over the batch), "
                f"got {type(value).__name__} of shape {tuple(getattr(value, 'shape', ()))}."
            )
    return terms


@torch.no_grad()
def evaluate(
    model,
    loss_fn: LossFn,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    batch_size: int = 1000,
    transform: Callable | None = None,
) -> dict:
    """Mean of each loss term over (x, y), in eval mode: {name: float} (nats per example)."""
    _check_inputs(x, y, 1, batch_size, "x")
    device = _device_of(model)
    was_training = model.training
    model.eval()
    sums: dict = {}
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(device, non_blocking=True)
            yb = None if y is None else y[start : start + batch_size].to(device, non_blocking=True)
            if transform is not None:
                xb = transform(xb)
            for name, value in _call_loss(loss_fn, model, xb, yb).items():
                sums[name] = sums.get(name, 0.0) + value.detach() * len(xb)
    finally:
        model.train(was_training)
    return {name: (total / len(x)).item() for name, total in sums.items()}


def fit(
    model: torch.nn.Module,
    loss_fn: LossFn,
    x_train: torch.Tensor,
    y_train: torch.Tensor | None = None,
    *,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    transform: Callable | None = None,
    on_epoch_end: Callable | None = None,
    sync_every: int = 50,
    progress: bool = True,
    history: History | None = None,
    checkpoint: str | os.PathLike | None = None,
    compile: bool = False,
    bf16: bool = False,
) -> History:
    """Train ``model`` on in-memory tensors and return the per-epoch ``History``.

    Chapter 1's ``train_one_epoch`` (``_train_epoch`` here) plus named extras:
    resuming from a checkpoint (``_resume``), the NaN stop (``_EpochRecord``
    and ``_rollback_on_nonfinite``), the progress bar, evaluation on the test
    data, and saving a checkpoint after each epoch.

    x_train: (N, ...) float tensor; y_train: (N,) labels or None. Both are moved
    once to the model's device. x_test/y_test, if given, are evaluated after
    every epoch. optimizer defaults to Adam(lr), fused where torch supports it
    (``vae_lib.accel.adam``). transform(x) is applied to
    every batch on the device (e.g. ``vae_lib.binarize``).
    on_epoch_end(epoch, model, history) runs after each epoch (epoch counts from 1).
    Passing an earlier ``history`` continues it.

    checkpoint: a file path. After every epoch, fit saves the model, the
    optimiser, the history and the random generators' states there (written to
    a temporary file first, then renamed, so a failed save never destroys the
    previous checkpoint). When the file already exists, fit first restores all
    of that and trains only the epochs still missing: with a checkpoint,
    ``epochs`` is the total the run should reach, so running the same cell
    again after a disconnect finishes the run, and on the CPU ends with the
    same weights and history as an uninterrupted run.

    compile: run ``loss_fn(model, x, y)`` through ``torch.compile`` after the
    first step (which stays eager, with its input checks). The first compiled
    step pays the compilation (seconds to a minute); it pays off on long runs
    with small models. Random draws inside a compiled loss come from
    inductor's own generator, so a compiled run matches an eager one in
    distribution, not draw for draw.
    bf16: run the loss under bfloat16 autocast (matrix products in bf16,
    sums and the optimiser in float32) where ``accel.bf16_supported(device)``;
    elsewhere fit warns and stays in float32.

    Raises NonFiniteLossError, naming the epoch and step, when the loss becomes
    NaN or infinite; the model is then put back to its weights at the start of
    that epoch, so earlier training is not lost.
    """
    _check_fit_arguments(x_train, y_train, x_test, y_test, epochs, batch_size, sync_every)
    device = _device_of(model)
    x_train = x_train.to(device)
    y_train = None if y_train is None else y_train.to(device)
    optimizer = optimizer or accel.adam(model.parameters(), lr=lr)
    step_loss = _StepLoss(loss_fn, transform, device, _bf16_or_warn(bf16, device), compile)
    history = history if history is not None else History()
    remaining = _resume(checkpoint, model, optimizer, history, epochs)
    if remaining == 0:  # a finished run's checkpoint
        return history
    first, steps = history.epochs + 1, math.ceil(len(x_train) / batch_size)
    bar = progress_bar(
        total=remaining * steps, disable=not progress, unit="step", dynamic_ncols=True
    )
    with bar:
        for epoch in range(first, first + remaining):
            bar.set_description(f"epoch {epoch}/{first + remaining - 1}")
            started = time.perf_counter()
            with _rollback_on_nonfinite(model, optimizer, epoch):
                train_terms = _train_epoch(
                    model, optimizer, step_loss, x_train, y_train, batch_size, bar, sync_every
                )
            seconds = time.perf_counter() - started
            test_terms = None
            if x_test is not None:
                test_terms = evaluate(model, loss_fn, x_test, y_test, transform=transform)
                bar.set_postfix(loss=f"{train_terms['loss']:.2f}", test=f"{test_terms['loss']:.2f}")
            history.add_epoch(train_terms, test_terms, seconds)
            if checkpoint is not None:
                ckpt.save(checkpoint, model, optimizer, history)
            if on_epoch_end is not None:
                on_epoch_end(epoch, model, history)
    return history


def _train_epoch(model, optimizer, step_loss, x, y, batch_size, bar, sync_every) -> dict:
    """One pass over x (N, ...) in random order; the mean of each loss term (nats per example).

    Chapter 1's ``train_one_epoch``, line for line, except that the loss terms
    stay on the device (``_EpochRecord``) until a sync point.
    """
    model.train()
    n = len(x)
    order = torch.randperm(n, device=x.device)
    record = _EpochRecord(math.ceil(n / batch_size), x.device)
    for step, start in enumerate(range(0, n, batch_size)):
        idx = order[start : start + batch_size]
        yb = None if y is None else y.index_select(0, idx)
        terms = step_loss(model, x.index_select(0, idx), yb)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        record.add(step, terms)
        bar.update(1)
        if (step + 1) % sync_every == 0 or step + 1 == record.steps:
            record.raise_if_nonfinite(upto=step + 1)
            bar.set_postfix(loss=f"{record.running_loss(upto=step + 1):.2f}")
    return record.means(n, batch_size)


def _check_fit_arguments(x_train, y_train, x_test, y_test, epochs, batch_size, sync_every):
    _check_inputs(x_train, y_train, epochs, batch_size, "x_train")
    if isinstance(sync_every, bool) or not isinstance(sync_every, int) or sync_every < 1:
        raise ValueError(f"sync_every must be a positive integer, got {sync_every!r}.")
    if x_test is not None:
        _check_inputs(x_test, y_test, epochs, batch_size, "x_test")


def _bf16_or_warn(bf16: bool, device: torch.device) -> bool:
    """bf16 where the device supports it; a warning and float32 where it does not."""
    if bf16 and not accel.bf16_supported(device):
        warnings.warn(
            f"bf16=True: {device} has no native bfloat16 support that torch reports; "
            "training in float32 instead.",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return bf16


def _resume(checkpoint, model, optimizer, history: History, epochs: int) -> int:
    """The number of epochs still to train: all of them, or what a saved checkpoint lacks."""
    if checkpoint is None:
        return epochs
    if history.epochs:
        raise ValueError(
            "fit(checkpoint=...) counts epochs from the checkpoint; pass either "
            "history or checkpoint, not both."
        )
    if ckpt.exists(checkpoint):
        ckpt.restore(checkpoint, model, optimizer, history)
    return max(epochs - history.epochs, 0)


class _StepLoss:
    """``loss_fn`` on one batch: the transform, autocast, and the compiled loss.

    Only the first batch of a ``fit`` call runs the syncing input checks
    (``vae_lib.checks``), and it stays eager; later batches use the compiled
    loss when ``compile=True``.
    """

    def __init__(self, loss_fn, transform, device, bf16: bool, compile: bool):
        self.loss_fn, self.transform, self.device, self.bf16 = loss_fn, transform, device, bf16
        self.fast = accel.CompiledLoss(loss_fn) if compile else loss_fn
        self.first = True

    def __call__(self, model, xb, yb) -> dict:
        first, self.first = self.first, False
        with checks(first), accel.autocast(self.device, self.bf16):
            if self.transform is not None:
                xb = self.transform(xb)
            return _call_loss(self.loss_fn if first else self.fast, model, xb, yb)


class _EpochRecord:
    """Every step's loss terms in one (steps, terms) tensor on the device.

    The host reads it only at sync points: ``raise_if_nonfinite`` and
    ``running_loss`` (one sync each) and ``means`` at the end of the epoch.
    """

    def __init__(self, steps: int, device: torch.device):
        self.steps, self.device = steps, device
        self.rows: torch.Tensor | None = None
        self.names: list = []
        self.checked = 0  # steps whose loss has been checked for NaN

    def add(self, step: int, terms: dict) -> None:
        if self.rows is None:
            self.names = list(terms)
            self.rows = torch.empty(self.steps, len(self.names), device=self.device)
        elif len(terms) != len(self.names) or any(a != b for a, b in zip(terms, self.names)):
            raise TypeError(
                f"loss_fn returned the terms {list(terms)} at step {step + 1} "
                f"but {self.names} at the first step; return the same terms every step."
            )
        self.rows[step] = torch.stack([value.detach().float() for value in terms.values()])

    def raise_if_nonfinite(self, upto: int) -> None:
        """Raise NonFiniteLossError if a loss in steps [checked, upto) is NaN or infinite."""
        bad = (~torch.isfinite(self.rows[self.checked : upto, 0])).nonzero()
        if len(bad):
            raise _NonFiniteStep(self.checked + int(bad[0, 0]) + 1, self.steps)
        self.checked = upto

    def running_loss(self, upto: int) -> float:
        return self.rows[:upto, 0].mean().item()

    def means(self, n: int, batch_size: int) -> dict:
        """Batch means weighted by batch size (every batch is full but the last)."""
        weights = torch.full((self.steps, 1), float(batch_size), device=self.device)
        weights[-1] = n - (self.steps - 1) * batch_size
        return dict(zip(self.names, ((self.rows * weights).sum(0) / n).tolist()))


@contextmanager
def _rollback_on_nonfinite(model, optimizer, epoch: int):
    """If the epoch's loss stops being finite, restore its start and raise NonFiniteLossError."""
    snapshot = copy.deepcopy(model.state_dict())
    optimizer_snapshot = copy.deepcopy(optimizer.state_dict())
    try:
        yield
    except _NonFiniteStep as bad:
        model.load_state_dict(snapshot)
        optimizer.load_state_dict(optimizer_snapshot)
        raise NonFiniteLossError(
            f"The loss became NaN or infinite in epoch {epoch} at step {bad.step} of "
            f"{bad.steps}. The model's weights were put back to the start of epoch {epoch}. "
            "Common causes: a learning rate that is too high, log of 0 in a hand-written "
            "loss, or inputs outside the range the likelihood expects."
        ) from None
