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
