"""beta_eff: the KL weight of an MSE + w * KL loss against the model's own noise level."""

import math

import pytest

import vae_lib as vl


def test_implied_sigma_by_hand_for_post_001():
    # Mean MSE over 32 x 32 pixels on [-1, 1] plus 0.00025 KL:
    # sigma^2 = w / (2 * (1/1024)) = 0.128 in [-1, 1] units, so sigma = 0.3578 there
    # and 0.1789 on the [0, 1] scale.
    assert vl.implied_sigma(0.00025, 1 / 1024, data_width=2) == pytest.approx(
        math.sqrt(0.128) / 2, rel=1e-12
    )
    assert vl.implied_sigma(0.00025, 1 / 1024, data_width=2) == pytest.approx(0.17889, abs=1e-5)


def test_beta_eff_by_hand():
    # A test MSE of 0.0315 on [-1, 1] is sigma_ML = sqrt(0.0315) / 2 = 0.08874 on [0, 1];
    # beta_eff = 0.128 / 0.0315 = 4.063.
    b = vl.beta_eff(0.00025, 1 / 1024, 0.0315, data_width=2)
    assert b.sigma_ml == pytest.approx(math.sqrt(0.0315) / 2)
    assert b.beta_eff == pytest.approx(0.128 / 0.0315)
    text = str(b)
    assert "implied sigma on [0, 1]" in text and "0.1789" in text and "4.06" in text


def test_beta_eff_is_one_for_the_elbo_at_the_models_own_noise():
    # The ELBO with sigma^2 = 0.01 is SSE / (2 * 0.01) + KL: recon_weight 50, kl_weight 1.
    assert vl.beta_eff(1.0, 50.0, 0.01).beta_eff == pytest.approx(1.0)


def test_beta_eff_does_not_depend_on_the_data_scale():
    # One loss written in [-1, 1] units (squared errors 4x larger) or in [0, 1] units
    # (recon_weight 4x larger) is the same loss: same sigmas on [0, 1], same beta_eff.
    a = vl.beta_eff(1e-5, 4 / 784, 0.02, data_width=1)
    b = vl.beta_eff(1e-5, 1 / 784, 0.08, data_width=2)
    assert a.beta_eff == pytest.approx(b.beta_eff)
    assert a.sigma_implied == pytest.approx(b.sigma_implied)
    assert a.sigma_ml == pytest.approx(b.sigma_ml)


@pytest.mark.parametrize(
    "args", [(0.0, 1.0, 0.1), (1.0, -1.0, 0.1), (1.0, 1.0, 0.0), (float("nan"), 1.0, 0.1)]
)
def test_beta_eff_refuses_non_positive_inputs(args):
    with pytest.raises(ValueError, match="positive finite"):
        vl.beta_eff(*args)
