"""Numbers with their uncertainty: repeated runs over seeds, and standard errors.

``repeat_over_seeds(run, seeds)`` calls ``run(seed)`` once per seed (each
returns ``{metric: float}``) and gives back a ``SeedTable``: per metric the
values, their mean, the standard error of that mean and the min and max. With
2 or 3 seeds a standard error is itself very uncertain, so the table prints
mean and [min, max] there, and mean +- SE from 4 seeds on. ``difference``
compares two tables run on the same seeds, and ``paired`` any two paired
sets of values (over seeds or over test images): both give the mean
difference with its 95% t-interval, which is how a chapter states "setting A
beats setting B by d, 95% interval [lo, hi]", or that the difference is not
resolved at this budget.

``paired_seeds_images`` is ``paired`` over seeds when every seed is scored
on the same test images: it adds the test set's own sampling error.

``mean_se(values)`` is the mean of independent values and its standard error,
e.g. of a per-image log-likelihood over the test set.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Callable

import torch

from .device import seed_everything
from .mode import choose


def default_seeds() -> list[int]:
    """Seeds for a repeated run: three in full mode, two in quick mode."""
    return choose(full=[0, 1, 2], quick=[0, 1])


def mean_se(values) -> tuple[float, float]:
    """Mean of independent values and its standard error, std(ddof=1) / sqrt(n).

    values: a sequence or tensor of numbers (any shape; flattened). The
    standard error needs n >= 2; it is NaN for a single value.
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


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with df degrees of freedom (0.5 < p < 1, df >= 1).

    Exact up to bisection tolerance for df <= 1000 (the closed-form CDF for
    integer df, Abramowitz & Stegun 26.7.3-4); above that, the Cornish-Fisher
    expansion around the normal quantile, accurate to about 1e-7 for
    p <= 0.9999 (5e-7 at p = 1 - 1e-6).
    """
    if not 0.5 < p < 1:
        raise ValueError(f"t_quantile needs 0.5 < p < 1, got {p!r}.")
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be a positive integer, got {df!r}.")
    z = NormalDist().inv_cdf(p)
    if df > 1000:
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    lo, hi = z, z + 1.0
    while _t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with integer df, t >= 0 (A&S 26.7.3 and 26.7.4)."""
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2 == 0:  # A(t|df) = sin(theta) (1 + c2/2 + 1*3/(2*4) c2^2 + ...)
        term = total = 1.0
        for k in range(2, df, 2):
            term *= c2 * (k - 1) / k
            total += term
        a = s * total
    else:  # A = (2/pi) (theta + sin cos (1 + 2/3 c2 + 2*4/(3*5) c2^2 + ...))
        term, total = 1.0, 0.0 if df == 1 else 1.0
        for k in range(3, df, 2):
            term *= c2 * (k - 1) / k
            total += term
        a = 2 / math.pi * (theta + s * math.cos(theta) * total)
    return 0.5 + a / 2


@dataclass
class Paired:
    """A paired difference a - b with its 95% interval: the book's verdict.

    mean: the mean of the n paired differences; se: its standard error,
    std(ddof=1) / sqrt(n); t: the Student-t quantile with n - 1 degrees of
    freedom; lo, hi: mean -+ t * se. resolved is True when [lo, hi] excludes
    0 (n identical differences give se = 0 and a zero-width interval). over names what was paired ("seeds" or "images"); unit the unit of
    the values (e.g. "nats per image").

    image_se (default 0) is the standard error that a fixed test set adds
    when every seed is scored on the same images; it is added to the seeds'
    standard error in quadrature, and images (their count) is printed with
    the seeds. ``paired_seeds_images`` fills both.
    """

    values: list
    over: str = "seeds"
    unit: str = ""
    digits: int = 2
    level: float = 0.95
    image_se: float = 0.0
    images: int = 0
    mean: float = field(init=False)
    se: float = field(init=False)
    t: float = field(init=False)
    lo: float = field(init=False)
    hi: float = field(init=False)

    def __post_init__(self):
        self.mean, seed_se = mean_se(self.values)
        self.se = math.hypot(seed_se, self.image_se)
        self.t = t_quantile(0.5 + self.level / 2, self.n - 1)
        self.lo, self.hi = self.mean - self.t * self.se, self.mean + self.t * self.se

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def resolved(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def __str__(self) -> str:
        d, unit = self.digits, f" {self.unit}" if self.unit else ""
        text = (
            f"{self.mean:+.{d}f}{unit}, {100 * self.level:g}% interval "
            f"[{self.lo:+.{d}f}, {self.hi:+.{d}f}] over {self.n:,} {self.over}"
        )
        if self.images:
            text += f" and {self.images:,} test images"
        return text if self.resolved else text + ": not resolved at this budget"


OVER = ("seeds", "images", "draws", "rounds")
"""What ``paired`` can pair over: seeds, test images, repeats of an estimator,
or rounds of a timing (``vae_lib.bench``)."""


def paired(
    a,
    b=None,
    *,
    over: str = "seeds",
    unit: str = "",
    digits: int = 2,
    level: float = 0.95,
) -> Paired:
    """The paired difference a - b and its t-interval (see the notation page).

    a, b: sequences or tensors of n >= 2 paired values, the i-th of each from
    the same seed (over="seeds"), the same test image (over="images"), the
    i-th of two sets of independent repeats of an estimator (over="draws")
    or the same round of a timing (over="rounds");
    with b None, a already holds the differences. The interval is
    mean -+ t_{(1+level)/2, n-1} * SE; over thousands of images t is 1.96.
    """
    if over not in OVER:
        raise ValueError(f"over must be one of {', '.join(map(repr, OVER))}; got {over!r}.")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}.")
    a = torch.as_tensor(a, dtype=torch.float64).flatten()
    if b is not None:
        b = torch.as_tensor(b, dtype=torch.float64).flatten()
        if b.shape != a.shape:
            raise ValueError(
                f"paired needs one b per a, got {a.numel()} and {b.numel()} values; "
                "pair them by seed or by image first."
            )
        a = a - b
    if a.numel() < 2:
        raise ValueError(f"paired needs at least 2 differences, got {a.numel()}.")
    return Paired(a.tolist(), over=over, unit=unit, digits=digits, level=level)


