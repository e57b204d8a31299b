"""vae_lib.models: shapes, ranges and clear errors of the shared models."""

import math

import pytest
import torch

import vae_lib as vl


@pytest.mark.parametrize("head", ["tanh", "logits"])
def test_conv_vae_shapes_and_range(head):
    torch.manual_seed(0)
    model = vl.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=6, head=head)
    x_hat, mu, logvar = model(torch.rand(3, 1, 32, 32) * 2 - 1)
    assert x_hat.shape == (3, 1, 32, 32) and mu.shape == logvar.shape == (3, 6)
    assert model.decode(torch.randn(5, 6)).shape == (5, 1, 32, 32)
    if head == "tanh":
        assert x_hat.abs().max() < 1
    else:
        assert isinstance(model.decoder[-1], torch.nn.Conv2d)


def test_conv_vae_has_the_posts_layout():
    # 5 conv blocks down, 5 transposed blocks up, as in source post 001.
    model = vl.ConvVAE()
    encoder_convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    decoder_convs = [m for m in model.decoder if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [m.out_channels for m in encoder_convs] == [32, 64, 128, 256, 512]
    assert [m.out_channels for m in decoder_convs] == [256, 128, 64, 32, 32]


@pytest.mark.parametrize("kwargs", [dict(widths=(8, 16)), dict(head="sigmoid"), dict(z_dim=0)])
def test_conv_vae_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="ConvVAE needs five channel widths"):
        vl.ConvVAE(**kwargs)


def test_conv_vae_says_how_to_fix_28x28_input():
    model = vl.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=2)
    with pytest.raises(ValueError, match="pad 28x28"):
        model(torch.rand(2, 1, 28, 28))


def test_padded_conv_vae_pads_the_input_and_crops_the_logits():
    torch.manual_seed(0)
    model = vl.PaddedConvVAE(widths=(4, 8, 8, 16, 16), z_dim=3).eval()
    x = torch.rand(5, 1, 28, 28)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    assert padded[..., 2:30, 2:30].equal(x) and padded[..., :2, :].abs().sum() == 0
    with torch.no_grad():
        for a, b in zip(model.encode(x), model.net.encode(padded)):
            assert torch.equal(a, b)
        z = torch.randn(5, 3)
        full = model.net.decode(z)
        assert full.shape == (5, 1, 32, 32)
        assert torch.equal(model.decode(z), full[..., 2:30, 2:30])
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model.encode(torch.rand(2, 1, 32, 32))


# ------------------------------------------------------------- forward samples z
# forward must decode a reparameterised sample z = mu + sigma * eps, not the mean mu. The
# models stay in train mode: a fresh ConvVAE in eval mode barely reacts to z (BatchNorm's
# running statistics are still at their initial values), and in train mode a forward pass is
# still deterministic given z, because BatchNorm uses the statistics of the batch.
def _conv():
    return vl.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=6, head="logits"), torch.rand(8, 1, 32, 32)


def _mlp():
    return vl.MLPVAE(z_dim=4, hidden=(16,)), torch.rand(8, 1, 28, 28)


def _padded():
    return vl.PaddedConvVAE(widths=(4, 8, 8, 16, 16), z_dim=6), torch.rand(8, 1, 28, 28)


MODELS = pytest.mark.parametrize(
    "make", [_conv, _mlp, _padded], ids=["ConvVAE", "MLPVAE", "PaddedConvVAE"]
)


@MODELS
def test_forward_draws_a_new_z_every_call(make):
    torch.manual_seed(0)
    model, x = make()
    model.train()
    with torch.no_grad():
        first, mu1, logvar1 = model(x)
        second, mu2, logvar2 = model(x)
    # Same input, same encoder output; only the draw of z differs between the calls.
    assert torch.equal(mu1, mu2) and torch.equal(logvar1, logvar2)
    assert (first - second).abs().max() > 1e-3


