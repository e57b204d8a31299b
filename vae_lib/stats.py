"""Numbers with their uncertainty: repeated runs over seeds, and standard errors.

``repeat_over_seeds(run, seeds)`` calls ``run(seed)`` once per seed (each
returns ``{metric: float}``) and gives back a ``SeedTable``: per metric the
values, their mean, the standard error of that mean and the min and max. With
2 or 3 seeds a standard error is itself very uncertain, so the table prints
mean and [min, max] there, and mean +- SE from 4 seeds on. ``difference``
compares two tables run on the same seeds (paired), which is how a chapter
should state "setting A beats setting B by d +- s".

``mean_se(values)`` is the mean of independent values and its standard error,
e.g. of a per-image log-likelihood over the test set.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable

import torch

from .device import seed_everything
from .mode import choose


def default_seeds() -> list[int]:
    """Seeds for a repeated run: three in full mode, two in quick mode."""
    return choose(full=[0, 1, 2], quick=[0, 1])


def mean_se(values) -> tuple[float, float]:
    """Mean of independent values and its standard error, std(ddof=1) / sqrt(n).

    values: a sequence or tensor of n >= 2 numbers (any shape; flattened).
    The standard error is NaN for a single value.
    """
    v = torch.as_tensor(values, dtype=torch.float64).flatten()
    if v.numel() == 0:
        raise ValueError("mean_se needs at least one value.")
    if not torch.isfinite(v).all():
        raise ValueError("mean_se got NaN or infinite values; remove or fix them first.")
    if v.numel() == 1:
        return v.item(), float("nan")
    return v.mean().item(), (v.std(unbiased=True) / math.sqrt(v.numel())).item()


@dataclass
class Summary:
    """One metric over seeds: values (one per seed), mean, se, lo (min) and hi (max)."""

    values: list
    mean: float = field(init=False)
    se: float = field(init=False)
    lo: float = field(init=False)
    hi: float = field(init=False)

    def __post_init__(self):
        self.mean, self.se = mean_se(self.values)
        self.lo, self.hi = min(self.values), max(self.values)

    def format(self, digits: int = 2) -> str:
        """'m +- se' from 4 values on, 'm [lo, hi]' for 2-3 values, 'm' for one."""
        m = f"{self.mean:.{digits}f}"
        if len(self.values) >= 4:
            return f"{m} +- {self.se:.{digits}f}"
        if len(self.values) >= 2:
            return f"{m} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"
        return m

    def __str__(self) -> str:
        return self.format()


@dataclass
class SeedTable:
    """The result of ``repeat_over_seeds``: seeds and a Summary per metric."""

    seeds: list
    runs: list
    name: str = ""

    def __getitem__(self, metric: str) -> Summary:
        if metric not in self.runs[0]:
            raise KeyError(f"no metric {metric!r}; this table has {', '.join(self.metrics)}.")
        return Summary([run[metric] for run in self.runs])

    @property
    def metrics(self) -> list:
        return list(self.runs[0])

    def table(self, digits: int = 2) -> str:
        """Plain text: one row per metric with its mean and spread over the seeds."""
        spread = "+- SE" if len(self.seeds) >= 4 else "[min, max]"
        title = f"{self.name}: " if self.name else ""
        lines = [f"{title}{len(self.seeds)} seeds {self.seeds}, mean {spread}"]
        width = max(len(m) for m in self.metrics)
        lines += [f"  {m.ljust(width)}  {self[m].format(digits)}" for m in self.metrics]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def repeat_over_seeds(
    run: Callable[[int], dict],
    seeds: Iterable[int] | None = None,
    name: str = "",
    progress: bool = True,
) -> SeedTable:
    """Call ``run(seed)`` for every seed and collect its metrics in a SeedTable.

    run(seed) -> {metric: float}: trains and scores one model; every call must
    return the same metric names. ``seed_everything(seed)`` is called before
    each run, so run need not seed itself. seeds default to ``default_seeds()``
    (3 in full mode, 2 in quick mode).
    """
    from .train import progress_bar

    seeds = default_seeds() if seeds is None else list(seeds)
    if not seeds:
        raise ValueError("repeat_over_seeds needs at least one seed.")
    runs = []
    bar = progress_bar(seeds, desc=name or "seeds", unit="seed", disable=not progress)
    for seed in bar:
        seed_everything(seed)
        result = run(seed)
        if not isinstance(result, dict) or not result:
            raise TypeError(
                f"run({seed}) must return a non-empty dict of metrics, got {type(result).__name__}."
            )
        result = {k: float(v) for k, v in result.items()}
        if runs and set(result) != set(runs[0]):
            raise ValueError(
                f"run({seed}) returned metrics {sorted(result)}, but the first "
                f"seed returned {sorted(runs[0])}."
            )
        runs.append(result)
    return SeedTable(seeds=seeds, runs=runs, name=name)


def difference(a: SeedTable, b: SeedTable, metric: str) -> Summary:
    """Paired difference a - b of one metric over the seeds both tables share (same order).

    Pairing removes what the two settings share through the seed (data order,
    initialisation draws), so its spread is the one to quote for "a vs b".
    """
    if list(a.seeds) != list(b.seeds):
        raise ValueError(
            f"difference needs the same seeds in both tables, got {a.seeds} and {b.seeds}."
        )
    return Summary([x - y for x, y in zip(a[metric].values, b[metric].values)])


def within_noise(summary: Summary, k: float = 2.0) -> bool:
    """True when |mean| is within k standard errors (4+ values) or [min, max] spans 0."""
    if len(summary.values) >= 4:
        return abs(summary.mean) <= k * summary.se
    return summary.lo <= 0.0 <= summary.hi


def verdict(summary: Summary, unit: str = "", digits: int = 2) -> str:
    """A sentence fragment for a paired difference: its size, spread and whether it is noise."""
    text = f"{summary.format(digits)}{(' ' + unit) if unit else ''}"
    if len(summary.values) < 2:
        return f"{text} (one run: no spread, no verdict)"
    if within_noise(summary):
        return f"{text}: within the noise"
    return f"{text}: outside the seed-to-seed spread"


@dataclass
class Estimate:
    """A Monte Carlo estimate of a per-image mean, in nats per image.

    mean: the estimate, averaged over images and over ``repeats`` independent
    draws. se_images: its standard error from the spread over images (what
    another test set of the same size would change). se_draws: its standard
    error from the estimator's own randomness (what another set of draws of
    z would change), NaN with one repeat. per_image: (N,) tensor, averaged
    over the repeats.
    """

    mean: float
    se_images: float
    se_draws: float
    per_image: torch.Tensor
    repeats: int

    def __str__(self) -> str:
        text = (
            f"{self.mean:.2f} +- {self.se_images:.2f} nats per image (SE over "
            f"{len(self.per_image)} images"
        )
        if self.repeats > 1:
            text += f"; SE over {self.repeats} draws {self.se_draws:.3f}"
        return text + ")"


@torch.no_grad()
def iw_estimate(model, x: torch.Tensor, k: int = 100, repeats: int = 2, **kwargs) -> Estimate:
    """``iw_log_likelihood`` averaged over images, with both of its standard errors.

    Runs the importance-weighted bound ``repeats`` times with fresh draws
    (k samples per image each time) on x (N, ...). Extra keyword arguments
    (chunk, log_likelihood) go to ``iw_log_likelihood``. Compare two models
    with se_images when they were scored on different images, and with
    se_draws (or a paired difference over images) when on the same ones.
    """
    from .losses import iw_log_likelihood

    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}.")
    draws = torch.stack(
        [iw_log_likelihood(model, x, k=k, **kwargs).double().cpu() for _ in range(repeats)]
    )  # (repeats, N)
    per_image = draws.mean(dim=0)
    mean, se_images = mean_se(per_image)
    se_draws = mean_se(draws.mean(dim=1))[1] if repeats > 1 else float("nan")
    return Estimate(
        mean=mean, se_images=se_images, se_draws=se_draws, per_image=per_image, repeats=repeats
    )
