"""vae_lib.losses against torch.distributions, and the importance-weighted bound."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, MultivariateNormal, Normal, kl_divergence

import vae_lib as vl
from vae_lib.checks import checks_enabled


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _random_gaussians(b=64, d=5, scale=2.0):
    mu = scale * torch.randn(b, d)
    logvar = scale * torch.randn(b, d)
    return mu, logvar


# ------------------------------------------------------------------------------------ KL
def test_kl_standard_normal_matches_torch():
    mu, logvar = _random_gaussians()
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    expected = kl_divergence(q, p)
    got = vl.kl_standard_normal(mu, logvar)
    assert got.shape == (64,)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_kl_diag_gaussians_matches_torch():
    mu_q, logvar_q = _random_gaussians()
    mu_p, logvar_p = _random_gaussians()
    q = Independent(Normal(mu_q, torch.exp(0.5 * logvar_q)), 1)
    p = Independent(Normal(mu_p, torch.exp(0.5 * logvar_p)), 1)
    got = vl.kl_diag_gaussians(mu_q, logvar_q, mu_p, logvar_p)
    assert got.shape == (64,)
    torch.testing.assert_close(got, kl_divergence(q, p), atol=1e-5, rtol=1e-5)


def test_kl_diag_gaussians_broadcasts_the_prior():
    # A (D,) prior shared by a (B, D) batch, against torch.distributions: KL of each of the
    # D one-dimensional Normals, summed over dimensions.
    mu_q, logvar_q = _random_gaussians(b=8, d=3)
    mu_p, logvar_p = torch.randn(3), torch.randn(3)
    got = vl.kl_diag_gaussians(mu_q, logvar_q, mu_p, logvar_p)
    q = Normal(mu_q, torch.exp(0.5 * logvar_q))
    p = Normal(mu_p, torch.exp(0.5 * logvar_p))
    expected = kl_divergence(q, p).sum(dim=-1)
    assert got.shape == expected.shape == (8,)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_kl_diag_gaussians_with_zero_prior_equals_kl_standard_normal():
    mu, logvar = _random_gaussians()
    zeros = torch.zeros_like(mu)
    torch.testing.assert_close(
        vl.kl_diag_gaussians(mu, logvar, zeros, zeros),
        vl.kl_standard_normal(mu, logvar),
        atol=1e-5,
        rtol=1e-6,
    )
    torch.testing.assert_close(
        vl.kl_diag_gaussians(mu, logvar, 0.0, torch.tensor(0.0)),
        vl.kl_standard_normal(mu, logvar),
        atol=1e-5,
        rtol=1e-6,
    )


def test_kl_is_nonnegative_and_zero_only_at_the_prior():
    mu, logvar = _random_gaussians(b=1000, scale=3.0)
    assert (vl.kl_standard_normal(mu, logvar) >= 0).all()
    mu_p, logvar_p = _random_gaussians(b=1000, scale=3.0)
    assert (vl.kl_diag_gaussians(mu, logvar, mu_p, logvar_p) >= -1e-6).all()
    zeros = torch.zeros(4, 3)
    assert torch.equal(vl.kl_standard_normal(zeros, zeros), torch.zeros(4))
    assert torch.allclose(vl.kl_diag_gaussians(mu, logvar, mu, logvar), torch.zeros(1000))
    # One dimension, mu = 1, sigma = 1: KL = 0.5 exactly.
    assert vl.kl_standard_normal(torch.ones(1, 1), torch.zeros(1, 1)).item() == pytest.approx(0.5)


def test_kl_standard_normal_shape_mismatch_raises():
    with pytest.raises(ValueError, match="differ in shape"):
        vl.kl_standard_normal(torch.zeros(3, 4), torch.zeros(3, 5))


# ------------------------------------------------------------------------ likelihoods
def test_bernoulli_nll_matches_torch_on_binary_targets():
    logits = 3 * torch.randn(16, 1, 28, 28)
    x = torch.bernoulli(torch.full((16, 1, 28, 28), 0.3))
    expected = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    got = vl.bernoulli_nll(logits, x)
    assert got.shape == (16,)
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-5)
    torch.testing.assert_close(
        vl.bernoulli_log_likelihood(logits, x), -expected, atol=1e-3, rtol=1e-5
    )


def test_bernoulli_nll_matches_torch_on_grey_targets():
    logits = 3 * torch.randn(8, 50)
    x = torch.rand(8, 50)
    expected = -Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(1)
    torch.testing.assert_close(vl.bernoulli_nll(logits, x), expected, atol=1e-4, rtol=1e-5)


def test_bernoulli_nll_is_stable_for_large_logits():
    logits = torch.tensor([[100.0, -100.0]])
    x = torch.tensor([[1.0, 0.0]])
    assert vl.bernoulli_nll(logits, x).item() == pytest.approx(0.0, abs=1e-6)
    assert vl.bernoulli_nll(logits, 1 - x).item() == pytest.approx(200.0, rel=1e-5)


@pytest.mark.parametrize("log_sigma", [0.0, -1.3, 0.7])
def test_gaussian_nll_matches_torch_with_float_sigma(log_sigma):
    mean = torch.randn(10, 1, 4, 4)
    x = torch.randn(10, 1, 4, 4)
    expected = -Normal(mean, math.exp(log_sigma)).log_prob(x).flatten(1).sum(1)
    got = vl.gaussian_nll(mean, x, log_sigma=log_sigma)
    assert got.shape == (10,)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-5)


def test_gaussian_nll_matches_torch_with_tensor_sigma():
    mean = torch.randn(6, 3, 5)
    x = torch.randn(6, 3, 5)
    log_sigma = 0.5 * torch.randn(1, 3, 5)  # one sigma per dimension, shared across the batch
    expected = -Normal(mean, log_sigma.exp()).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(vl.gaussian_nll(mean, x, log_sigma), expected, atol=1e-4, rtol=1e-5)
    log_sigma_b = 0.5 * torch.randn(6, 1, 1)  # one sigma per example
    expected_b = -Normal(mean, log_sigma_b.exp()).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(
        vl.gaussian_nll(mean, x, log_sigma_b), expected_b, atol=1e-4, rtol=1e-5
    )


def test_gaussian_nll_gradient_reaches_log_sigma():
    log_sigma = torch.tensor(0.3, requires_grad=True)
    vl.gaussian_nll(torch.zeros(4, 3), torch.randn(4, 3), log_sigma).sum().backward()
    assert log_sigma.grad is not None and log_sigma.grad.item() != 0.0


def test_likelihood_shape_mismatch_raises():
    with pytest.raises(ValueError, match="differ in shape"):
        vl.bernoulli_nll(torch.zeros(4, 784), torch.zeros(4, 1, 28, 28))
    with pytest.raises(ValueError, match="differ in shape"):
        vl.gaussian_nll(torch.zeros(4, 784), torch.zeros(4, 1, 28, 28))


def test_bernoulli_nll_rejects_standardised_data():
    x = (torch.rand(4, 1, 28, 28) - 0.1307) / 0.3081
    assert x.min() < 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vl.bernoulli_nll(torch.zeros_like(x), x)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vl.bernoulli_nll(torch.zeros(2, 3), torch.full((2, 3), 1.5))


def test_bernoulli_nll_rejects_integer_targets():
    with pytest.raises(TypeError, match="floating-point"):
        vl.bernoulli_nll(torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.long))


def test_checks_false_skips_the_range_check():
    x = (torch.rand(4, 10) - 0.1307) / 0.3081
    logits = torch.randn(4, 10)
    assert checks_enabled()
    with vl.checks(False):
        assert not checks_enabled()
        got = vl.bernoulli_nll(logits, x)
    assert checks_enabled()
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="none"
    ).sum(1)
    torch.testing.assert_close(got, expected)
    with pytest.raises(ValueError):
        vl.bernoulli_nll(logits, x)


def test_checks_context_restores_after_an_error():
    with pytest.raises(RuntimeError):
        with vl.checks(False):
            raise RuntimeError("boom")
    assert checks_enabled()
    with vl.checks(False):
        with vl.checks(True):
            assert checks_enabled()
        assert not checks_enabled()


# --------------------------------------------------------------------- reparameterize
def test_reparameterize_gradients_flow_to_mu_and_logvar():
    mu = torch.randn(5, 3, requires_grad=True)
    logvar = torch.randn(5, 3, requires_grad=True)
    z = vl.reparameterize(mu, logvar)
    assert z.shape == (5, 3)
    z.sum().backward()
    eps = (z - mu) / torch.exp(0.5 * logvar)
    torch.testing.assert_close(mu.grad, torch.ones(5, 3))
    torch.testing.assert_close(logvar.grad, (0.5 * torch.exp(0.5 * logvar) * eps).detach())
    assert (logvar.grad != 0).all()


def test_reparameterize_sample_mean_and_std():
    n = 200_000
    mu = torch.tensor([1.0, -2.0, 0.0]).expand(n, 3)
    std = torch.tensor([0.5, 2.0, 1.0])
    z = vl.reparameterize(mu, torch.log(std**2).expand(n, 3))
    torch.testing.assert_close(z.mean(0), mu[0], atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), std, atol=0, rtol=0.01)


# ---------------------------------------------------------------------- bernoulli_vae_loss
def test_bernoulli_vae_loss_terms_and_beta():
    model = vl.MLPVAE(z_dim=3, hidden=(16,))
    x = torch.bernoulli(torch.full((8, 1, 28, 28), 0.2))
    torch.manual_seed(5)
    terms = vl.bernoulli_vae_loss(model, x, beta=1.0)
    assert set(terms) == {"loss", "recon", "kl"}
    assert all(t.dim() == 0 for t in terms.values())
    torch.testing.assert_close(terms["loss"], terms["recon"] + terms["kl"])
    torch.manual_seed(5)
    terms_b = vl.bernoulli_vae_loss(model, x, beta=4.0)
    torch.testing.assert_close(terms_b["loss"], terms["recon"] + 4.0 * terms["kl"])
    mu, logvar = model.encode(x)
    torch.testing.assert_close(terms["kl"], vl.kl_standard_normal(mu, logvar).mean())


# ------------------------------------------------------------------------- IW bound
@pytest.fixture(scope="module")
def small_vae_and_data():
    torch.manual_seed(1)
    model = vl.MLPVAE(z_dim=4, hidden=(32,))
    probs = torch.rand(1, 1, 28, 28) * 0.6
    x = torch.bernoulli(probs.expand(32, 1, 28, 28))
    return model, x


def test_iw_k1_matches_the_elbo_in_expectation(small_vae_and_data):
    model, x = small_vae_and_data
    repeats = 200
    torch.manual_seed(2)
    iw = vl.iw_log_likelihood(model, x.repeat(repeats, 1, 1, 1), k=1).reshape(repeats, len(x))
    assert iw.shape == (repeats, len(x))
    with torch.no_grad():
        elbo = torch.stack([-vl.bernoulli_vae_loss(model, x)["loss"] for _ in range(repeats)])
    iw_means = iw.mean(1)
    diff = (iw_means.mean() - elbo.mean()).item()
    se = math.sqrt(iw_means.var().item() / repeats + elbo.var().item() / repeats)
    assert abs(diff) < 4 * se + 1e-3, (diff, se)
    assert se < 1.0  # the comparison is sharp: the ELBO itself is hundreds of nats
    assert elbo.mean().item() < -100


def test_iw_k50_is_at_least_the_elbo(small_vae_and_data):
    model, x = small_vae_and_data
    torch.manual_seed(3)
    with torch.no_grad():
        elbo = torch.stack([-vl.bernoulli_vae_loss(model, x)["loss"] for _ in range(20)]).mean()
    iw1 = vl.iw_log_likelihood(model, x, k=1).mean()
    iw50 = vl.iw_log_likelihood(model, x, k=50).mean()
    assert iw50.item() >= elbo.item()
    assert iw50.item() >= iw1.item()


def test_iw_runs_in_chunks_without_gradients(small_vae_and_data):
    model, x = small_vae_and_data
    torch.manual_seed(4)
    chunked = vl.iw_log_likelihood(model, x[:10], k=7, chunk=3)
    assert chunked.shape == (10,) and torch.isfinite(chunked).all()
    assert not chunked.requires_grad


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "10", None])
def test_iw_bad_k_raises(small_vae_and_data, k):
    model, x = small_vae_and_data
    with pytest.raises(ValueError, match="k must be a positive integer"):
        vl.iw_log_likelihood(model, x[:2], k=k)


# --------------------------------------------- IW on a linear-Gaussian model (log p(x) exact)
class LinearGaussian:
    """x = W z + b + s * noise, z ~ N(0, I). W has orthogonal columns, so p(z|x) is diagonal."""

    def __init__(self, x_dim=6, z_dim=3, s=0.5, posterior_shift=0.0, posterior_var_scale=1.0):
        g = torch.Generator().manual_seed(11)
        q, _ = torch.linalg.qr(torch.randn(x_dim, z_dim, generator=g, dtype=torch.float64))
        self.d = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)[:z_dim]
        self.W = q * self.d  # W^T W = diag(d^2)
        self.b = torch.randn(x_dim, generator=g, dtype=torch.float64)
        self.s = s
        self.shift = posterior_shift
        self.var_scale = posterior_var_scale

    def sample(self, n, generator):
        z = torch.randn(n, self.W.shape[1], generator=generator, dtype=torch.float64)
        noise = torch.randn(n, self.W.shape[0], generator=generator, dtype=torch.float64)
        return z @ self.W.T + self.b + self.s * noise

    def log_px(self, x):
        cov = self.W @ self.W.T + self.s**2 * torch.eye(self.W.shape[0], dtype=torch.float64)
        return MultivariateNormal(self.b, covariance_matrix=cov).log_prob(x)

    def encode(self, x):
        precision = 1.0 + self.d**2 / self.s**2
        mu = ((x - self.b) @ self.W) / self.s**2 / precision + self.shift
        logvar = torch.log(self.var_scale / precision).expand_as(mu)
        return mu, logvar

    def decode(self, z):
        return z @ self.W.T + self.b

    def log_likelihood(self, mean, x):
        return -vl.gaussian_nll(mean, x, log_sigma=math.log(self.s))


@pytest.mark.parametrize("k", [1, 2, 10, 100])
def test_iw_with_exact_posterior_equals_log_px(k):
    model = LinearGaussian()
    x = model.sample(20, torch.Generator().manual_seed(12))
    torch.manual_seed(13)
    estimate = vl.iw_log_likelihood(model, x, k=k, chunk=7, log_likelihood=model.log_likelihood)
    assert estimate.dtype == torch.float64 and estimate.shape == (20,)
    torch.testing.assert_close(estimate, model.log_px(x), atol=1e-9, rtol=1e-9)


def test_iw_chunking_does_not_change_the_result():
    # With the exact posterior every draw gives log p(x) (up to rounding), so chunks of 3
    # (four chunks, the last one short) must give what one chunk of all ten rows gives,
    # row by row, whatever the draws.
    model = LinearGaussian()
    x = model.sample(10, torch.Generator().manual_seed(18))
    exact = model.log_px(x)
    assert (exact.max() - exact.min()).item() > 1.0  # a row out of place would show
    torch.manual_seed(19)
    whole = vl.iw_log_likelihood(model, x, k=7, chunk=500, log_likelihood=model.log_likelihood)
    chunked = vl.iw_log_likelihood(model, x, k=7, chunk=3, log_likelihood=model.log_likelihood)
    assert whole.shape == chunked.shape == (10,)
    torch.testing.assert_close(chunked, whole, atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(whole, exact, atol=1e-9, rtol=1e-9)


def test_iw_with_poor_encoder_approaches_log_px_as_k_grows():
    scale = 4.0  # q has the right mean but 4x the posterior variance
    model = LinearGaussian(posterior_var_scale=scale)
    x = model.sample(10, torch.Generator().manual_seed(14))
    exact = model.log_px(x)
    torch.manual_seed(15)
    gaps = {}
    for k, repeats in ((1, 400), (10, 100), (1000, 5)):
        estimates = torch.stack(
            [
                vl.iw_log_likelihood(model, x, k=k, log_likelihood=model.log_likelihood)
                for _ in range(repeats)
            ]
        )
        gaps[k] = (exact - estimates).mean().item()
    # With k = 1 the expected gap is KL(q || p(z|x)) = z_dim * 0.5 * (scale - 1 - log scale).
    expected_k1 = 3 * 0.5 * (scale - 1 - math.log(scale))
    assert gaps[1] == pytest.approx(expected_k1, abs=0.15)
    assert gaps[1] > gaps[10] > abs(gaps[1000])
    assert abs(gaps[1000]) < 0.05


def test_iw_with_shifted_encoder_is_a_lower_bound():
    # q's mean is off by 0.2 in every latent dimension (about 0.8 posterior sds in the
    # tightest one); its variance is 3x wider so that the importance weights stay tame.
    model = LinearGaussian(posterior_shift=0.2, posterior_var_scale=3.0)
    x = model.sample(10, torch.Generator().manual_seed(16))
    exact = model.log_px(x)
    torch.manual_seed(17)
    low_k = torch.stack(
        [
            vl.iw_log_likelihood(model, x, k=1, log_likelihood=model.log_likelihood)
            for _ in range(200)
        ]
    ).mean(0)
    high_k = torch.stack(
        [
            vl.iw_log_likelihood(model, x, k=2000, log_likelihood=model.log_likelihood)
            for _ in range(3)
        ]
    ).mean(0)
    assert (exact - low_k).mean().item() > 0.3
    assert (exact - high_k).abs().max().item() < 0.1
    assert abs((exact - high_k).mean().item()) < 0.05


def test_bernoulli_nll_gradients_match_torch():
    # vae_lib writes the gradient by hand (sigmoid(l) - x for the logits, -l for the
    # targets); it must be the gradient of torch's own binary cross-entropy.
    torch.manual_seed(0)
    logits = (4 * torch.randn(6, 1, 28, 28)).requires_grad_()
    x = torch.rand(6, 1, 28, 28).requires_grad_()
    weights = torch.randn(6)  # a different weight per example, to test the chain rule
    (vl.bernoulli_nll(logits, x) * weights).sum().backward()
    ours = logits.grad.clone(), x.grad.clone()
    logits.grad, x.grad = None, None
    expected = (
        torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
        .flatten(1)
        .sum(1)
    )
    (expected * weights).sum().backward()
    torch.testing.assert_close(ours[0], logits.grad, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ours[1], x.grad, atol=1e-6, rtol=1e-5)


def test_bernoulli_nll_passes_gradcheck_in_float64():
    logits = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    x = torch.rand(3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(vl.bernoulli_nll, (logits, x))


def test_bernoulli_nll_sums_bfloat16_logits_in_float32():
    torch.manual_seed(0)
    logits = (3 * torch.randn(4, 784)).to(torch.bfloat16)
    x = (torch.rand(4, 784) < 0.3).float()
    got = vl.bernoulli_nll(logits, x)
    assert got.dtype == torch.float32
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits.float(), x, reduction="none"
    ).sum(1)
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-5)


def test_cvae_loss_is_the_negative_conditional_elbo_with_torchs_kl():
    torch.manual_seed(0)
    model = vl.CVAE(z_dim=3, hidden=16)
    x = (torch.rand(5, 1, 28, 28) > 0.5).float()
    y = torch.arange(5)
    torch.manual_seed(1)
    terms = vl.cvae_loss(model, x, y)
    torch.manual_seed(1)
    logits, mu, logvar, mu_p, logvar_p = model(x, y)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(mu_p, torch.exp(0.5 * logvar_p)), 1)
    recon = Independent(Bernoulli(logits=logits.flatten(1)), 1).log_prob(x.flatten(1))
    assert terms["kl"].item() == pytest.approx(kl_divergence(q, p).mean().item(), rel=1e-5)
    assert terms["recon"].item() == pytest.approx(-recon.mean().item(), rel=1e-5)
    assert terms["loss"].item() == pytest.approx((terms["recon"] + terms["kl"]).item())
