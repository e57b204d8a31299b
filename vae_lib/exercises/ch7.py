"""Checkers for chapter 7's exercises and the speed appendix's (res-ex-flops).

res-ex-k: ``one_over_k_ratio(k0, k1, k2)``. k0 < k1 < k2: numbers of
    importance samples (ints). If the IS-NLL exceeded -log p(x) by exactly
    C / k, it would drop by C (1/k0 - 1/k1) from k0 to k1 and by
    C (1/k1 - 1/k2) from k1 to k2. Returns the second drop divided by the
    first (a float; C cancels).
res-ex-flops: ``layer_step_flops(batch, n_in, n_out, first)``. The FLOPs
    (an int) that the matrix products of one nn.Linear layer with n_in
    inputs and n_out outputs cost in one training step at batch size batch:
    2 * batch * n_in * n_out for the forward product, as much for the
    gradient of the weights and as much for the gradient of the input,
    which the first layer (first=True, whose input is the data) does not
    need. Biases, activations and the optimiser are not counted.

res-ex-paired: ``paired_se(a, b)``. a, b: (n,) float tensors of per-image
    values of two models on the same n images. Returns the standard error of
    the mean of a - b (a float): the standard deviation of the n differences,
    with n - 1 in its denominator, over sqrt(n).

res-ex-batch (in the speed appendix) and res-ex-gap are predict-then-run
exercises and have no checker.

All cases run on the CPU in well under a second.
"""

from __future__ import annotations

import torch

from ._core import Case, checker


def _one_over_k_ratio(k0: int, k1: int, k2: int) -> float:
    return (1 / k1 - 1 / k2) / (1 / k0 - 1 / k1)


@checker("res-ex-k")
def _k_cases() -> list:
    ks = {
        # 1/3 - 1/4 = 1/4 - 1/6: equal drops in 1/k, unequal ones in k and in log k
        "drops in 1/k, not in k or in log k (k = 3, 4, 6)": (3, 4, 6),
        "the later drop over the earlier one, not the reverse (k = 1, 10, 100)": (1, 10, 100),
        "a fivefold step after a tenfold one (k = 100, 1000, 5000)": (100, 1000, 5000),
    }
    return [Case(name, k, expected=_one_over_k_ratio(*k), atol=0.0) for name, k in ks.items()]


def _layer_step_flops(batch: int, n_in: int, n_out: int, first: bool) -> int:
    products = 2 if first else 3
    return 2 * batch * n_in * n_out * products


@checker("res-ex-flops")
def _flops_cases() -> list:
    layers = {
        "a later layer: forward, weight-gradient and input-gradient products, "
        "2 FLOPs per multiply-add, no biases": (8, 5, 3, False),
        "the first layer: no gradient for its input, the data": (8, 5, 3, True),
        "the chapter's first layer, 784 -> 256 at batch 64": (64, 784, 256, True),
        "the encoder's output layer, 256 -> 20 at batch 64": (64, 256, 20, False),
    }
    return [
        Case(name, shape, expected=_layer_step_flops(*shape), rtol=0.0, atol=0.5)
        for name, shape in layers.items()
    ]


def _paired_se(a: torch.Tensor, b: torch.Tensor) -> float:
    d = (a - b).double()
    return (d.std() / len(d) ** 0.5).item()


@checker("res-ex-paired")
def _paired_cases() -> list:
    g = torch.Generator().manual_seed(7)
    a = 100 + 10 * torch.randn(50, generator=g, dtype=torch.float64)
    b = a + 2 + torch.randn(50, generator=g, dtype=torch.float64)
    pairs = {
        "the spread of the differences, not of each model's values": (a, b),
        "a constant shift has no spread: zero": (a, a + 3.0),
        "n - 1 in the standard deviation, then over sqrt(n) (n = 4)": (
            torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=torch.float64),
            torch.zeros(4, dtype=torch.float64),
        ),
    }
    return [Case(name, pair, expected=_paired_se(*pair), atol=1e-9) for name, pair in pairs.items()]
