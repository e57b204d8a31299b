"""The pieces of the VAE objective, all in nats.

Shapes: ``mu`` and ``logvar`` are (B, D) for a batch of B latent codes of
dimension D; images are (B, ...) with any trailing shape. Every function
returns one number per example, shape (B,), summed over latent dimensions or
pixels; average over the batch yourself. The ELBO is maximised; every loss
here is its negative (or a part of it), so it is minimised.
"""

from __future__ import annotations

import math

import torch

from .checks import check_unit_range


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Draw z = mu + sigma * eps with eps ~ N(0, I); differentiable in mu and logvar."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) per example, shape (B,), in nats.

    Equal to 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2) >= 0.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} differ in shape.")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def kl_diag_gaussians(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """KL( N(mu_q, diag e^logvar_q) || N(mu_p, diag e^logvar_p) ) per example, (B,), nats.

    All four inputs broadcast to (B, D). With mu_p = 0 and logvar_p = 0 it
    equals ``kl_standard_normal``.
    """
    var_ratio = torch.exp(logvar_q - logvar_p)
    mahalanobis = (mu_q - mu_p).pow(2) * torch.exp(-logvar_p)
    return 0.5 * (var_ratio + mahalanobis - 1.0 - (logvar_q - logvar_p)).sum(dim=-1)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) for a Bernoulli decoder, per example, shape (B,), in nats.

    logits: decoder output before the sigmoid, same shape as x.
    x: targets in [0, 1] (binary, or grey levels used as soft targets).
    """
    if logits.shape != x.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} and targets {tuple(x.shape)} differ in shape; "
            "reshape the decoder output to the image shape."
        )
    check_unit_range(x, "The Bernoulli decoder's targets")
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()  # under autocast: the sum over pixels in float32
    nll = _BernoulliNLL.apply(logits, x.to(logits.dtype))
    return nll.flatten(start_dim=1).sum(dim=1)


class _BernoulliNLL(torch.autograd.Function):
    """Per pixel -log Bernoulli(x; sigmoid(l)) = softplus(l) - x * l, in nats.

    The same values as ``F.binary_cross_entropy_with_logits(l, x,
    reduction="none")`` (to float rounding: at most 1.2e-7 nats per pixel
    in float32), 1.5x as fast on a CPU, where torch's log-sigmoid and log1p
    kernels are not vectorised. softplus(l) = max(l, 0) + log(1 + e^-|l|)
    never overflows; the gradient is written by hand: d/dl = sigmoid(l) - x,
    d/dx = -l.
    """

    @staticmethod
    def forward(ctx, logits, x):
        ctx.save_for_backward(logits, x)
        softplus = logits.clamp_min(0) + torch.log(1 + torch.exp(-logits.abs()))
        return softplus - x * logits

    @staticmethod
    def backward(ctx, grad):
        logits, x = ctx.saved_tensors
        grad_logits = (torch.sigmoid(logits) - x) * grad if ctx.needs_input_grad[0] else None
        grad_x = -logits * grad if ctx.needs_input_grad[1] else None
        return grad_logits, grad_x


