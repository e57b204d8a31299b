"""vae_lib.exercises.ch7: each checker passes a right answer and fails the usual wrong ones.

Every wrong solution below is written as a learner would write it, and must fail on
the case built to catch its mistake; the untouched stub must read as not attempted.
"""

import math
import time

import pytest
import torch
from exercise_helpers import assert_fails_on, stub

from vae_lib import bench
from vae_lib.exercises import check

K = "res-ex-k"
K_DROPS = "drops in 1/k, not in k or in log k (k = 3, 4, 6)"
K_LATER = "the later drop over the earlier one, not the reverse (k = 1, 10, 100)"

FLOPS = "res-ex-flops"
FLOPS_LATER = (
    "a later layer: forward, weight-gradient and input-gradient products, "
    "2 FLOPs per multiply-add, no biases"
)
FLOPS_FIRST = "the first layer: no gradient for its input, the data"


@pytest.mark.parametrize("label", [K, FLOPS])
def test_the_untouched_stub_is_not_attempted(label, capsys):
    result = check(label, stub)
    assert not result.attempted and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


# --- res-ex-k: what a C/k excess predicts for the drops ------------------------------------


def one_over_k_ratio(k0, k1, k2):
    return (1 / k1 - 1 / k2) / (1 / k0 - 1 / k1)


def test_k_passes_the_reference(capsys):
    assert check(K, one_over_k_ratio).passed
    assert "all 3 cases pass" in capsys.readouterr().out


def test_k_fails_drops_in_k():
    assert_fails_on(K, lambda k0, k1, k2: (k2 - k1) / (k1 - k0), K_DROPS)


def test_k_fails_drops_in_log_k():
    def per_decade(k0, k1, k2):
        return (math.log(k2) - math.log(k1)) / (math.log(k1) - math.log(k0))

    assert_fails_on(K, per_decade, K_DROPS)


def test_k_fails_the_ratio_upside_down():
    assert_fails_on(K, lambda k0, k1, k2: (1 / k0 - 1 / k1) / (1 / k1 - 1 / k2), K_LATER)


# --- res-ex-flops: one linear layer's share of a training step -----------------------------


def layer_step_flops(batch, n_in, n_out, first):
    return 2 * batch * n_in * n_out * (2 if first else 3)


def test_flops_passes_the_reference(capsys):
    assert check(FLOPS, layer_step_flops).passed
    assert "all 4 cases pass" in capsys.readouterr().out


def test_flops_reference_adds_up_to_bench_step_flops():
    layers = [(784, 256), (256, 20), (10, 256), (256, 784)]
    by_hand = sum(layer_step_flops(64, i, o, n == 0) for n, (i, o) in enumerate(layers))
    assert by_hand == bench.step_flops(bench.MLP, torch.device("cpu"))


def test_flops_fails_the_forward_pass_alone():
    assert_fails_on(FLOPS, lambda batch, n_in, n_out, first: 2 * batch * n_in * n_out, FLOPS_LATER)


def test_flops_fails_one_flop_per_multiply_add():
    def no_two(batch, n_in, n_out, first):
        return batch * n_in * n_out * (2 if first else 3)

    assert_fails_on(FLOPS, no_two, FLOPS_LATER)


def test_flops_fails_the_biases_counted():
    def with_biases(batch, n_in, n_out, first):
        products = 2 if first else 3
        return (2 * batch * n_in * n_out + batch * n_out) * products

    assert_fails_on(FLOPS, with_biases, FLOPS_LATER)


def test_flops_fails_an_input_gradient_for_the_data():
    assert_fails_on(
        FLOPS, lambda batch, n_in, n_out, first: 3 * 2 * batch * n_in * n_out, FLOPS_FIRST
    )


def test_every_checker_runs_in_well_under_a_second():
    for label, right in [(K, one_over_k_ratio), (FLOPS, layer_step_flops)]:
        started = time.perf_counter()
        check(label, right, quiet=True)
        assert time.perf_counter() - started < 0.5, label


def test_checkers_need_no_torch_state():
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    check(K, one_over_k_ratio, quiet=True)
    check(FLOPS, layer_step_flops, quiet=True)
    assert torch.equal(torch.rand(2), expected)


# --- res-ex-paired: the standard error of a paired difference ----------------------------


def paired_se(a, b):
    d = (a - b).double()
    return (d.std() / len(d) ** 0.5).item()


def test_paired_passes_the_reference(capsys):
    assert check("res-ex-paired", paired_se).passed
    assert "all 3 cases pass" in capsys.readouterr().out


def test_paired_fails_the_unpaired_error():
    def unpaired(a, b):
        return ((a.double().var() + b.double().var()) / len(a)).sqrt().item()

    assert_fails_on(
        "res-ex-paired", unpaired, "the spread of the differences, not of each model's values"
    )


def test_paired_fails_n_in_the_standard_deviation():
    def biased(a, b):
        d = (a - b).double()
        return (d.std(correction=0) / len(d) ** 0.5).item()

    assert_fails_on(
        "res-ex-paired", biased, "the spread of the differences, not of each model's values"
    )
