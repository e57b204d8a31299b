"""Checkers for chapter 3's exercises (the convolutional VAE).

conv-ex-sigma: ``post_sigma(w, n_pixels)``, a float (or a 0-dim tensor): the
    standard deviation sigma, on the data's [-1, 1] scale, of the Gaussian
    decoder N(x; x_hat, sigma^2 I) whose exact negative ELBO is proportional
    (up to an additive constant) to post 001's loss, the squared error
    averaged over ``n_pixels`` pixels plus ``w`` times the KL in nats per
    image. The answer is sigma^2 = n_pixels * w / 2.

conv-ex-28: ``output_paddings(side)``, a tuple of five ints: the
    ``output_padding`` of each of the decoder's five transposed convolutions
    (kernel 3, stride 2, padding 1), in the decoder's order (the first one
    leaves the 1 x 1 code map), that make the decoder climb back through the
    same sides as the encoder's five stride-2 convolutions take a
    ``side`` x ``side`` image down through. For side 28: (1, 1, 0, 1, 1).

conv-ex-bn and conv-ex-full are predict-then-run exercises: the learner
writes a prediction and the chapter's solution cell prints it beside what it
measures. They have no checker.
"""

from __future__ import annotations

import math

from ._core import Case, checker

_N_BLOCKS = 5


def _post_sigma(w: float, n_pixels: int) -> float:
    """sigma on the [-1, 1] scale: 1 / n_pixels : w = 1 / (2 sigma^2) : 1."""
    return math.sqrt(n_pixels * w / 2)


def _conv_side(n: int) -> int:
    """Side after Conv2d(kernel 3, stride 2, padding 1)."""
    return (n + 2 - 3) // 2 + 1


def _output_paddings(side: int) -> tuple:
    """ConvTranspose2d(3, stride 2, padding 1) maps m to 2m - 1 + output_padding."""
    sides = [side]
    for _ in range(_N_BLOCKS):
        sides.append(_conv_side(sides[-1]))
    up = sides[::-1]  # the decoder's sides, from the 1 x 1 map upward
    return tuple(n - (2 * m - 1) for m, n in zip(up[:-1], up[1:]))


@checker("conv-ex-sigma")
def _sigma_cases() -> list:
    def case(name, w, n_pixels):
        return Case(name, (w, n_pixels), expected=_post_sigma(w, n_pixels))

    return [
        # sigma = 1 here, so sigma^2 for sigma cannot show; 1/(2 sigma^2)
        # for 1/sigma^2 gives sqrt(2), the [0, 1] scale gives 1/2.
        case("sigma = 1: the 2 of 1/(2 sigma^2), on the [-1, 1] scale", 2 / 1024, 1024),
        case("sigma, not sigma^2: the post's w = 0.00025", 0.00025, 1024),
        case("n_pixels is an argument: 28 x 28 = 784 pixels", 0.00025, 784),
    ]


@checker("conv-ex-28")
def _output_padding_cases() -> list:
    def case(name, side):
        return Case(name, (side,), expected=_output_paddings(side))

    return [
        case("28 pixels: the block that goes from 4 to 7", 28),
        case("32 pixels: a power of two keeps every output_padding at 1", 32),
        # 28 reads the same both ways; 24 gives (1, 0, 1, 1, 1)
        case("24 pixels: decoder order, from the 1 x 1 map upward", 24),
        case("20 pixels: two odd sides in a row", 20),
        case("27 pixels: an odd input side", 27),
    ]