def gaussian_nll(
    mean: torch.Tensor, x: torch.Tensor, log_sigma: float | torch.Tensor = 0.0
) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) per example, shape (B,), in nats.

    log_sigma: the decoder's log standard deviation, a float or a tensor
    broadcastable to x. Unlike a plain MSE, this keeps the constant
    0.5 * log(2 pi sigma^2) per dimension, so it is a proper likelihood.
    """
    if mean.shape != x.shape:
        raise ValueError(f"mean {tuple(mean.shape)} and x {tuple(x.shape)} differ in shape.")
    log_sigma = torch.as_tensor(log_sigma, dtype=x.dtype, device=x.device)
    per_dim = (
        0.5 * ((x - mean) * torch.exp(-log_sigma)).pow(2) + log_sigma + 0.5 * math.log(2 * math.pi)
    )
    return per_dim.expand_as(x).flatten(start_dim=1).sum(dim=1)


def bernoulli_vae_loss(
    model, x: torch.Tensor, y: torch.Tensor | None = None, beta: float = 1.0
) -> dict:
    """Negative ELBO of a Bernoulli-decoder VAE, averaged over the batch (nats per image).

    ``model(x)`` must return ``(logits, mu, logvar)`` with logits shaped like x.
    Returns ``{"loss": recon + beta * kl, "recon": ..., "kl": ...}``, each a
    scalar tensor. With beta = 1, ``loss`` is exactly -ELBO. ``y`` is unused
    (it is part of the loss protocol that ``fit`` follows).
    """
    logits, mu, logvar = model(x)
    recon = bernoulli_nll(logits, x).mean()
    kl = kl_standard_normal(mu, logvar).mean()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


def cvae_loss(model, x: torch.Tensor, y: torch.Tensor) -> dict:
    """Negative conditional ELBO of a ``CVAE`` with its learned prior p(z|y),
    averaged over the batch (nats per image), as chapter 5 derives it.

    ``model(x, y)`` must return ``(logits, mu, logvar, mu_p, logvar_p)``.
    Returns ``{"loss": recon + kl, "recon": ..., "kl": ...}``, scalar tensors.
    """
    logits, mu, logvar, mu_p, logvar_p = model(x, y)
    recon = bernoulli_nll(logits, x).mean()
    kl = kl_diag_gaussians(mu, logvar, mu_p, logvar_p).mean()
    return {"loss": recon + kl, "recon": recon, "kl": kl}


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | z) for a Bernoulli decoder given its logits, per example (B,), nats."""
    return -bernoulli_nll(logits, x)


_IW_ROWS = 2048
"""Decoded images per block in ``iw_log_likelihood`` (about 6 MB for MNIST)."""


def _block_log_likelihood(model, z, xb, log_likelihood) -> torch.Tensor:
    """log p(xb | z) for a block z (b, B, D) of samples: shape (b, B), in nats."""
    b, n, d = z.shape
    params = model.decode(z.reshape(b * n, d))
    x_rep = xb.unsqueeze(0).expand((b,) + tuple(xb.shape)).reshape((b * n,) + tuple(xb.shape[1:]))
    return log_likelihood(params, x_rep).reshape(b, n)


@torch.no_grad()
def iw_log_likelihood(
    model, x: torch.Tensor, k: int = 100, chunk: int = 500, log_likelihood=bernoulli_log_likelihood
) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) per example, shape (B,), in nats.

        log p(x) >= E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ],  z_i ~ q(z|x)

    (Burda et al. 2015). k = 1 gives the ELBO; the bound tightens towards
    log p(x) as k grows. The prior is p(z) = N(0, I).
    model: ``encode(x) -> (mu, logvar)``, each (B, D), and ``decode(z) -> params``.
    log_likelihood(params, x) -> log p(x|z) per example; the default is a
    Bernoulli decoder whose params are logits. Examples are processed ``chunk``
    at a time, each with k samples, so memory grows with k * chunk decoded
    outputs: shrink ``chunk`` when k is large. When q is narrower than the true
    posterior the importance weights can have infinite variance; repeat the
    estimate and report its spread before trusting a small difference.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    results = []
    for start in range(0, len(x), chunk):
        xb = x[start : start + chunk]
        mu, logvar = model.encode(xb)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k,) + tuple(mu.shape), device=mu.device, dtype=mu.dtype)
        z = mu + std * eps  # (k, B, D)
        log_q = (-0.5 * eps.pow(2) - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_prior = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
        # Decode the k samples a block at a time: blocks of about _IW_ROWS
        # decoded images stay in the CPU's cache, which is faster than one
        # pass over k * chunk images, and the same numbers.
        block = max(1, _IW_ROWS // len(xb))
        log_lik = torch.cat(
            [
                _block_log_likelihood(model, z[i : i + block], xb, log_likelihood)
                for i in range(0, k, block)
            ]
        )
        results.append(torch.logsumexp(log_lik + log_prior - log_q, dim=0) - math.log(k))
    return torch.cat(results)
