"""Chapter 2's checkers (the ELBO): the reference passes, a learner's usual slips fail on the named case.

Each wrong solution below is written as a learner would write it; the test
names the case that must catch it (the first case it fails).
"""

import math
import time

import pytest
import torch

from vae_lib.exercises import ch2, check, checkers

LABELS = ("elbo-ex-meanfield", "elbo-ex-baseline", "elbo-ex-kl-weight")


def _stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


def _case(label, fn):
    result = check(label, fn, quiet=True)
    assert result.attempted and not result.passed, f"{label}: a wrong solution passed"
    return result.case


@pytest.mark.parametrize("label", LABELS)
def test_checker_is_registered_and_the_stub_is_not_attempted(label):
    assert label in checkers()
    result = check(label, _stub, quiet=True)
    assert result.attempted is False and result.passed is False
    assert "not attempted yet" in result.message


@pytest.mark.parametrize("label", LABELS)
def test_cases_run_fast(label):
    reference = {
        "elbo-ex-meanfield": ch2._mean_field_q,
        "elbo-ex-baseline": ch2._baseline_gradients,
        "elbo-ex-kl-weight": ch2._beta_from_weight,
    }[label]
    started = time.perf_counter()
    assert check(label, reference, quiet=True).passed
    assert time.perf_counter() - started < 1.0


def test_failure_message_names_the_case_and_the_values(capsys):
    def sign_slip(post_mean, precision):
        return post_mean, torch.log(precision.diagonal()).expand_as(post_mean)

    check("elbo-ex-meanfield", sign_slip)
    printed = capsys.readouterr().out
    assert "-log Lambda_jj" in printed and "expected:" in printed and "got" in printed


# ----------------------------------------------------------------- elbo-ex-meanfield
def test_meanfield_reference_and_a_second_right_answer_pass():
    def with_repeat(post_mean, precision):
        # 1 / Lambda_jj is the variance of z_j given the other coordinates
        variances = 1 / torch.diagonal(precision)
        return post_mean.clone(), torch.log(variances).repeat(len(post_mean), 1)

    assert check("elbo-ex-meanfield", ch2._mean_field_q, quiet=True).passed
    assert check("elbo-ex-meanfield", with_repeat, quiet=True).passed


def test_meanfield_variance_for_log_variance_fails():
    def variances(post_mean, precision):
        return post_mean, (1 / precision.diagonal()).expand_as(post_mean)

    assert _case("elbo-ex-meanfield", variances).startswith("Lambda = I:")


def test_meanfield_sign_slip_fails():
    def sign_slip(post_mean, precision):
        return post_mean, torch.log(precision.diagonal()).expand_as(post_mean)

    assert _case("elbo-ex-meanfield", sign_slip).startswith("Lambda = diag(4, 1/4)")


def test_meanfield_log_sigma_fails():
    def log_sigma(post_mean, precision):
        return post_mean, -0.5 * torch.log(precision.diagonal()).expand_as(post_mean)

    assert _case("elbo-ex-meanfield", log_sigma).startswith("Lambda = diag(4, 1/4)")


def test_meanfield_marginal_variances_fail():
    def marginals(post_mean, precision):
        covariance = torch.linalg.inv(precision)
        return post_mean, torch.log(covariance.diagonal()).expand_as(post_mean)

    assert _case("elbo-ex-meanfield", marginals).startswith("correlated Lambda")


def test_meanfield_one_logvar_row_fails():
    def one_row(post_mean, precision):
        return post_mean, -torch.log(precision.diagonal())

    assert _case("elbo-ex-meanfield", one_row).startswith("Lambda = I:")


