"""vae_lib: what the book's notebooks share that is not the lesson.

device choice and seeding (device), quick mode (mode), MNIST as tensors
(data), the exact linear-Gaussian model of the ELBO chapter
(linear_gaussian), toy 2-D data and its metrics (toy), the loss pieces (losses),
reference models (models), the training loop (train) and its checkpoints
(checkpoint), repeated runs and standard errors (stats), the KL weight as a
beta (beta), a digit classifier that judges images (classifier), AUROC and
PSNR (metrics), figures (plots), widgets (widgets) and in-page explorers
(explorer), the faster training paths (accel) and the trained models kept
for the results chapter (zoo), also downloadable as published
(published). The timing functions of the results chapter
(bench) are imported on their own: ``from vae_lib import bench``.
"""

from . import accel, exercises, linear_gaussian
from .beta import BetaEff, beta_eff, implied_sigma, sigma_ml
from .checkpoint import CheckpointError
from .checks import checks
from .classifier import DigitClassifier, digit_classifier, train_feature_classifier
from .data import MNIST, MNISTUnavailableError, balanced_subset, binarize, load_mnist
from .device import get_device, seed_everything, seeded
from .explorer import Explorer, image_explorer, point_explorer
from .losses import (
    bernoulli_log_likelihood,
    bernoulli_nll,
    bernoulli_vae_loss,
    cvae_loss,
    gaussian_nll,
    iw_log_likelihood,
    kl_diag_gaussians,
    kl_standard_normal,
    reparameterize,
)
from .metrics import active_units, auroc, auroc_placements, psnr, roc_curve
from .mode import choose, quick_mode
from .models import CVAE, MLPVAE, ConvVAE, CVAEGivenLabel, PaddedConvVAE
from .plots import latent_grid, plot_history, plot_latent_scatter, plot_manifold, show_images
from .prose import glue
from .published import PretrainedHashError, PretrainedUnavailable, pretrained
from .stats import (
    Estimate,
    Paired,
    SeedTable,
    Summary,
    default_seeds,
    difference,
    iw_estimate,
    mean_se,
    paired,
    paired_seeds_images,
    repeat_over_seeds,
    t_quantile,
)
from .toy import (
    distance_to_roll,
    energy_distance,
    make_swiss_roll,
    plot_posterior_ellipses,
    swiss_roll_curve,
    swiss_roll_log_density,
)
from .train import History, NonFiniteLossError, evaluate, fit, progress_bar
from .widgets import latent_explorer
from .zoo import ModelNotSavedError, load_model, n_parameters, save_model

__version__ = "0.2.0"

__all__ = [
    "MNIST",
    "MNISTUnavailableError",
    "balanced_subset",
    "binarize",
    "load_mnist",
    "get_device",
    "seed_everything",
    "seeded",
    "bernoulli_log_likelihood",
    "bernoulli_nll",
    "bernoulli_vae_loss",
    "cvae_loss",
    "gaussian_nll",
    "iw_log_likelihood",
    "kl_diag_gaussians",
    "kl_standard_normal",
    "reparameterize",
    "active_units",
    "auroc",
    "auroc_placements",
    "psnr",
    "roc_curve",
    "choose",
    "quick_mode",
    "ConvVAE",
    "CVAE",
    "CVAEGivenLabel",
    "MLPVAE",
    "PaddedConvVAE",
    "latent_grid",
    "plot_history",
    "plot_latent_scatter",
    "plot_manifold",
    "show_images",
    "History",
    "NonFiniteLossError",
    "evaluate",
    "fit",
    "checks",
    "progress_bar",
    "latent_explorer",
    "Explorer",
    "image_explorer",
    "point_explorer",
    "distance_to_roll",
    "energy_distance",
    "make_swiss_roll",
    "plot_posterior_ellipses",
    "swiss_roll_curve",
    "swiss_roll_log_density",
    "BetaEff",
    "beta_eff",
    "implied_sigma",
    "sigma_ml",
    "CheckpointError",
    "DigitClassifier",
    "digit_classifier",
    "train_feature_classifier",
    "Estimate",
    "SeedTable",
    "Summary",
    "default_seeds",
    "difference",
    "iw_estimate",
    "mean_se",
    "repeat_over_seeds",
    "Paired",
    "paired",
    "paired_seeds_images",
    "t_quantile",
    "glue",
    "accel",
    "exercises",
    "linear_gaussian",
    "ModelNotSavedError",
    "PretrainedHashError",
    "PretrainedUnavailable",
    "pretrained",
    "load_model",
    "n_parameters",
    "save_model",
]
