"""Chapter 3's checkers (vae_lib/exercises/ch3.py): conv-ex-sigma and conv-ex-28.

For each: the chapter's reference solution passes, slips that a learner would
make fail on the case named after them, and the untouched stub is "not
attempted yet". conv-ex-bn and conv-ex-full are predict-then-run exercises
without a checker.
"""

import math
import time

import pytest
import torch
from torch import nn

import vae_lib as vl
from vae_lib.exercises import ch3, check, checkers

SIGMA, PADDING = "conv-ex-sigma", "conv-ex-28"


def _stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


def _conv_out(n):
    """The chapter's conv_out: side after Conv2d(kernel 3, stride 2, padding 1)."""
    return (n + 2 * 1 - 3) // 2 + 1


# --- conv-ex-sigma ----------------------------------------------------------------------


def post_sigma(w, n_pixels):
    """The chapter's solution."""
    return math.sqrt(n_pixels * w / 2)


SIGMA_SLIPS = {
    "no factor 2: 1/sigma^2 : 1 = 1/n : w": (
        lambda w, n_pixels: math.sqrt(n_pixels * w),
        "sigma = 1: the 2 of 1/(2 sigma^2), on the [-1, 1] scale",
    ),
    "the [0, 1] scale of vl.implied_sigma": (
        lambda w, n_pixels: vl.implied_sigma(w, 1 / n_pixels, data_width=2),
        "sigma = 1: the 2 of 1/(2 sigma^2), on the [-1, 1] scale",
    ),
    "sigma^2 for sigma": (
        lambda w, n_pixels: n_pixels * w / 2,
        "sigma, not sigma^2: the post's w = 0.00025",
    ),
    "1024 pixels written in": (
        lambda w, n_pixels: math.sqrt(1024 * w / 2),
        "n_pixels is an argument: 28 x 28 = 784 pixels",
    ),
}


def test_sigma_reference_passes():
    assert check(SIGMA, post_sigma, quiet=True).passed
    assert check(SIGMA, ch3._post_sigma, quiet=True).passed


def test_sigma_accepts_a_tensor_answer():
    as_tensor = lambda w, n_pixels: torch.tensor(n_pixels * w / 2).sqrt()  # noqa: E731
    assert check(SIGMA, as_tensor, quiet=True).passed


@pytest.mark.parametrize("slip", SIGMA_SLIPS)
def test_sigma_slips_fail_on_their_case(slip):
    wrong, case = SIGMA_SLIPS[slip]
    result = check(SIGMA, wrong, quiet=True)
    assert (result.passed, result.attempted, result.case) == (False, True, case), result.message


def test_the_post_sigma_matches_the_chapter():
    # sigma^2 = 512 w on [-1, 1]: 0.3578 for w = 0.00025, twice vl.implied_sigma
    assert ch3._post_sigma(0.00025, 1024) == pytest.approx(0.35777, abs=1e-5)
    assert ch3._post_sigma(0.00025, 1024) == pytest.approx(
        2 * vl.implied_sigma(0.00025, 1 / 1024, data_width=2)
    )


# --- conv-ex-28 -------------------------------------------------------------------------


def output_paddings(side):
    """The chapter's solution."""
    down = [side]
    for _ in range(5):
        down.append(_conv_out(down[-1]))
    up = down[::-1]
    return tuple(n - (2 * m - 1) for m, n in zip(up[:-1], up[1:]))


def _encoder_order(side):
    return output_paddings(side)[::-1]


def _halving_with_floor(side):
    """Encoder sides as n // 2: 28, 14, 7, 3, 1, 0."""
    down = [side]
    for _ in range(5):
        down.append(down[-1] // 2)
    up = down[::-1]
    return tuple(n - (2 * m - 1) for m, n in zip(up[:-1], up[1:]))


def _first_odd_side_only(side):
    """Only the block that reaches the first odd side gets 0."""
    up = [side]
    for _ in range(5):
        up.append(_conv_out(up[-1]))
    up = up[::-1][1:]
    first_odd = next((i for i, n in enumerate(up) if n % 2), None)
    return tuple(0 if i == first_odd else 1 for i in range(5))


def _last_block_always_doubles(side):
    return output_paddings(side)[:4] + (1,)


PADDING_SLIPS = {
    "the unchanged decoder": (
        lambda side: (1, 1, 1, 1, 1),
        "28 pixels: the block that goes from 4 to 7",
    ),
    "sides halved with //": (_halving_with_floor, "28 pixels: the block that goes from 4 to 7"),
    "the answer for 28 written in": (
        lambda side: (1, 1, 0, 1, 1),
        "32 pixels: a power of two keeps every output_padding at 1",
    ),
    "the encoder's order": (_encoder_order, "24 pixels: decoder order, from the 1 x 1 map upward"),
    "only one block may change": (_first_odd_side_only, "20 pixels: two odd sides in a row"),
    "the last block always doubles": (_last_block_always_doubles, "27 pixels: an odd input side"),
}


def test_padding_reference_passes():
    assert check(PADDING, output_paddings, quiet=True).passed
    assert check(PADDING, lambda side: list(output_paddings(side)), quiet=True).passed


@pytest.mark.parametrize("slip", PADDING_SLIPS)
def test_padding_slips_fail_on_their_case(slip):
    wrong, case = PADDING_SLIPS[slip]
    result = check(PADDING, wrong, quiet=True)
    assert (result.passed, result.attempted, result.case) == (False, True, case), result.message


@pytest.mark.parametrize("side", [20, 24, 27, 28, 32])
def test_the_expected_paddings_rebuild_the_encoders_sides(side):
    """The checker's expected values, run through real (transposed) convolutions."""
    h = torch.zeros(1, 1, side, side)
    down = [side]
    for _ in range(5):
        h = nn.Conv2d(1, 1, 3, stride=2, padding=1)(h)
        down.append(h.shape[-1])
    for op in ch3._output_paddings(side):
        h = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=op)(h)
        down.pop()
        assert h.shape[-1] == down[-1]
    assert h.shape[-1] == side


# --- both -------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [SIGMA, PADDING])
def test_the_untouched_stub_is_not_attempted(label, capsys):
    result = check(label, _stub)
    assert (result.passed, result.attempted, result.case) == (False, False, None)
    assert "not attempted yet" in capsys.readouterr().out


def test_chapter_3_registers_exactly_its_two_checkers():
    assert {label for label in checkers() if label.startswith("conv-")} == {SIGMA, PADDING}


@pytest.mark.parametrize("label, reference", [(SIGMA, post_sigma), (PADDING, output_paddings)])
def test_a_check_is_fast_and_leaves_the_global_generator_alone(label, reference):
    state = torch.get_rng_state()
    started = time.perf_counter()
    assert check(label, reference, quiet=True).passed
    assert time.perf_counter() - started < 1.0
    assert torch.equal(torch.get_rng_state(), state)
