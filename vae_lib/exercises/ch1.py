"""Checkers for chapter 1's exercises (a first VAE: the MLP VAE on MNIST).

``mlp-ex-gaussian``: ``gaussian_decoder_nll(mean, x, sigma) -> (B,)``.
    mean, x: (B, 1, 28, 28); sigma: a float, the decoder's standard deviation.
    Returns -log N(x; mean, sigma^2 I) per image in nats:
    ||x - mean||^2 / (2 sigma^2) + 784 (log sigma + log(2 pi) / 2).

``mlp-ex-latent`` is a predict-then-run exercise (a training run) and has no
checker.
"""

from __future__ import annotations

import math

import torch

from ._core import Case, checker


# ------------------------------------------------------------------- mlp-ex-gaussian
def _gaussian_nll(mean, x, sigma):
    """Reference: -log N(x; mean, sigma^2 I) per image, (B,), in float64."""
    squared = (x.double() - mean.double()).pow(2).flatten(start_dim=1).sum(dim=1)
    pixels = x[0].numel()
    return squared / (2 * sigma**2) + pixels * (math.log(sigma) + 0.5 * math.log(2 * math.pi))


@checker("mlp-ex-gaussian")
def _gaussian_cases() -> list[Case]:
    g = torch.Generator().manual_seed(3)

    def images(b, dtype=torch.float64):
        return torch.rand(b, 1, 28, 28, generator=g, dtype=torch.float64).to(dtype)

    same = images(3)
    x, mean = images(2), images(2)
    x32, mean32 = images(4, torch.float32), images(4, torch.float32)
    specs = [
        (
            "x = mean, sigma = 1/sqrt(2 pi): 784 (log sigma + log(2 pi) / 2) is 0; "
            "one value per image, shape (B,)",
            same[:2],
            same[:2],
            1 / math.sqrt(2 * math.pi),
        ),
        (
            "x = mean, sigma = 1: the constant 784 log(2 pi) / 2, summed over pixels",
            same[:1],
            same[:1],
            1.0,
        ),
        ("a batch of 3: the constant counts the 784 pixels of one image", same, same, 1.0),
        ("sigma = 1: the squared error summed over the pixels and halved", mean, x, 1.0),
        ("sigma = 0.1: the squared error divided by 2 sigma^2, not by 2 sigma", mean, x, 0.1),
        ("float32 images at sigma = 0.3, as a decoder returns them", mean32, x32, 0.3),
    ]
    return [
        Case(name, (m, x_, s), expected=_gaussian_nll(m, x_, s), atol=1e-3)
        for name, m, x_, s in specs
    ]
