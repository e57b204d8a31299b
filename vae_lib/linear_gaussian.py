"""The linear-Gaussian latent-variable model, whose log p(x) and posterior are exact.

    z ~ N(0, I_D),    x | z ~ N(W z + b, sigma^2 I_{d_x})

is probabilistic PCA (Tipping & Bishop 1999). Its marginal p(x) and posterior
p(z|x) are Gaussians in closed form, so the ELBO chapter and its deep dives
can check every estimator of log p(x), of the ELBO and of its gradients
against the exact answer. Everything here is in nats per observation, and
float64 by default, because the checks compare numbers to 1e-9.

``book_models`` builds the three models the chapter and the deep dives share,
from a fixed generator, so that every notebook sees the same ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import torch
from torch import distributions as dist

from .losses import kl_standard_normal


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_sigma) -> torch.Tensor:
    """log N(x; mean, diag(sigma^2)) summed over the last dimension, in nats.

    x, mean: broadcastable tensors (..., n); log_sigma: a float or a tensor
    broadcastable to them. Returns the broadcast shape without its last
    dimension.
    """
    log_sigma = torch.as_tensor(log_sigma, dtype=x.dtype, device=x.device)
    per_dim = -0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2 - log_sigma
    return (per_dim - 0.5 * math.log(2 * math.pi)).sum(dim=-1)


@dataclass
class LinearGaussian:
    """z ~ N(0, I_D),  x | z ~ N(W z + b, sigma^2 I).

    W: (d_x, D), b: (d_x,), sigma > 0 (the decoder's standard deviation).
    """

    W: torch.Tensor
    b: torch.Tensor
    sigma: float

    def __post_init__(self):
        if self.W.dim() != 2:
            raise ValueError(f"W must be a (d_x, D) matrix, got shape {tuple(self.W.shape)}.")
        if self.b.shape != self.W.shape[:1]:
            raise ValueError(
                f"b must have shape ({self.W.shape[0]},) to match W, got {tuple(self.b.shape)}."
            )
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}.")

    @property
    def z_dim(self) -> int:
        return self.W.shape[1]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder mean W z + b: z (..., D) -> (..., d_x)."""
        return z @ self.W.T + self.b

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n observations from the model, (n, d_x); drawn on the CPU, then moved."""
        kind = dict(dtype=self.W.dtype, generator=generator)
        z = torch.randn(n, self.z_dim, **kind).to(self.W.device)
        noise = torch.randn(n, len(self.b), **kind).to(self.W.device)
        return self.decode(z) + self.sigma * noise

    def log_lik(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z): x (B, d_x), z (..., B, D) -> (..., B)."""
        return gaussian_log_density(x, self.decode(z), math.log(self.sigma))

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x|z) + log p(z): x (B, d_x), z (..., B, D) -> (..., B)."""
        return self.log_lik(x, z) + gaussian_log_density(z, torch.zeros_like(z), 0.0)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x), with p(x) = N(b, W W^T + sigma^2 I): x (B, d_x) -> (B,)."""
        eye = torch.eye(len(self.b), dtype=x.dtype, device=x.device)
        cov = self.W @ self.W.T + self.sigma**2 * eye
        return dist.MultivariateNormal(self.b, covariance_matrix=cov).log_prob(x)

    def posterior_precision(self) -> torch.Tensor:
        """Lambda = I + W^T W / sigma^2, (D, D); the same for every x."""
        eye = torch.eye(self.z_dim, dtype=self.W.dtype, device=self.W.device)
        return eye + self.W.T @ self.W / self.sigma**2

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact p(z|x) = N(mean, cov): x (B, d_x) -> mean (B, D), cov (D, D)."""
        cov = torch.linalg.inv(self.posterior_precision())
        return (x - self.b) @ self.W @ cov / self.sigma**2, cov


def make_model(
    x_dim: int,
    z_dim: int,
    sigma: float = 0.5,
    shape=None,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device=None,
) -> LinearGaussian:
    """A linear-Gaussian model with a random W (x_dim, z_dim) and bias b (x_dim,).

    shape=None: W has N(0, 1/x_dim) entries, so its columns have length about 1.
    shape=M, a (z_dim, z_dim) matrix: W = Q M with Q a random matrix with
    orthonormal columns, so W^T W = M^T M, and with it the posterior
    covariance, is set by M. b has N(0, 0.25) entries. The draws are made on
    the CPU (from ``generator`` if given), so a seed gives the same model on
    every device.
    """
    W = torch.randn(x_dim, z_dim, dtype=dtype, generator=generator)
    if shape is None:
        W = W / math.sqrt(x_dim)
    else:
        M = torch.as_tensor(shape, dtype=dtype)
        if M.shape != (z_dim, z_dim):
            raise ValueError(f"shape must be a ({z_dim}, {z_dim}) matrix, got {tuple(M.shape)}.")
        W = torch.linalg.qr(W).Q @ M
    b = 0.5 * torch.randn(x_dim, dtype=dtype, generator=generator)
    return LinearGaussian(W.to(device), b.to(device), sigma)


def book_models(device=None, dtype: torch.dtype = torch.float64, seed: int = 0) -> SimpleNamespace:
    """The exact models shared by the ELBO chapter and its deep dives, each with one observation.

    ``one_d`` (d_x = 3, D = 1, sigma = 0.6) with ``x_one_d``; ``diag``, whose
    posterior has a diagonal covariance (orthogonal columns of lengths 1.2 and
    0.8), with ``x_diag``; ``corr``, whose posterior is correlated (unit
    columns with cosine 0.8), with ``x_corr``. d_x = 5, D = 2 and sigma = 0.5
    for the last two. Each observation is (1, d_x).
    """
    g = torch.Generator().manual_seed(seed)
    kind = dict(dtype=dtype, device=device)
    one_d = LinearGaussian(
        W=torch.tensor([[1.5], [-0.8], [0.5]], **kind),
        b=torch.zeros(3, **kind),
        sigma=0.6,
    )
    diag = make_model(5, 2, shape=[[1.2, 0.0], [0.0, 0.8]], generator=g, **kind)
    corr = make_model(5, 2, shape=[[1.0, 0.8], [0.0, 0.6]], generator=g, **kind)
    return SimpleNamespace(
        one_d=one_d,
        x_one_d=torch.tensor([[1.0, -0.3, 0.8]], **kind),
        diag=diag,
        x_diag=diag.sample(1, generator=g),
        corr=corr,
        x_corr=corr.sample(1, generator=g),
    )


def expected_log_lik(model: LinearGaussian, x, mu, logvar) -> torch.Tensor:
    """E_q[log p(x|z)] in closed form for q = N(mu, diag e^logvar).

    x (B, d_x); mu, logvar (B, D) -> (B,), nats.
    """
    residual = ((x - model.decode(mu)) ** 2).sum(dim=-1)
    spread = (logvar.exp() * (model.W**2).sum(dim=0)).sum(dim=-1)
    constant = x.shape[-1] * (math.log(model.sigma) + 0.5 * math.log(2 * math.pi))
    return -(residual + spread) / (2 * model.sigma**2) - constant


def elbo(model: LinearGaussian, x, mu, logvar) -> torch.Tensor:
    """The exact ELBO, expected log-likelihood minus KL(q || p(z)): (B,), nats."""
    return expected_log_lik(model, x, mu, logvar) - kl_standard_normal(mu, logvar)


def kl_to_posterior(model: LinearGaussian, x, mu, logvar) -> torch.Tensor:
    """KL(q || p(z|x)) for q = N(mu, diag e^logvar), by torch.distributions: (B,), nats."""
    post_mean, post_cov = model.posterior(x)
    q = dist.MultivariateNormal(mu, covariance_matrix=torch.diag_embed(logvar.exp()))
    return dist.kl_divergence(q, dist.MultivariateNormal(post_mean, covariance_matrix=post_cov))


def best_diagonal_q(model: LinearGaussian, x) -> tuple[torch.Tensor, torch.Tensor]:
    """The diagonal Gaussian closest to p(z|x) in KL(q || p): mu (B, D), logvar (B, D).

    Its means are the posterior means and its variances 1 / Lambda_jj, the
    inverse diagonal of the posterior precision (smaller than the posterior's
    marginal variances wherever the posterior is correlated).
    """
    mean, _ = model.posterior(x)
    return mean, -torch.log(model.posterior_precision().diagonal()).expand_as(mean)


def iw_log_px(model: LinearGaussian, x, mu, logvar, k: int) -> torch.Tensor:
    """One draw of the importance-weighted bound L_k with proposal q = N(mu, diag e^logvar).

    log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ q: x (B, d_x), mu, logvar
    (B, D) -> (B,), nats. k = 1 is a one-sample ELBO estimate.
    """
    if k < 1:
        raise ValueError(f"k must be a positive number of samples, got {k}.")
    log_std = 0.5 * logvar
    z = mu + torch.exp(log_std) * torch.randn((k, *mu.shape), dtype=mu.dtype, device=mu.device)
    log_w = model.log_joint(x, z) - gaussian_log_density(z, mu, log_std)  # (k, B)
    return torch.logsumexp(log_w, dim=0) - math.log(k)


def fit_q(
    loss_fn, steps: int, z_dim: int = 2, lr: float = 0.05, *, dtype=torch.float64, device=None
):
    """Minimise loss_fn(mu, logvar) over a free q = N(mu, diag e^logvar) for one observation.

    Adam from the prior N(0, I); mu and logvar have shape (1, z_dim).
    Returns ((mu, logvar), losses): the final parameters and the loss before
    every step (a list of floats, nats).
    """
    mu = torch.zeros(1, z_dim, dtype=dtype, device=device, requires_grad=True)
    logvar = torch.zeros(1, z_dim, dtype=dtype, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([mu, logvar], lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(mu, logvar).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return (mu.detach(), logvar.detach()), torch.stack(losses).tolist()
