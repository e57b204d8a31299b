"""vae_lib.exercises.ch6: each checker passes a right answer and fails the usual wrong ones.

Every wrong solution below is written as a learner would write it, and must fail on
the case built to catch its mistake; the untouched stub must read as not attempted.
"""

import time

import pytest
import torch
from exercise_helpers import assert_fails_on, stub

import vae_lib as vl
from vae_lib.exercises import check

AUROC = "apps-ex-auroc"
AUROC_HIGHER = "anomalies should score higher: P(anomalous > normal), not P(normal > anomalous)"
AUROC_TIES = "ties count one half, neither 0 nor 1"
AUROC_PAIRS = "every (normal, anomalous) pair: not image against image, not against the mean"

BLANK = "apps-ex-blank"
BLANK_ON = (
    "a pixel with p = 0.7 is on in the most likely image (not a blank page, not a grey level)"
)
BLANK_SUM = "nats summed over the pixels, not averaged"
BLANK_OFF = "an off pixel costs -log(1 - p), not -log p and not nothing"


@pytest.mark.parametrize("label", [AUROC, BLANK])
def test_the_untouched_stub_is_not_attempted(label, capsys):
    result = check(label, stub)
    assert not result.attempted and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


# --- apps-ex-auroc: the AUROC by counting pairs --------------------------------------------


def auroc_by_pairs(normal, anomalous):
    b, a = anomalous[:, None], normal[None, :]
    return ((b > a).double() + 0.5 * (b == a).double()).mean().item()


def auroc_with_loops(normal, anomalous):
    total = 0.0
    for a in normal.tolist():
        for b in anomalous.tolist():
            total += 1.0 if b > a else 0.5 if b == a else 0.0
    return total / (len(normal) * len(anomalous))


@pytest.mark.parametrize("right", [auroc_by_pairs, auroc_with_loops, vl.auroc])
def test_auroc_passes_right_answers(right, capsys):
    assert check(AUROC, right).passed
    assert "all 4 cases pass" in capsys.readouterr().out


def test_auroc_fails_the_reverse_order():
    def normal_above(normal, anomalous):
        b, a = anomalous[:, None], normal[None, :]
        return ((a > b).double() + 0.5 * (a == b).double()).mean().item()

    assert_fails_on(AUROC, normal_above, AUROC_HIGHER)


def test_auroc_fails_ties_counted_as_losses():
    def strict(normal, anomalous):
        return (anomalous[:, None] > normal[None, :]).double().mean().item()

    assert_fails_on(AUROC, strict, AUROC_TIES)


def test_auroc_fails_ties_counted_as_wins():
    def at_least(normal, anomalous):
        return (anomalous[:, None] >= normal[None, :]).double().mean().item()

    assert_fails_on(AUROC, at_least, AUROC_TIES)


def test_auroc_fails_image_against_image():
    def matched(normal, anomalous):  # no broadcasting: the i-th against the i-th
        return ((anomalous > normal).double() + 0.5 * (anomalous == normal).double()).mean()

    assert_fails_on(AUROC, matched, AUROC_PAIRS)


def test_auroc_fails_against_the_mean_normal_score():
    def against_mean(normal, anomalous):
        m = normal.mean()
        return ((anomalous > m).double() + 0.5 * (anomalous == m).double()).mean().item()

    assert_fails_on(AUROC, against_mean, AUROC_PAIRS)


# --- apps-ex-blank: the most likely image under independent pixels --------------------------


def most_likely_image(p):
    image = (p > 0.5).float()
    nll = -(image * torch.log(p) + (1 - image) * torch.log(1 - p)).sum()
    return image, nll.item()


def test_blank_passes_the_reference(capsys):
    assert check(BLANK, most_likely_image).passed
    assert "all 4 cases pass" in capsys.readouterr().out


def test_blank_passes_a_boolean_image_and_a_tensor_nll():
    def with_round(p):
        return torch.round(p) == 1, -torch.log(torch.maximum(p, 1 - p)).sum()

    assert check(BLANK, with_round, quiet=True).passed


def test_blank_fails_the_blank_page():
    def blank(p):
        image = torch.zeros_like(p)
        return image, -torch.log(1 - p).sum().item()

    assert_fails_on(BLANK, blank, BLANK_ON)


def test_blank_fails_the_grey_mean_image():
    def grey(p):
        return p, -torch.log(torch.maximum(p, 1 - p)).sum().item()

    assert_fails_on(BLANK, grey, BLANK_ON)


def test_blank_fails_bits_for_nats():
    def in_bits(p):
        image = (p > 0.5).float()
        return image, -torch.log2(torch.maximum(p, 1 - p)).sum().item()

    assert_fails_on(BLANK, in_bits, BLANK_ON)


def test_blank_fails_a_mean_over_pixels():
    def per_pixel(p):
        image = (p > 0.5).float()
        return image, -torch.log(torch.maximum(p, 1 - p)).mean().item()

    assert_fails_on(BLANK, per_pixel, BLANK_SUM)


def test_blank_fails_off_pixels_for_free():
    def ink_only(p):
        image = (p > 0.5).float()
        return image, -torch.log(p[image == 1]).sum().item()

    assert_fails_on(BLANK, ink_only, BLANK_OFF)


def test_blank_fails_minus_log_p_everywhere():
    def log_p(p):
        return (p > 0.5).float(), -torch.log(p).sum().item()

    assert_fails_on(BLANK, log_p, BLANK_OFF)


def test_every_checker_runs_in_well_under_a_second():
    for label, right in [(AUROC, auroc_by_pairs), (BLANK, most_likely_image)]:
        started = time.perf_counter()
        check(label, right, quiet=True)
        assert time.perf_counter() - started < 0.5, label
