"""Chapter 4's checkers (vae_lib/exercises/ch4.py): swiss-ex-linear, -sigma, -collapse, -perfect.

For each: the chapter's reference solution passes, slips that a learner would
make fail on the case named after them, and the untouched stub is "not
attempted yet".
"""

import math
import time

import pytest
import torch
from torch import nn

from vae_lib.exercises import ch4, check, checkers
from vae_lib.toy import swiss_roll_curve, swiss_roll_log_density

GENERATOR = torch.Generator().manual_seed(0)
LINEAR, SIGMA = "swiss-ex-linear", "swiss-ex-sigma"
COLLAPSE, PERFECT = "swiss-ex-collapse", "swiss-ex-perfect"


def _stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


def _fails_on(label, wrong, case):
    result = check(label, wrong, quiet=True)
    assert (result.passed, result.attempted, result.case) == (False, True, case), result.message


# --- swiss-ex-linear --------------------------------------------------------------------


def merge_linear(first, second):
    """The chapter's solution."""
    weight = second.weight @ first.weight
    bias = second.weight @ first.bias + second.bias
    return weight, bias


def _through_the_layers(first, second):
    """Also right: the bias is the output for z = 0."""
    with torch.no_grad():
        bias = second(first(torch.zeros(first.in_features, dtype=first.weight.dtype)))
    return second.weight @ first.weight, bias


LINEAR_WEIGHTS = "W2 W1: nn.Linear keeps its weight as (out, in); no biases"
LINEAR_SLIPS = {
    "W2^T W1": (
        lambda f, s: (s.weight.T @ f.weight, s.weight @ f.bias + s.bias),
        LINEAR_WEIGHTS,
    ),
    "W1 W2 (raises)": (lambda f, s: (f.weight @ s.weight, f.bias + s.bias), LINEAR_WEIGHTS),
    "b1 + b2": (
        lambda f, s: (s.weight @ f.weight, f.bias + s.bias),
        "the first bias goes through the second layer: W2 b1",
    ),
    "b1 times W2 from the wrong side": (
        lambda f, s: (s.weight @ f.weight, f.bias @ s.weight + s.bias),
        "the first bias goes through the second layer: W2 b1",
    ),
    "no b2": (
        lambda f, s: (s.weight @ f.weight, s.weight @ f.bias),
        "the second bias is added: + b2",
    ),
}


@pytest.mark.parametrize("right", [merge_linear, _through_the_layers, ch4._merge_linear])
def test_linear_references_pass(right):
    assert check(LINEAR, right, quiet=True).passed


@pytest.mark.parametrize("slip", LINEAR_SLIPS)
def test_linear_slips_fail_on_their_case(slip):
    _fails_on(LINEAR, *LINEAR_SLIPS[slip])


def test_the_expected_merged_layer_gives_the_same_outputs():
    for case in ch4._linear_cases():
        first, second = case.args
        weight, bias = case.expected
        z = torch.randn(7, first.in_features, dtype=torch.float64, generator=GENERATOR)
        with torch.no_grad():
            assert torch.allclose(second(first(z)), z @ weight.T + bias)


# --- swiss-ex-sigma ---------------------------------------------------------------------


def optimal_sigma(mean, x):
    """The chapter's solution."""
    squared_error = (x - mean).pow(2).sum(dim=1)
    return (squared_error.mean() / x.shape[1]).sqrt()


SIGMA_SLIPS = {
    "summed over coordinates": (
        lambda mean, x: (x - mean).pow(2).sum(dim=1).mean().sqrt(),
        "per coordinate: divide the summed squared error by d_x",
    ),
    "torch.std of the residuals": (
        lambda mean, x: (x - mean).std(),
        "per coordinate: divide the summed squared error by d_x",
    ),
    "x instead of x - mean": (
        lambda mean, x: x.pow(2).mean().sqrt(),
        "per coordinate: divide the summed squared error by d_x",
    ),
    "sigma^2": (lambda mean, x: (x - mean).pow(2).mean(), "sigma, not sigma^2"),
    "summed over points": (
        lambda mean, x: ((x - mean).pow(2).sum() / x.shape[1]).sqrt(),
        "the mean over the points, not the sum",
    ),
    "a sigma per point, averaged": (
        lambda mean, x: (x - mean).pow(2).mean(dim=1).sqrt().mean(),
        "the root of the mean, not the mean of the roots",
    ),
    "d_x = 2 written in": (
        lambda mean, x: ((x - mean).pow(2).sum(dim=1).mean() / 2).sqrt(),
        "d_x comes from the data: 3 coordinates",
    ),
}