def paired_seeds_images(*groups, unit: str = "", digits: int = 2, level: float = 0.95) -> Paired:
    """A paired difference over seeds that also counts the test set's sampling error.

    Each group is a pair (a, b) of tensors of shape (S, N): the per-image
    values of settings A and B for S seeds on the same N test images (e.g. 1
    for a correct label and 0 for a wrong one, or each image's PSNR in dB).
    The statistic of seed s is the mean over the first group's images of
    a - b. Two parts of its error add in quadrature: the seeds' standard
    error of the S per-seed statistics, and the images' standard error of
    the seed-averaged per-image difference, var_i(mean_s (a - b)) / N,
    summed over the groups (independent sets of images). An AUROC is a mean
    over either of its two groups of placements (``auroc_placements``), and
    its image part is DeLong's variance, so it takes both groups. The
    interval uses Student's t with S - 1 degrees of freedom (conservative
    for the images' part, which has thousands). Printed "over S seeds and N
    test images", N the first group's count.
    """
    if not groups:
        raise ValueError(
            "paired_seeds_images needs at least one (a, b) pair of (seeds, images) tensors."
        )
    per_seed, image_var, shapes = None, 0.0, []
    for i, pair in enumerate(groups):
        if len(pair) != 2:
            raise ValueError(f"group {i} must be a pair (a, b), got {len(pair)} items.")
        a, b = (torch.as_tensor(v, dtype=torch.float64) for v in pair)
        if a.dim() != 2 or a.shape != b.shape:
            raise ValueError(
                f"group {i}: a and b must both have shape (seeds, images); got "
                f"{tuple(a.shape)} and {tuple(b.shape)}."
            )
        if a.shape[0] < 2 or a.shape[1] < 2:
            raise ValueError(
                f"group {i}: need at least 2 seeds and 2 images, got shape {tuple(a.shape)}."
            )
        shapes.append(a.shape)
        d = a - b
        if not torch.isfinite(d).all():
            raise ValueError(f"group {i} has NaN or infinite values; fix them first.")
        if per_seed is None:
            per_seed = d.mean(1)
        elif a.shape[0] != len(per_seed):
            raise ValueError(
                f"every group needs the same seeds; got {[s[0] for s in shapes]} rows."
            )
        image_var += (d.mean(0).var(unbiased=True) / d.shape[1]).item()
    return Paired(
        per_seed.tolist(),
        unit=unit,
        digits=digits,
        level=level,
        image_se=math.sqrt(image_var),
        images=int(shapes[0][1]),
    )


def difference(a: SeedTable, b: SeedTable, metric: str, unit: str = "", digits: int = 2) -> Paired:
    """Paired difference a - b of one metric over the seeds both tables share (same order).

    Pairing removes what the two settings share through the seed (data order,
    initialisation draws); the result is ``paired(...)`` over the seeds.
    """
    if list(a.seeds) != list(b.seeds):
        raise ValueError(
            f"difference needs the same seeds in both tables, got {a.seeds} and {b.seeds}."
        )
    return paired(a[metric].values, b[metric].values, unit=unit, digits=digits)


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
