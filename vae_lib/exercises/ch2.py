"""Checkers for chapter 2's exercises (the ELBO) and its deep dives'.

``elbo-ex-meanfield``: ``mean_field_q(post_mean, precision) -> (mu, logvar)``.
    post_mean: (B, D), the posterior means of B observations; precision:
    (D, D), the posterior precision Lambda. Returns the diagonal Gaussian
    q = N(mu, diag e^logvar) closest to N(post_mean, Lambda^-1) in KL(q || p),
    for every row: mu = post_mean and logvar = log(1 / Lambda_jj), each (B, D).

``elbo-ex-baseline``: ``score_gradients_with_baseline(f, z, mu, logvar) -> (n, D)``.
    z: (n, D), n samples of q = N(mu, diag e^logvar); f: (n,), the values
    f(z_i); mu, logvar: (1, D). Returns the n single-sample score-function
    estimates of d/dmu E_q[f(z)] with the baseline c = mean of f over the
    samples: (f_i - c) (z_i - mu) / sigma^2, sigma^2 = e^logvar.

``elbo-ex-kl-weight``: ``beta_from_weight(w, x_dim, sigma) -> float``.
    The weight beta of the summed loss -E_q log p(x|z) + beta KL, for the
    linear-Gaussian model with decoder noise sigma, that has the same
    minimising q as (1/x_dim) E_q ||x - W z - b||^2 + w KL on observations
    of x_dim entries: beta = w x_dim / (2 sigma^2), a number.

``elbo-ex-positive`` is a predict-then-run exercise and has no checker.
"""

from __future__ import annotations

import torch

from ._core import Case, checker

_F64 = torch.float64


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=_F64)


# ----------------------------------------------------------------- elbo-ex-meanfield
def _mean_field_q(post_mean, precision):
    """Reference: mu = the posterior mean, logvar = -log Lambda_jj, each (B, D)."""
    logvar = -torch.log(torch.diagonal(precision))
    return post_mean.clone(), logvar.expand_as(post_mean).clone()


@checker("elbo-ex-meanfield")
def _meanfield_cases() -> list[Case]:
    g = torch.Generator().manual_seed(1)
    mean = _randn(g, 3, 2)
    a = _randn(g, 3, 3)
    specs = [
        (
            "Lambda = I: logvar 0 (a log-variance) in each of B = 3 rows, mu and logvar (B, D)",
            mean,
            torch.eye(2, dtype=_F64),
        ),
        (
            "Lambda = diag(4, 1/4): logvar = -log Lambda_jj (not +log, not log sigma)",
            mean,
            torch.diag(torch.tensor([4.0, 0.25], dtype=_F64)),
        ),
        (
            "correlated Lambda: variances 1/Lambda_jj, not the marginals (Lambda^-1)_jj",
            mean,
            torch.tensor([[2.0, 1.2], [1.2, 1.5]], dtype=_F64),
        ),
        (
            "D = 3, one observation",
            _randn(g, 1, 3),
            a @ a.T + 0.5 * torch.eye(3, dtype=_F64),
        ),
    ]
    return [Case(name, (m, p), expected=_mean_field_q(m, p)) for name, m, p in specs]


# ------------------------------------------------------------------ elbo-ex-baseline
def _baseline_gradients(f, z, mu, logvar):
    """Reference: (f_i - mean f) (z_i - mu) / sigma^2, (n, D)."""
    return (f - f.mean())[:, None] * (z - mu) * torch.exp(-logvar)


@checker("elbo-ex-baseline")
def _baseline_cases() -> list[Case]:
    g = torch.Generator().manual_seed(2)
    mu = torch.tensor([[0.5, -1.0]], dtype=_F64)
    z = mu + _randn(g, 4, 2)
    f = 3.0 + _randn(g, 4)
    specs = [
        (
            "f the same for every sample: the baseline cancels it, zeros of shape (n, D)",
            torch.full((4,), 5.0, dtype=_F64),
            z,
            mu,
            torch.zeros(1, 2, dtype=_F64),
        ),
        (
            "logvar = 0: the score d/dmu log q is +(z - mu), not (mu - z)",
            f,
            z,
            mu,
            torch.zeros(1, 2, dtype=_F64),
        ),
        (
            "sigma^2 = (4, 1/4): the score divides by sigma^2, not sigma, and does not multiply",
            f,
            mu + _randn(g, 4, 2) * torch.tensor([2.0, 0.5], dtype=_F64),
            mu,
            torch.log(torch.tensor([[4.0, 0.25]], dtype=_F64)),
        ),
        (
            "D = 3, n = 6 samples",
            10 + _randn(g, 6),
            _randn(g, 6, 3),
            _randn(g, 1, 3),
            _randn(g, 1, 3),
        ),
    ]
    return [
        Case(name, (f_, z_, m_, lv_), expected=_baseline_gradients(f_, z_, m_, lv_))
        for name, f_, z_, m_, lv_ in specs
    ]


# ----------------------------------------------------------------- elbo-ex-kl-weight
def _beta_from_weight(w, x_dim, sigma):
    """Reference: beta = w x_dim / (2 sigma^2)."""
    return w * x_dim / (2 * sigma**2)


@checker("elbo-ex-kl-weight")
def _kl_weight_cases() -> list[Case]:
    specs = [
        ("w = 2, x_dim = 1, sigma = 1: beta = 1, with the 2 of 1 / (2 sigma^2)", (2.0, 1, 1.0)),
        ("w = 0.5, x_dim = 1, sigma = 1: beta grows with w, not as 1 / w", (0.5, 1, 1.0)),
        ("x_dim = 784: the mean over the entries makes beta x_dim times larger", (0.5, 784, 1.0)),
        ("sigma = 0.5: beta divides by sigma^2, not by sigma", (0.4, 5, 0.5)),
        ("post 001's w = 0.00025, x_dim = 1024, at sigma = 0.2", (0.00025, 1024, 0.2)),
    ]
    return [Case(name, args, expected=_beta_from_weight(*args)) for name, args in specs]