def test_sigma_reference_passes():
    assert check(SIGMA, optimal_sigma, quiet=True).passed
    assert check(SIGMA, lambda mean, x: optimal_sigma(mean, x).item(), quiet=True).passed


@pytest.mark.parametrize("slip", SIGMA_SLIPS)
def test_sigma_slips_fail_on_their_case(slip):
    _fails_on(SIGMA, *SIGMA_SLIPS[slip])


def _gaussian_nll(mean, x, sigma):
    """-log N(x; mean, sigma^2 I) per point, averaged over the points."""
    return -torch.distributions.Normal(mean, sigma).log_prob(x).sum(dim=1).mean().item()


def test_the_expected_sigma_maximises_the_gaussian_likelihood():
    for case in ch4._sigma_cases():
        best = case.expected
        at_best = _gaussian_nll(*case.args, best)
        assert at_best < min(_gaussian_nll(*case.args, best * f) for f in (0.99, 1.01))


# --- swiss-ex-collapse ------------------------------------------------------------------


def collapsed_decoder(x):
    """The chapter's solution."""
    centre = x.mean(dim=0)
    return centre, (x - centre).pow(2).mean().item()


COLLAPSE_SLIPS = {
    "the origin, where the codes sit": (
        lambda x: (torch.zeros(x.shape[1], dtype=x.dtype), x.pow(2).mean()),
        "the centre is the data mean, not the origin",
    ),
    "the mean over the coordinates": (
        lambda x: (x.mean(dim=1), x.var(dim=1, correction=0).mean()),
        "the centre is the data mean, not the origin",
    ),
    "torch.var's N - 1": (
        lambda x: (x.mean(dim=0), x.var(dim=0).mean()),
        "the loss averages over N points: divisor N, not N - 1",
    ),
    "variance summed over coordinates": (
        lambda x: (x.mean(dim=0), x.var(dim=0, correction=0).sum()),
        "per coordinate: average over the coordinates, not sum",
    ),
    "the standard deviation": (
        lambda x: (x.mean(dim=0), x.std(dim=0, correction=0).mean()),
        "the squared error, not its root",
    ),
}


def test_collapse_reference_passes():
    assert check(COLLAPSE, collapsed_decoder, quiet=True).passed
    variance = lambda x: (x.mean(dim=0), x.var(dim=0, correction=0).mean())  # noqa: E731
    assert check(COLLAPSE, variance, quiet=True).passed


@pytest.mark.parametrize("slip", COLLAPSE_SLIPS)
def test_collapse_slips_fail_on_their_case(slip):
    _fails_on(COLLAPSE, *COLLAPSE_SLIPS[slip])


def test_no_other_constant_has_a_smaller_squared_error():
    for case in ch4._collapse_cases():
        (x,), (centre, mse) = case.args, case.expected
        assert (x - centre).pow(2).mean().item() == pytest.approx(mse)
        for shift in torch.eye(x.shape[1], dtype=x.dtype) * 0.01:
            assert (x - centre - shift).pow(2).mean().item() > mse


# --- swiss-ex-perfect -------------------------------------------------------------------


def perfect_log_density(x, sigma):
    """The chapter's solution."""
    z = torch.linspace(-6, 6, 12_001, dtype=torch.float64)
    log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z)
    log_weights = log_prior + math.log((z[1] - z[0]).item())
    centres = swiss_roll_curve(torch.special.ndtr(z))
    log_likelihood = (
        torch.distributions.Normal(centres[None], sigma).log_prob(x.double()[:, None]).sum(-1)
    )
    return torch.logsumexp(log_likelihood + log_weights, dim=1)


