"""The KL weight as a beta, on one scale for the whole book (see the notation page).

Many losses in the wild are ``recon_weight * SSE + kl_weight * KL`` per
example, SSE being the squared error summed over the D data dimensions (a
mean over pixels is recon_weight = 1 / D). Such a loss is proportional to the
negative ELBO of a Gaussian decoder N(x; mean, sigma^2 I) with beta = 1 at
exactly one sigma, the *implied* sigma:

    sigma_implied^2 = kl_weight / (2 * recon_weight)      (data units)

The trained model's own noise level is the maximum-likelihood sigma of that
decoder, sigma_ML^2 = its mean squared error per dimension. Against it, the
loss weights the KL by

    beta_eff = sigma_implied^2 / sigma_ML^2.

beta_eff = 1: the loss is the ELBO of the model's own noise level;
beta_eff > 1: the KL counts more than the ELBO says (smoother, blurrier);
beta_eff < 1: less (sharper reconstructions, a worse match to the prior).
Both sigmas are reported on the [0, 1] pixel scale: pass ``data_width = 2``
for data in [-1, 1]. beta_eff itself does not depend on the scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return value


def implied_sigma(kl_weight: float, recon_weight: float = 1.0, data_width: float = 1.0) -> float:
    """The decoder sigma, on the [0, 1] scale, at which the loss is the beta = 1 ELBO."""
    kl_weight = _positive("kl_weight", kl_weight)
    recon_weight = _positive("recon_weight", recon_weight)
    return math.sqrt(kl_weight / (2.0 * recon_weight)) / _positive("data_width", data_width)


def sigma_ml(mse_per_dim: float, data_width: float = 1.0) -> float:
    """The maximum-likelihood decoder sigma on the [0, 1] scale, from the MSE per dimension.

    mse_per_dim: the trained model's mean squared error per data dimension, in
    data units (e.g. on [-1, 1] with data_width = 2).
    """
    return math.sqrt(_positive("mse_per_dim", mse_per_dim)) / _positive("data_width", data_width)


@dataclass
class BetaEff:
    """The small table every chapter that weights a KL prints."""

    sigma_implied: float
    sigma_ml: float
    beta_eff: float

    def __str__(self) -> str:
        rows = [
            ("implied sigma on [0, 1]", f"{self.sigma_implied:.4f}"),
            ("sigma_ML of the trained model on [0, 1]", f"{self.sigma_ml:.4f}"),
            ("beta_eff = implied^2 / ML^2", f"{self.beta_eff:.3g}"),
        ]
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def beta_eff(
    kl_weight: float, recon_weight: float, mse_per_dim: float, data_width: float = 1.0
) -> BetaEff:
    """beta_eff of ``recon_weight * SSE + kl_weight * KL`` for a model with this test MSE.

    mse_per_dim: the trained model's mean squared error per dimension in data
    units; data_width: 1 for data in [0, 1], 2 for [-1, 1].
    """
    s_imp = implied_sigma(kl_weight, recon_weight, data_width)
    s_ml = sigma_ml(mse_per_dim, data_width)
    return BetaEff(sigma_implied=s_imp, sigma_ml=s_ml, beta_eff=(s_imp / s_ml) ** 2)