@MODELS
def test_forward_decodes_the_reparameterised_sample(make, monkeypatch):
    torch.manual_seed(0)
    model, x = make()
    model.train()
    calls = []
    # A stand-in "sample": a different offset for every example (BatchNorm in train mode
    # would cancel an offset shared by the whole batch).
    offset = torch.randn(len(x), model.z_dim, generator=torch.Generator().manual_seed(1))

    def fake_reparameterize(mu, logvar):
        calls.append((mu, logvar))
        return mu + offset

    monkeypatch.setattr(vl.models, "reparameterize", fake_reparameterize)
    with torch.no_grad():
        out, mu, logvar = model(x)
        mu_e, logvar_e = model.encode(x)
        ((mu_r, logvar_r),) = calls
        assert torch.equal(mu_r, mu_e) and torch.equal(logvar_r, logvar_e)
        assert torch.equal(mu, mu_e) and torch.equal(logvar, logvar_e)
        torch.testing.assert_close(out, model.decode(mu_e + offset))
        assert (out - model.decode(mu_e)).abs().max() > 1e-3  # decode(mu) is something else


@MODELS
def test_forward_with_a_tiny_variance_decodes_the_mean(make):
    torch.manual_seed(0)
    model, x = make()
    model.train()
    if isinstance(model, vl.PaddedConvVAE):
        stats = model.net.to_stats
    else:
        stats = model.to_stats if isinstance(model, vl.ConvVAE) else model.encoder[-1]
    z_dim = model.z_dim
    with torch.no_grad():
        stats.weight[z_dim:] = 0.0  # logvar = -40: sigma = 2e-9, so z = mu to float precision
        stats.bias[z_dim:] = -40.0
        out, mu, logvar = model(x)
        assert torch.equal(logvar, torch.full_like(logvar, -40.0))
        torch.testing.assert_close(out, model.decode(mu), atol=1e-5, rtol=1e-5)
        # ...while a unit-variance draw around the same mu decodes to something else.
        far = model.decode(mu + torch.randn_like(mu))
        assert (far - out).abs().max() > 1e-3


# ------------------------------------------------------------------ the CVAE
def test_cvae_shapes_and_the_fixed_prior():
    torch.manual_seed(0)
    x, y = torch.rand(6, 1, 28, 28), torch.arange(6)
    for learned in (True, False):
        model = vl.CVAE(z_dim=4, hidden=32, learned_prior=learned)
        logits, mu, logvar, mu_p, logvar_p = model(x, y)
        assert logits.shape == x.shape and mu.shape == logvar.shape == (6, 4)
        assert mu_p.shape == logvar_p.shape == (6, 4)
        assert model.decode(torch.randn(6, 4), y).shape == x.shape
        if not learned:
            assert mu_p.abs().sum() == 0 and logvar_p.abs().sum() == 0
        else:  # the prior depends on the label
            assert (mu_p[0] - mu_p[1]).abs().max() > 1e-4


def _direct_conditional_iw(model, x, label, k):
    """log p(x | y = label) from the formula, with vl.iw_log_likelihood's draws."""
    y = torch.full((len(x),), label)
    mu, logvar = model.encode(x, y)
    mu_p, logvar_p = model.prior(y)
    eps = torch.randn((k,) + tuple(mu.shape))
    z = mu + torch.exp(0.5 * logvar) * eps
    normal = torch.distributions.Normal
    log_q = normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    log_prior = normal(mu_p, torch.exp(0.5 * logvar_p)).log_prob(z).sum(-1)
    logits = model.decode(z.reshape(-1, mu.shape[1]), y.repeat(k))
    log_lik = vl.bernoulli_log_likelihood(logits, x.repeat(k, 1, 1, 1)).view(k, len(x))
    return torch.logsumexp(log_lik + log_prior - log_q, dim=0) - math.log(k)


@pytest.mark.parametrize("learned", [True, False])
def test_cvae_given_label_gives_the_conditional_importance_weighted_bound(learned):
    torch.manual_seed(0)
    model = vl.CVAE(z_dim=3, hidden=16, learned_prior=learned).eval()
    if learned:  # a prior far from N(0, I), so that forgetting to whiten shows
        with torch.no_grad():
            model.prior_net[-1].bias.copy_(torch.tensor([2.0, -1.0, 0.5, -1.5, 1.0, 0.3]))
    x = (torch.rand(5, 1, 28, 28) < 0.3).float()
    with torch.no_grad():
        torch.manual_seed(1)
        direct = _direct_conditional_iw(model, x, 7, k=30)
        torch.manual_seed(1)
        library = vl.iw_log_likelihood(vl.CVAEGivenLabel(model, 7), x, k=30, chunk=5)
    torch.testing.assert_close(library, direct, atol=2e-3, rtol=1e-5)
    with pytest.raises(ValueError, match="label must be in 0..9"):
        vl.CVAEGivenLabel(model, 10)