def _riemann(x, sigma, limit=6.0, prior=True, to_t=torch.special.ndtr, nodes=12_001):
    """A learner's sum over a z grid, in plain exp and log; the options are the slips."""
    z = torch.linspace(-limit, limit, nodes, dtype=torch.float64)
    dz = (z[1] - z[0]).item()
    weights = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) if prior else torch.ones_like(z)
    centres = swiss_roll_curve(to_t(z))
    squared = (x[:, None, :] - centres[None]).pow(2).sum(-1)
    likelihood = torch.exp(-0.5 * squared / sigma**2) / (2 * math.pi * sigma**2)
    return torch.log((likelihood * weights * dz).sum(dim=1))


def _mean_of_logs(x, sigma):
    """Jensen's slip: the average of log N(x; f(z)) over the prior, not the log of the average."""
    z = torch.linspace(-6, 6, 12_001, dtype=torch.float64)
    weights = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) * (z[1] - z[0])
    centres = swiss_roll_curve(torch.special.ndtr(z))
    log_likelihood = torch.distributions.Normal(centres[None], sigma).log_prob(x[:, None]).sum(-1)
    return (log_likelihood * weights).sum(dim=1)


NEAR = "points near the roll: weight each z by N(z; 0, 1) dz"
PERFECT_SLIPS = {
    "no prior weight": (lambda x, sigma: _riemann(x, sigma, prior=False), NEAR),
    "a sigmoid for Phi": (lambda x, sigma: _riemann(x, sigma, to_t=torch.sigmoid), NEAR),
    "the mean of the logs": (_mean_of_logs, NEAR),
    "sigma = 0.05 written in": (
        lambda x, sigma: _riemann(x, 0.05),
        "sigma is an argument: sigma = 0.1",
    ),
    "a z grid on [-4, 4]": (
        lambda x, sigma: _riemann(x, sigma, limit=4.0),
        "the ends of the roll, t = 0 and 1: the z grid must reach |z| = 5",
    ),
    "squeezed": (lambda x, sigma: _riemann(x, sigma).squeeze(), "a batch of one point"),
}


@pytest.mark.parametrize(
    "right",
    [
        perfect_log_density,
        _riemann,
        lambda x, sigma: _riemann(x, sigma, limit=5.0, nodes=2_001),
    ],
    ids=["logsumexp", "plain-sum", "coarse-grid-to-5"],
)
def test_perfect_references_pass(right):
    assert check(PERFECT, right, quiet=True).passed


@pytest.mark.parametrize("slip", PERFECT_SLIPS)
def test_perfect_slips_fail_on_their_case(slip):
    _fails_on(PERFECT, *PERFECT_SLIPS[slip])


def test_the_expected_density_is_the_libraries():
    for case in ch4._perfect_cases():
        x, sigma = case.args
        library = swiss_roll_log_density(x, sigma, n_grid=20_000)
        assert torch.allclose(case.expected, library, atol=1e-6)


# --- all four ---------------------------------------------------------------------------

REFERENCES = {
    LINEAR: merge_linear,
    SIGMA: optimal_sigma,
    COLLAPSE: collapsed_decoder,
    PERFECT: perfect_log_density,
}


@pytest.mark.parametrize("label", REFERENCES)
def test_the_untouched_stub_is_not_attempted(label, capsys):
    result = check(label, _stub)
    assert (result.passed, result.attempted, result.case) == (False, False, None)
    assert "not attempted yet" in capsys.readouterr().out


def test_chapter_4_registers_exactly_its_four_checkers():
    assert {label for label in checkers() if label.startswith("swiss-")} == set(REFERENCES)


@pytest.mark.parametrize("label", REFERENCES)
def test_a_check_is_fast_and_leaves_the_global_generator_alone(label):
    state = torch.get_rng_state()
    started = time.perf_counter()
    assert check(label, REFERENCES[label], quiet=True).passed
    assert time.perf_counter() - started < 1.0
    assert torch.equal(torch.get_rng_state(), state)


def test_a_linear_case_is_shown_by_its_layers():
    result = check(LINEAR, lambda f, s: (f.weight, f.bias), quiet=True)
    assert "Linear(in_features=2, out_features=4" in result.message
    assert isinstance(ch4._linear_cases()[0].args[0], nn.Linear)
