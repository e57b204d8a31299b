"""Two-dimensional toy data for the Swiss-roll chapter, and tools to judge samples of it.

The 2-D Swiss roll is the (x, z) plane of scikit-learn's 3-D ``make_swiss_roll``
(the height coordinate is dropped): an angle ``a = 1.5 pi (1 + 2 t)`` with
``t ~ Uniform(0, 1)`` becomes the point ``(a cos a, a sin a)``. Here the points
are multiplied by ``SCALE = 0.1`` so that they span roughly [-1.4, 1.4], and
Gaussian noise is added in those scaled units. Written with torch only.

``swiss_roll_log_density`` is the exact log-density of that data (a 1-D
integral along the roll, done on a fine grid), ``distance_to_roll`` measures
how far points lie from the noise-free roll, ``energy_distance`` compares
two point clouds, and ``plot_posterior_ellipses``
draws diagonal-Gaussian posteriors in a 2-D latent plane.
"""

from __future__ import annotations

import math

import torch

SCALE = 0.1
"""Factor applied to scikit-learn's roll coordinates (which span about [-14, 14])."""

ANGLE_RANGE = (1.5 * math.pi, 4.5 * math.pi)
"""The roll's angle a, in radians, at position t = 0 (inner end) and t = 1 (outer end)."""


def swiss_roll_curve(t: torch.Tensor) -> torch.Tensor:
    """The noise-free roll: positions t (n,) in [0, 1] -> points (n, 2), same dtype and device.

    t = 0 is the inner end of the spiral, t = 1 the outer end.
    """
    if t.dim() != 1:
        raise ValueError(f"t must have shape (n,), got {tuple(t.shape)}.")
    low, high = ANGLE_RANGE
    angle = low + (high - low) * t
    return SCALE * torch.stack([angle * torch.cos(angle), angle * torch.sin(angle)], dim=1)


