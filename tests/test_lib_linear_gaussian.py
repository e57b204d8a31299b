"""The exact linear-Gaussian model (vae_lib.linear_gaussian) against independent computations."""

import math

import pytest
import torch
from torch import distributions as dist

from vae_lib import linear_gaussian as lg
from vae_lib.losses import kl_diag_gaussians


@pytest.fixture(scope="module")
def models():
    return lg.book_models()


def test_book_models_are_the_same_on_every_call_and_shaped_as_documented(models):
    again = lg.book_models()
    for name in ("diag", "corr", "one_d"):
        assert torch.equal(getattr(models, name).W, getattr(again, name).W)
    assert torch.equal(models.x_corr, again.x_corr)
    assert models.x_diag.shape == models.x_corr.shape == (1, 5)
    assert models.x_one_d.shape == (1, 3)
    # the shapes set W^T W: diagonal for diag, unit columns with cosine 0.8 for corr
    wtw = models.corr.W.T @ models.corr.W
    assert torch.allclose(wtw, torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=wtw.dtype))
    off = (models.diag.W.T @ models.diag.W)[0, 1]
    assert abs(off) < 1e-12


def test_log_marginal_agrees_with_quadrature_over_z(models):
    z = torch.linspace(-12, 12, 24_001, dtype=torch.float64)
    joint = torch.exp(models.one_d.log_joint(models.x_one_d, z[:, None, None]))[:, 0]
    by_quadrature = torch.log(torch.trapezoid(joint, z))
    assert torch.isclose(by_quadrature, models.one_d.log_marginal(models.x_one_d)[0], atol=1e-9)


def test_posterior_is_bayes_rule_on_a_grid(models):
    # p(z|x) = p(x, z) / p(x): check the closed-form posterior density at a few points
    mean, cov = models.corr.posterior(models.x_corr)
    z = torch.randn(7, 1, 2, dtype=torch.float64)
    by_bayes = models.corr.log_joint(models.x_corr, z) - models.corr.log_marginal(models.x_corr)
    closed = dist.MultivariateNormal(mean[0], covariance_matrix=cov).log_prob(z[:, 0])
    assert torch.allclose(by_bayes[:, 0], closed, atol=1e-10)


def test_gaussian_log_density_matches_torch_distributions():
    x, mean = torch.randn(4, 3, 6, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64)
    ours = lg.gaussian_log_density(x, mean, math.log(0.3))
    assert torch.allclose(ours, dist.Normal(mean, 0.3).log_prob(x).sum(-1))


def test_elbo_identity_and_exact_terms(models):
    # log p(x) = ELBO + KL(q || p(z|x)) for any q; the expected log-likelihood by Monte Carlo
    model, x = models.corr, models.x_corr
    mu = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    logvar = torch.tensor([[-0.5, 0.2]], dtype=torch.float64)
    total = lg.elbo(model, x, mu, logvar) + lg.kl_to_posterior(model, x, mu, logvar)
    assert torch.allclose(total, model.log_marginal(x), atol=1e-12)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(400_000, 1, 2, dtype=torch.float64)
    mc = model.log_lik(x, z)
    se = mc.std() / math.sqrt(len(mc))
    assert abs(mc.mean() - lg.expected_log_lik(model, x, mu, logvar)[0]) < 4 * se


def test_best_diagonal_q_minimises_the_gap_and_fit_q_finds_it(models):
    model, x = models.corr, models.x_corr
    best = lg.best_diagonal_q(model, x)
    floor = lg.kl_to_posterior(model, x, *best)
    for shift in (0.05, -0.05):
        assert lg.kl_to_posterior(model, x, best[0] + shift, best[1])[0] > floor[0]
        assert lg.kl_to_posterior(model, x, best[0], best[1] + shift)[0] > floor[0]
    (mu, logvar), losses = lg.fit_q(lambda m, lv: -lg.elbo(model, x, m, lv), steps=1500)
    assert losses[-1] < losses[0] and len(losses) == 1500
    assert torch.allclose(torch.cat([mu, logvar]), torch.cat(best), atol=1e-2)


def test_iw_bound_is_exact_with_the_posterior_as_proposal_and_rises_with_k(models):
    model, x = models.diag, models.x_diag
    mean, cov = model.posterior(x)  # diagonal: the exact posterior is in the family
    exact = lg.iw_log_px(model, x, mean, torch.log(cov.diagonal())[None], k=10)
    assert torch.allclose(exact, model.log_marginal(x), atol=1e-10)
    torch.manual_seed(0)
    mu, logvar = mean + 0.8, torch.log(cov.diagonal())[None] - 1.0
    mean_bound = [lg.iw_log_px(model, x, mu, logvar, k).mean() for k in (1, 1000)]
    rep = torch.stack([lg.iw_log_px(model, x, mu, logvar, 1) for _ in range(4000)])
    assert abs(rep.mean() - lg.elbo(model, x, mu, logvar)[0]) < 4 * rep.std() / math.sqrt(4000)
    assert mean_bound[1] > lg.elbo(model, x, mu, logvar)[0]
    with pytest.raises(ValueError, match="positive number of samples"):
        lg.iw_log_px(model, x, mu, logvar, 0)


def test_closed_form_kl_of_the_library_matches_for_the_prior(models):
    mu = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.3, -2.0]], dtype=torch.float64)
    zeros = torch.zeros_like(mu)
    gap = lg.elbo(models.corr, models.x_corr, mu, logvar) - lg.expected_log_lik(
        models.corr, models.x_corr, mu, logvar
    )
    assert torch.allclose(-gap, kl_diag_gaussians(mu, logvar, zeros, zeros))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(W=torch.ones(3), b=torch.zeros(3), sigma=1.0), "W must be a"),
        (dict(W=torch.ones(3, 2), b=torch.zeros(2), sigma=1.0), "b must have shape"),
        (dict(W=torch.ones(3, 2), b=torch.zeros(3), sigma=0.0), "sigma must be positive"),
    ],
)
def test_bad_models_are_refused_with_a_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lg.LinearGaussian(**kwargs)


def test_make_model_refuses_a_shape_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"shape must be a \(2, 2\) matrix"):
        lg.make_model(5, 2, shape=[[1.0, 0.0, 0.0]])
