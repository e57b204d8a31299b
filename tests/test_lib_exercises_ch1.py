"""Chapter 1's checkers (the MLP VAE): the reference passes, a learner's usual slips fail on the named case.

Each wrong solution below is written as a learner would write it; the test
names the case that must catch it (the first case it fails).
"""

import math
import time

import torch
import torch.nn.functional as F

from vae_lib.exercises import ch1, check, checkers


def _stub(mean, x, sigma):
    raise NotImplementedError("write your code here")


def _case(label, fn):
    result = check(label, fn, quiet=True)
    assert result.attempted and not result.passed, f"{label}: a wrong solution passed"
    return result.case


def test_checkers_are_registered():
    assert "mlp-ex-gaussian" in checkers()
    assert "mlp-ex-beta" not in checkers()  # cut: it needed chapter 3's beta_eff
    assert "mlp-ex-latent" not in checkers()  # a predict-then-run training run


def test_untouched_attempts_are_not_attempted():
    for label, attempt in (("mlp-ex-gaussian", _stub),):
        result = check(label, attempt, quiet=True)
        assert result.attempted is False and result.passed is False
        assert "not attempted yet" in result.message


def test_cases_run_fast():
    started = time.perf_counter()
    assert check("mlp-ex-gaussian", ch1._gaussian_nll, quiet=True).passed
    assert time.perf_counter() - started < 1.0


# ------------------------------------------------------------------- mlp-ex-gaussian
def test_gaussian_reference_and_torch_distributions_pass():
    def with_distributions(mean, x, sigma):
        return -torch.distributions.Normal(mean, sigma).log_prob(x).sum(dim=(1, 2, 3))

    def float32_constant(mean, x, sigma):
        # log sigma computed in float32: the checker's tolerance allows it
        log_sigma = torch.log(torch.tensor(sigma))
        squared = ((x - mean) ** 2).sum(dim=(1, 2, 3))
        return squared / (2 * sigma**2) + 784 * (log_sigma + 0.5 * math.log(2 * math.pi))

    assert check("mlp-ex-gaussian", ch1._gaussian_nll, quiet=True).passed
    assert check("mlp-ex-gaussian", with_distributions, quiet=True).passed
    assert check("mlp-ex-gaussian", float32_constant, quiet=True).passed


def _constant(x, sigma):
    return x[0].numel() * (math.log(sigma) + 0.5 * math.log(2 * math.pi))


def _sse(mean, x):
    return ((x - mean) ** 2).sum(dim=(1, 2, 3))


def test_gaussian_log_sigma_squared_in_the_constant_fails():
    def log_variance(mean, x, sigma):
        constant = 784 * (math.log(sigma**2) + 0.5 * math.log(2 * math.pi))
        return _sse(mean, x) / (2 * sigma**2) + constant

    assert _case("mlp-ex-gaussian", log_variance).startswith("x = mean, sigma = 1/sqrt(2 pi)")


def test_gaussian_batch_mean_fails():
    def batch_mean(mean, x, sigma):
        return (_sse(mean, x) / (2 * sigma**2) + _constant(x, sigma)).mean()

    assert _case("mlp-ex-gaussian", batch_mean).startswith("x = mean, sigma = 1/sqrt(2 pi)")


def test_gaussian_mean_over_pixels_fails():
    def per_pixel(mean, x, sigma):
        nll = (x - mean) ** 2 / (2 * sigma**2) + math.log(sigma) + 0.5 * math.log(2 * math.pi)
        return nll.mean(dim=(1, 2, 3))

    assert _case("mlp-ex-gaussian", per_pixel).startswith("x = mean, sigma = 1: the constant")


def test_gaussian_without_the_constant_fails():
    def no_constant(mean, x, sigma):
        return _sse(mean, x) / (2 * sigma**2)

    assert _case("mlp-ex-gaussian", no_constant).startswith("x = mean, sigma = 1: the constant")


def test_gaussian_constant_over_the_whole_batch_fails():
    def batch_constant(mean, x, sigma):
        constant = x.numel() * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
        return _sse(mean, x) / (2 * sigma**2) + constant

    assert _case("mlp-ex-gaussian", batch_constant).startswith("a batch of 3")


def test_gaussian_mse_loss_default_reduction_fails():
    def mse_mean(mean, x, sigma):
        mse = torch.stack([F.mse_loss(m, xi) for m, xi in zip(mean, x)])
        return mse / (2 * sigma**2) + _constant(x, sigma)

    assert _case("mlp-ex-gaussian", mse_mean).startswith("sigma = 1: the squared error")


def test_gaussian_without_the_half_fails():
    def no_half(mean, x, sigma):
        return _sse(mean, x) / sigma**2 + _constant(x, sigma)

    assert _case("mlp-ex-gaussian", no_half).startswith("sigma = 1: the squared error")


def test_gaussian_sigma_for_variance_fails():
    def sigma_not_squared(mean, x, sigma):
        return _sse(mean, x) / (2 * sigma) + _constant(x, sigma)

    assert _case("mlp-ex-gaussian", sigma_not_squared).startswith("sigma = 0.1")
