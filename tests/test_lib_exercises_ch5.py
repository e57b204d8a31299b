"""vae_lib.exercises.ch5: each checker passes a right answer and fails the usual wrong ones.

Every wrong solution below is written as a learner would write it, and must fail on
the case built to catch its mistake; the untouched stub must read as not attempted.
"""

import math
import time

import pytest
import torch
import torch.nn.functional as F
from exercise_helpers import assert_fails_on, stub

from vae_lib.exercises import check

LOOKUP = "cvae-ex-lookup"
LOOKUP_TEN = (
    "ten labels: row d is the network on the one-hot float vector of d, means and log-variances"
)
LOOKUP_THREE = "three labels, not always ten"
LOOKUP_LINEAR = "a network of one nn.Linear: call the network, do not read its layers"

CLASSIFY = "cvae-ex-classify"
CLASSIFY_ONE = "one image: log-probabilities (not probabilities), normalised over the labels"
CLASSIFY_TEN = (
    "ten images of ten labels: each image's row normalised over its labels (dim=1, keepdim=True)"
)
CLASSIFY_FAR = (
    "log-likelihoods near -1000 nats: exp underflows to 0, stay in log space (torch.logsumexp)"
)

WEIGHT = "cvae-ex-weight"
WEIGHT_TWO = "MSE 1: the 2 of sigma^2 = w d_x / 2"
WEIGHT_SIGMA = "sigma^2, not sigma: the MSE is already a variance"
WEIGHT_1024 = "a 32 x 32 image: d_x = 1024, not always 784"


@pytest.mark.parametrize("label", [LOOKUP, CLASSIFY, WEIGHT])
def test_the_untouched_stub_is_not_attempted(label, capsys):
    result = check(label, stub)
    assert not result.attempted and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


# --- cvae-ex-lookup: the prior network as a table ----------------------------------------


def prior_table(prior_net, n_labels=10):
    with torch.no_grad():
        return prior_net(torch.eye(n_labels))


def test_lookup_passes_the_reference(capsys):
    assert check(LOOKUP, prior_table).passed
    assert "all 3 cases pass" in capsys.readouterr().out


def test_lookup_fails_the_means_alone():
    def means_only(prior_net, n_labels=10):
        mu, logvar = prior_net(torch.eye(n_labels)).chunk(2, dim=1)
        return mu

    assert_fails_on(LOOKUP, means_only, LOOKUP_TEN)


def test_lookup_fails_standard_deviations_for_log_variances():
    def sigma_table(prior_net, n_labels=10):
        mu, logvar = prior_net(torch.eye(n_labels)).chunk(2, dim=1)
        return torch.cat([mu, torch.exp(0.5 * logvar)], dim=1)

    assert_fails_on(LOOKUP, sigma_table, LOOKUP_TEN)


def test_lookup_fails_an_integer_one_hot():
    def integer_one_hot(prior_net, n_labels=10):
        return prior_net(F.one_hot(torch.arange(n_labels)))  # int64 into a float layer

    assert_fails_on(LOOKUP, integer_one_hot, LOOKUP_TEN)


def test_lookup_fails_ten_labels_hard_coded():
    def always_ten(prior_net, n_labels=10):
        with torch.no_grad():
            return prior_net(torch.eye(10))

    assert_fails_on(LOOKUP, always_ten, LOOKUP_THREE)


def test_lookup_fails_reading_the_layers_of_a_sequential():
    def from_weights(prior_net, n_labels=10):
        first, last = prior_net[0], prior_net[2]  # one-hot @ W.T is W.T
        return last(torch.relu(first.weight.T + first.bias))

    assert_fails_on(LOOKUP, from_weights, LOOKUP_LINEAR)


def test_lookup_cases_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check(LOOKUP, prior_table, quiet=True)
    assert torch.equal(torch.rand(3), expected)


# --- cvae-ex-classify: log p(y|x) from log p(x|y) ------------------------------------------


def label_log_posterior(log_px_y):
    return log_px_y - torch.logsumexp(log_px_y, dim=1, keepdim=True)


@pytest.mark.parametrize(
    "right",
    [
        label_log_posterior,
        lambda log_px_y: torch.log_softmax(log_px_y, dim=1),
        lambda log_px_y: torch.softmax(log_px_y, dim=1).log(),
    ],
    ids=["logsumexp", "log_softmax", "log of softmax"],
)
def test_classify_passes_right_answers(right):
    assert check(CLASSIFY, right, quiet=True).passed


def test_classify_fails_probabilities():
    assert_fails_on(CLASSIFY, lambda log_px_y: torch.softmax(log_px_y, dim=1), CLASSIFY_ONE)


def test_classify_fails_a_softmax_over_the_images():
    assert_fails_on(CLASSIFY, lambda log_px_y: torch.log_softmax(log_px_y, dim=0), CLASSIFY_ONE)


def test_classify_fails_the_joint_for_the_posterior():
    assert_fails_on(CLASSIFY, lambda log_px_y: log_px_y - math.log(10), CLASSIFY_ONE)


def test_classify_fails_a_normaliser_without_keepdim():
    def no_keepdim(log_px_y):
        return log_px_y - torch.logsumexp(log_px_y, dim=1)  # (B, 10) - (B,)

    assert_fails_on(CLASSIFY, no_keepdim, CLASSIFY_TEN)


def test_classify_fails_exponentials_outside_log_space():
    def naive(log_px_y):
        p = torch.exp(log_px_y)
        return torch.log(p / p.sum(dim=1, keepdim=True))

    assert_fails_on(CLASSIFY, naive, CLASSIFY_FAR)


# --- cvae-ex-weight: the KL weight whose sigma is the model's error -----------------------


def matched_kl_weight(mse, d_x):
    return 2 * mse / d_x


def test_weight_passes_the_reference():
    assert check(WEIGHT, matched_kl_weight, quiet=True).passed


def test_weight_fails_without_the_two():
    assert_fails_on(WEIGHT, lambda mse, d_x: mse / d_x, WEIGHT_TWO)


def test_weight_fails_the_formula_solved_the_wrong_way():
    assert_fails_on(WEIGHT, lambda mse, d_x: mse * d_x / 2, WEIGHT_TWO)


def test_weight_fails_the_rms_error_for_the_variance():
    assert_fails_on(WEIGHT, lambda mse, d_x: 2 * math.sqrt(mse) / d_x, WEIGHT_SIGMA)


def test_weight_fails_784_pixels_hard_coded():
    assert_fails_on(WEIGHT, lambda mse, d_x: 2 * mse / 784, WEIGHT_1024)


def test_every_checker_runs_in_well_under_a_second():
    for label, right in [
        (LOOKUP, prior_table),
        (CLASSIFY, label_log_posterior),
        (WEIGHT, matched_kl_weight),
    ]:
        started = time.perf_counter()
        check(label, right, quiet=True)
        assert time.perf_counter() - started < 0.5, label