# ------------------------------------------------------------------ elbo-ex-baseline
def test_baseline_reference_and_an_autograd_answer_pass():
    def by_autograd(f, z, mu, logvar):
        # the score from autograd: one copy of mu per sample, as the chapter does
        mu_n = mu.expand(len(z), -1).clone().requires_grad_(True)
        log_q = -0.5 * ((z - mu_n) ** 2 * torch.exp(-logvar) + logvar + math.log(2 * math.pi))
        (score,) = torch.autograd.grad(log_q.sum(), mu_n)
        return (f - f.mean()).unsqueeze(1) * score

    assert check("elbo-ex-baseline", ch2._baseline_gradients, quiet=True).passed
    assert check("elbo-ex-baseline", by_autograd, quiet=True).passed


def test_baseline_without_baseline_fails():
    def no_baseline(f, z, mu, logvar):
        return f[:, None] * (z - mu) / logvar.exp()

    assert _case("elbo-ex-baseline", no_baseline).startswith("f the same for every sample")


def test_baseline_subtracted_from_the_score_fails():
    def centred_score(f, z, mu, logvar):
        score = (z - mu) / logvar.exp()
        return f[:, None] * (score - score.mean(0))

    assert _case("elbo-ex-baseline", centred_score).startswith("f the same for every sample")


def test_baseline_averaged_over_samples_fails():
    def averaged(f, z, mu, logvar):
        return ((f - f.mean())[:, None] * (z - mu) / logvar.exp()).mean(0)

    assert _case("elbo-ex-baseline", averaged).startswith("f the same for every sample")


def test_baseline_score_sign_slip_fails():
    def sign_slip(f, z, mu, logvar):
        return (f - f.mean())[:, None] * (mu - z) / logvar.exp()

    assert _case("elbo-ex-baseline", sign_slip).startswith("logvar = 0")


def test_baseline_score_over_sigma_fails():
    def over_sigma(f, z, mu, logvar):
        return (f - f.mean())[:, None] * (z - mu) / torch.exp(0.5 * logvar)

    assert _case("elbo-ex-baseline", over_sigma).startswith("sigma^2 = (4, 1/4)")


def test_baseline_score_times_variance_fails():
    def times_variance(f, z, mu, logvar):
        return (f - f.mean())[:, None] * (z - mu) * logvar.exp()

    assert _case("elbo-ex-baseline", times_variance).startswith("sigma^2 = (4, 1/4)")


# ----------------------------------------------------------------- elbo-ex-kl-weight
def test_kl_weight_reference_and_a_tensor_answer_pass():
    def as_tensor(w, x_dim, sigma):
        return torch.tensor(w * x_dim) / (2 * torch.tensor(sigma) ** 2)

    assert check("elbo-ex-kl-weight", ch2._beta_from_weight, quiet=True).passed
    assert check("elbo-ex-kl-weight", as_tensor, quiet=True).passed


def test_kl_weight_without_the_two_fails():
    assert _case("elbo-ex-kl-weight", lambda w, x_dim, sigma: w * x_dim / sigma**2).startswith(
        "w = 2, x_dim = 1"
    )


def test_kl_weight_inverted_fails():
    def inverted(w, x_dim, sigma):
        return 2 * sigma**2 / (w * x_dim)

    assert _case("elbo-ex-kl-weight", inverted).startswith("w = 0.5, x_dim = 1")


def test_kl_weight_without_x_dim_fails():
    def summed(w, x_dim, sigma):
        return w / (2 * sigma**2)

    assert _case("elbo-ex-kl-weight", summed).startswith("x_dim = 784")


def test_kl_weight_sigma_not_squared_fails():
    def sigma_not_squared(w, x_dim, sigma):
        return w * x_dim / (2 * sigma)

    assert _case("elbo-ex-kl-weight", sigma_not_squared).startswith("sigma = 0.5")


def test_kl_weight_implied_variance_instead_of_beta_fails():
    def implied_variance(w, x_dim, sigma):
        return w * x_dim / 2  # sigma^2 of eq. (elbo-w-sigma), not beta

    assert _case("elbo-ex-kl-weight", implied_variance).startswith("sigma = 0.5")
