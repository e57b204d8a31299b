"""vae_lib.models: shapes, ranges and clear errors of the shared models."""

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


# ------------------------------------------------------------- forward samples z
# forward must decode a reparameterised sample z = mu + sigma * eps, not the mean mu. The
# models stay in train mode: a fresh ConvVAE in eval mode barely reacts to z (BatchNorm's
# running statistics are still at their initial values), and in train mode a forward pass is
# still deterministic given z, because BatchNorm uses the statistics of the batch.
def _conv():
    return vl.ConvVAE(widths=(4, 8, 8, 16, 16), z_dim=6, head="logits"), torch.rand(8, 1, 32, 32)


def _mlp():
    return vl.MLPVAE(z_dim=4, hidden=(16,)), torch.rand(8, 1, 28, 28)


MODELS = pytest.mark.parametrize("make", [_conv, _mlp], ids=["ConvVAE", "MLPVAE"])


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