def make_swiss_roll(
    n: int,
    noise: float = 0.05,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw n points of the 2-D Swiss roll.

    Returns ``(points, t)``: points is a float32 tensor of shape (n, 2), in the
    scaled units described in the module docstring (roughly within [-1.5, 1.5]);
    t is a float32 tensor of shape (n,) with each point's position along the
    roll in [0, 1] (0 = inner end, 1 = outer end), for colouring.

    noise: standard deviation of the Gaussian noise added to each coordinate,
    in the same scaled units (0.05 here is scikit-learn's ``noise=0.5``).
    seed or generator: the random source (give at most one); with neither,
    torch's global generator is used. The numbers are drawn on the CPU and then
    moved to ``device``, so a seed gives the same points on every device.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if not noise >= 0:
        raise ValueError(f"noise must be a non-negative standard deviation, got {noise!r}.")
    if seed is not None and generator is not None:
        raise ValueError("give either seed or generator, not both.")
    if seed is not None:
        generator = torch.Generator().manual_seed(int(seed))
    t = torch.rand(n, generator=generator)
    points = swiss_roll_curve(t) + noise * torch.randn(n, 2, generator=generator)
    return points.to(device=device, dtype=torch.float32), t.to(device=device, dtype=torch.float32)


@torch.no_grad()
def swiss_roll_log_density(
    points: torch.Tensor, noise: float = 0.05, n_grid: int = 4000, chunk: int = 1024
) -> torch.Tensor:
    """log p_data(x) of ``make_swiss_roll(..., noise)`` at points (n, 2), shape (n,), in nats.

    The data density is p(x) = integral over t in [0, 1] of N(x; curve(t), noise^2 I) dt,
    evaluated as the average over n_grid evenly spaced t (the midpoint rule). The
    grid step along the roll (about 9 units long) must stay well below ``noise``:
    the default 4000 points give a step of about 0.002. Densities are per unit
    area in the scaled units, so the mean of -log p_data over data points is the
    entropy of the data in nats per point: no model can do better on average.
    """
    if not noise > 0:
        raise ValueError(f"noise must be positive for a density to exist, got {noise!r}.")
    results = []
    for squared in _squared_distances_to_roll(points, n_grid, chunk):
        log_normal = -0.5 * squared / noise**2 - math.log(2 * math.pi * noise**2)
        results.append(torch.logsumexp(log_normal, dim=1) - math.log(n_grid))
    return torch.cat(results).to(points.dtype)


def _squared_distances_to_roll(points: torch.Tensor, n_grid: int, chunk: int):
    """Yield, chunk by chunk, squared distances (chunk, n_grid) from points to a roll grid."""
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {tuple(points.shape)}.")
    grid = (torch.arange(n_grid, dtype=torch.float64, device=points.device) + 0.5) / n_grid
    centres = swiss_roll_curve(grid)
    x = points.double()
    for start in range(0, len(x), chunk):
        yield (x[start : start + chunk, None, :] - centres[None, :, :]).pow(2).sum(-1)


@torch.no_grad()
def distance_to_roll(points: torch.Tensor, n_grid: int = 4000, chunk: int = 1024) -> torch.Tensor:
    """Euclidean distance from each point (n, 2) to the noise-free roll, shape (n,).

    Measured to the nearest of n_grid evenly spaced points of ``swiss_roll_curve``
    (spacing about 0.002), in the scaled units of ``make_swiss_roll``. With
    Gaussian noise of standard deviation s, data points lie within 3 s of the
    roll with probability about 99.7%.
    """
    results = [
        squared.min(dim=1).values.sqrt()
        for squared in _squared_distances_to_roll(points, n_grid, chunk)
    ]
    return torch.cat(results).to(points.dtype)


def _mean_pairwise_distance(
    a: torch.Tensor, b: torch.Tensor, chunk: int, same: bool = False
) -> torch.Tensor:
    """Mean of |a_i - b_j| over all pairs; with same=True (b is a) over pairs i != j."""
    total = torch.zeros((), dtype=torch.float64, device=a.device)
    for start in range(0, len(a), chunk):
        block = a[start : start + chunk]
        distances = (block[:, None, :] - b[None, :, :]).pow(2).sum(-1).sqrt()
        total = total + distances.sum(dtype=torch.float64)
    # The i = j terms are zero distances; leaving them out of the count is what
    # makes the within-sample means unbiased.
    pairs = len(a) * (len(b) - 1) if same else len(a) * len(b)
    return total / pairs


@torch.no_grad()
def energy_distance(x: torch.Tensor, y: torch.Tensor, chunk: int = 1024) -> float:
    """Unbiased estimate of the energy distance between the distributions of x (n, d) and y (m, d).

        E(x, y) = 2 mean|x_i - y_j| - mean_{i != k}|x_i - x_k| - mean_{j != l}|y_j - y_l|

    with Euclidean norms. Leaving the i = k pairs out of the within-sample means
    makes this the U-statistic: its expectation is the energy distance of the two
    distributions, so for two samples of one distribution it is 0 on average and
    negative about half the time (the all-pairs V-statistic is biased upwards by
    about (mean|x - x'| / n + mean|y - y'| / m)). Needs n, m >= 2. It is in the
    units of the points (here the scaled units of ``make_swiss_roll``). Cost:
    O((n + m)^2) distances, computed ``chunk`` rows at a time, summed in float64.
    """
    for name, cloud in (("x", x), ("y", y)):
        if not isinstance(cloud, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(cloud).__name__}.")
        if cloud.dim() != 2 or len(cloud) < 2:
            raise ValueError(
                f"{name} must have shape (n, d) with n >= 2, got {tuple(cloud.shape)}."
            )
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x {tuple(x.shape)} and y {tuple(y.shape)} have different dimensions d.")
    x, y = x.double(), y.double().to(x.device)
    value = (
        2 * _mean_pairwise_distance(x, y, chunk)
        - _mean_pairwise_distance(x, x, chunk, same=True)
        - _mean_pairwise_distance(y, y, chunk, same=True)
    )
    return value.item()


def plot_posterior_ellipses(
    ax, mu: torch.Tensor, logvar: torch.Tensor, colors=None, n_std: float = 2.0, **kwargs
):
    """Draw q(z|x) = N(mu, diag(exp(logvar))) for each row as an axis-aligned ellipse.

    mu, logvar: (n, 2). Each ellipse has semi-axes n_std * sigma_j, so with
    n_std = 2 it holds about 86% of that Gaussian's mass. colors: one
    matplotlib colour per row (or None). Extra keyword arguments go to
    ``matplotlib.patches.Ellipse``. Returns ax.
    """
    from matplotlib.patches import Ellipse

    if mu.shape != logvar.shape or mu.dim() != 2 or mu.shape[1] != 2:
        raise ValueError(
            f"mu and logvar must both have shape (n, 2), got {tuple(mu.shape)} "
            f"and {tuple(logvar.shape)}."
        )
    mu = mu.detach().cpu()
    sigma = torch.exp(0.5 * logvar.detach().cpu())
    colors = list(colors) if colors is not None else [None] * len(mu)
    style = {"fill": False, "lw": 1.5, **kwargs}
    for (m1, m2), (s1, s2), color in zip(mu.tolist(), sigma.tolist(), colors):
        ax.add_patch(Ellipse((m1, m2), 2 * n_std * s1, 2 * n_std * s2, edgecolor=color, **style))
        ax.plot(m1, m2, marker="+", color=color, ms=8)
    return ax
