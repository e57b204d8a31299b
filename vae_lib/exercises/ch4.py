"""Checkers for chapter 4's exercises (the Swiss roll).

swiss-ex-linear: ``merge_linear(first, second)`` -> ``(weight, bias)``: for two
    ``nn.Linear`` layers applied one after the other, ``second(first(z))``,
    the weight, shape (second.out_features, first.in_features), and the bias,
    shape (second.out_features,), of the one linear layer that gives the same
    output: W2 W1 and W2 b1 + b2 (``nn.Linear`` keeps its weight as
    (out, in)). The layers of the cases are float64.

swiss-ex-sigma: ``optimal_sigma(mean, x)``, a float (or a 0-dim tensor):
    decoder means ``mean`` (B, d_x), one sampled code per point, and the
    points ``x`` (B, d_x); the decoder sigma that maximises the ELBO when
    everything else is held fixed, the root of the squared error per
    coordinate, averaged over the B points and the d_x coordinates. In the
    units of x.

swiss-ex-collapse: ``collapsed_decoder(x)`` -> ``(centre, mse)``: points
    ``x`` (N, d_x). A decoder that ignores z returns one point c for every
    code; ``centre`` (d_x,) is the c that minimises the post's squared error
    averaged over the N points and the d_x coordinates (the data mean), and
    ``mse`` (a float or a 0-dim tensor) that smallest squared error per
    coordinate: the variance of each coordinate with divisor N, averaged over
    the coordinates.

swiss-ex-perfect: ``perfect_log_density(x, sigma)`` -> (n,) tensor:
    log p_theta(x) in nats at points ``x`` (n, 2), float64, of the model with
    a one-dimensional code z ~ N(0, 1) and the decoder
    N(x; roll(Phi(z)), sigma^2 I) (roll: ``vae_lib.toy.swiss_roll_curve``,
    Phi: the standard normal CDF), found by integrating over z. It equals the
    log-density of the data made with noise sigma; compared to 1e-3 nats.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._core import Case, checker

_F64 = torch.float64


def _draw(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=_F64)


def _linear(n_in: int, n_out: int, seed: int, bias: bool) -> nn.Linear:
    """A float64 nn.Linear with seeded weights; bias=False leaves the bias at zero.

    skip_init leaves torch's global random generator alone.
    """
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out, dtype=_F64)
    with torch.no_grad():
        layer.weight.copy_(_draw(seed, n_out, n_in))
        layer.bias.copy_(_draw(seed + 100, n_out) if bias else torch.zeros(n_out, dtype=_F64))
    return layer


@torch.no_grad()
def _merge_linear(first: nn.Linear, second: nn.Linear) -> tuple:
    """W2 (W1 z + b1) + b2 = (W2 W1) z + (W2 b1 + b2)."""
    return second.weight @ first.weight, second.weight @ first.bias + second.bias


@checker("swiss-ex-linear")
def _linear_cases() -> list:
    def case(name, sizes, seed, b1, b2):
        first = _linear(sizes[0], sizes[1], seed, b1)
        second = _linear(sizes[1], sizes[2], seed + 1, b2)
        return Case(name, (first, second), expected=_merge_linear(first, second))

    return [
        # W2^T W1 has the right shape here; W1 W2 raises.
        case(
            "W2 W1: nn.Linear keeps its weight as (out, in); no biases", (2, 4, 4), 0, False, False
        ),
        case("the first bias goes through the second layer: W2 b1", (2, 4, 4), 2, True, False),
        case("the second bias is added: + b2", (2, 4, 4), 4, False, True),
        case(
            "the post's layers: Linear(2, 128), then Linear(128, 128)", (2, 128, 128), 6, True, True
        ),
    ]


def _optimal_sigma(mean: torch.Tensor, x: torch.Tensor) -> float:
    """sigma*^2 = mean over points of |x - mean|^2, divided by d_x."""
    return (x - mean).pow(2).mean().sqrt().item()


@checker("swiss-ex-sigma")
def _sigma_cases() -> list:
    def case(name, residuals):
        residuals = torch.tensor(residuals, dtype=_F64)
        mean = torch.full_like(residuals, 0.3)  # x = 0 would hide x - mean
        x = mean + residuals
        return Case(name, (mean, x), expected=_optimal_sigma(mean, x))

    random = _draw(0, 6, 2)
    return [
        # sigma* = 1 in the first case, so sigma^2 for sigma cannot show there
        case("per coordinate: divide the summed squared error by d_x", [[1.0, -1.0]]),
        case("sigma, not sigma^2", [[0.5, -0.5]]),
        # every point has the same error, so only the sum over points shows
        case("the mean over the points, not the sum", [[0.5, 0.5]] * 4),
        case("the root of the mean, not the mean of the roots", [[1.0, 1.0], [0.0, 0.0]]),
        case("d_x comes from the data: 3 coordinates", [[1.0, -1.0, 1.0]]),
        case("random points and means", random.tolist()),
    ]


def _collapsed_decoder(x: torch.Tensor) -> tuple:
    """The data mean, and the mean squared distance to it per coordinate (divisor N)."""
    centre = x.mean(dim=0)
    return centre, (x - centre).pow(2).mean().item()


@checker("swiss-ex-collapse")
def _collapse_cases() -> list:
    def case(name, points):
        x = torch.as_tensor(points, dtype=_F64)
        return Case(name, (x,), expected=_collapsed_decoder(x))

    return [
        # identical points: every variance is 0, only the centre can be wrong
        case("the centre is the data mean, not the origin", [[1.5, -0.5]] * 3),
        # one coordinate, variance 1 with divisor N (4/3 with N - 1)
        case("the loss averages over N points: divisor N, not N - 1", [[2.0], [0.0], [2.0], [0.0]]),
        # both coordinates have variance 1: the sum over them gives 2
        case(
            "per coordinate: average over the coordinates, not sum",
            [[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [2.0, 3.0]],
        ),
        case("the squared error, not its root", [[0.0], [1.0], [0.0], [1.0]]),
        case("random points", _draw(1, 50, 2) * torch.tensor([0.7, 0.4], dtype=_F64) + 0.2),
    ]


def _roll(t: torch.Tensor) -> torch.Tensor:
    """The noise-free roll, (n,) -> (n, 2): angle a = 1.5 pi (1 + 2t), point 0.1 (a cos a, a sin a)."""
    angle = 1.5 * math.pi * (1 + 2 * t)
    return 0.1 * torch.stack([angle * torch.cos(angle), angle * torch.sin(angle)], dim=1)


def _log_p_data(x: torch.Tensor, sigma: float, n_grid: int = 20_000) -> torch.Tensor:
    """log of the integral over t in [0, 1] of N(x; roll(t), sigma^2 I) dt, midpoint rule."""
    t = (torch.arange(n_grid, dtype=_F64) + 0.5) / n_grid
    squared = (x[:, None, :] - _roll(t)[None]).pow(2).sum(-1)
    log_normal = -0.5 * squared / sigma**2 - math.log(2 * math.pi * sigma**2)
    return torch.logsumexp(log_normal, dim=1) - math.log(n_grid)


@checker("swiss-ex-perfect")
def _perfect_cases() -> list:
    def case(name, t, offsets, sigma):
        x = _roll(torch.tensor(t, dtype=_F64)) + torch.tensor(offsets, dtype=_F64)
        return Case(name, (x, sigma), expected=_log_p_data(x, sigma), rtol=0.0, atol=1e-3)

    near = ([0.2, 0.5, 0.8], [[0.03, -0.02], [-0.04, 0.01], [0.0, 0.05]])
    return [
        case("points near the roll: weight each z by N(z; 0, 1) dz", *near, 0.05),
        case("sigma is an argument: sigma = 0.1", *near, 0.1),
        # Phi(-4) = 3e-5: a grid that stops at |z| = 4 misses the ends
        case(
            "the ends of the roll, t = 0 and 1: the z grid must reach |z| = 5",
            [0.0, 1.0],
            [[0.0, 0.0]] * 2,
            0.05,
        ),
        case("a batch of one point", [0.35], [[0.02, 0.02]], 0.05),
    ]
