"""Checkers for chapter 5's exercises (the conditional VAE).

cvae-ex-lookup: ``prior_table(prior_net, n_labels=10)``. prior_net is a
    torch module that maps one-hot labels, a float32 (B, n_labels) tensor, to
    (B, 2 * z_dim): the prior's means, then its log-variances. Returns the
    (n_labels, 2 * z_dim) tensor whose row d is prior_net's output for label
    d, the weight of an ``nn.Embedding`` that can replace the network.
cvae-ex-classify: ``label_log_posterior(log_px_y)``. log_px_y is a
    (B, n_labels) tensor of log p(x | y = d) in nats, for B images and every
    label d. Returns log p(y = d | x), (B, n_labels), under a uniform p(y):
    for each image, the exponentials of its row sum to one.
cvae-ex-weight: ``matched_kl_weight(mse, d_x)``. mse: a model's mean squared
    error per pixel on [0, 1] pixels (a float); d_x: the number of pixels per
    image (an int). Returns the KL weight w of the loss ``mean MSE + w * KL``
    whose implied decoder variance, w * d_x / 2, equals mse (a float).

All cases run on the CPU in float32 or float64, in well under a second.
"""

from __future__ import annotations

import torch
from torch import nn

from ._core import Case, checker


def _prior_net(n_labels: int, z_dim: int, hidden: int | None, seed: int) -> nn.Module:
    """A small prior network with seeded weights; the global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if hidden is None:
            return nn.Linear(n_labels, 2 * z_dim)
        return nn.Sequential(nn.Linear(n_labels, hidden), nn.ReLU(), nn.Linear(hidden, 2 * z_dim))


def _prior_table(prior_net: nn.Module, n_labels: int = 10) -> torch.Tensor:
    with torch.no_grad():
        return prior_net(torch.eye(n_labels))


@checker("cvae-ex-lookup")
def _lookup_cases() -> list:
    shapes = {  # name: (n_labels, z_dim, hidden units or None for one nn.Linear, seed)
        "ten labels: row d is the network on the one-hot float vector of d, "
        "means and log-variances": (10, 2, 8, 0),
        "three labels, not always ten": (3, 2, 8, 1),
        "a network of one nn.Linear: call the network, do not read its layers": (4, 3, None, 2),
    }
    cases = []
    for name, (n_labels, z_dim, hidden, seed) in shapes.items():
        net = _prior_net(n_labels, z_dim, hidden, seed)
        cases.append(Case(name, (net, n_labels), expected=_prior_table(net, n_labels)))
    return cases


def _label_log_posterior(log_px_y: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(log_px_y, dim=1)


@checker("cvae-ex-classify")
def _classify_cases() -> list:
    gen = torch.Generator().manual_seed(5)
    one_image = -100 + 3 * torch.randn(1, 10, generator=gen, dtype=torch.float64)
    ten_images = -100 + 3 * torch.randn(10, 10, generator=gen, dtype=torch.float64)
    far_down = -1000 + 5 * torch.randn(4, 10, generator=gen, dtype=torch.float64)
    return [
        Case(
            "one image: log-probabilities (not probabilities), normalised over the labels",
            (one_image,),
            expected=_label_log_posterior(one_image),
        ),
        Case(
            "ten images of ten labels: each image's row normalised over its labels "
            "(dim=1, keepdim=True)",
            (ten_images,),
            expected=_label_log_posterior(ten_images),
        ),
        Case(
            "log-likelihoods near -1000 nats: exp underflows to 0, stay in log space "
            "(torch.logsumexp)",
            (far_down,),
            expected=_label_log_posterior(far_down),
        ),
    ]


def _matched_kl_weight(mse: float, d_x: int) -> float:
    return 2 * mse / d_x


@checker("cvae-ex-weight")
def _weight_cases() -> list:
    return [
        Case(
            "MSE 1: the 2 of sigma^2 = w d_x / 2",
            (1.0, 784),
            expected=_matched_kl_weight(1.0, 784),
            atol=0.0,
        ),
        Case(
            "sigma^2, not sigma: the MSE is already a variance",
            (0.0136, 784),
            expected=_matched_kl_weight(0.0136, 784),
            atol=0.0,
        ),
        Case(
            "a 32 x 32 image: d_x = 1024, not always 784",
            (0.0136, 1024),
            expected=_matched_kl_weight(0.0136, 1024),
            atol=0.0,
        ),
    ]
