"""Scores for the applications chapter: ranking quality and restoration quality.

``auroc(normal, anomalous)`` is the area under the ROC curve of an anomaly
score (higher = more anomalous): the probability that a randomly chosen
anomalous input scores higher than a randomly chosen normal one, ties counted
as one half. 0.5 is a score that ranks at random, 1.0 a perfect one, and a
value below 0.5 a score that ranks the wrong way round.
``roc_curve(normal, anomalous)`` gives the curve itself, for plotting.
``psnr(restored, clean)`` is the peak signal-to-noise ratio per image, in dB.
"""

from __future__ import annotations

import torch


def _scores(values, name: str) -> torch.Tensor:
    v = torch.as_tensor(values, dtype=torch.float64).detach().cpu().flatten()
    if v.numel() == 0:
        raise ValueError(f"{name} is empty; an ROC needs at least one score per group.")
    if not torch.isfinite(v).all():
        raise ValueError(f"{name} holds NaN or infinite scores; fix or drop them first.")
    return v


def auroc(normal, anomalous) -> float:
    """Area under the ROC curve of a score that should be higher for anomalies.

    normal, anomalous: 1-D sequences or tensors of scores. Computed from the
    ranks (the Mann-Whitney U statistic), with tied scores given their average
    rank, so that AUROC = P(anomalous > normal) + P(tie) / 2 over all pairs.
    """
    a = _scores(normal, "normal")
    b = _scores(anomalous, "anomalous")
    both = torch.cat([a, b])
    values, inverse, counts = torch.unique(both, return_inverse=True, return_counts=True)
    below = torch.cumsum(counts, 0) - counts  # scores strictly below each value
    mean_rank = below.double() + (counts.double() + 1) / 2  # ranks count from 1
    rank_sum = mean_rank[inverse[len(a) :]].sum().item()
    n_a, n_b = len(a), len(b)
    return (rank_sum - n_b * (n_b + 1) / 2) / (n_a * n_b)


def auroc_placements(normal, anomalous) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image's share of the AUROC (DeLong's placement values), float64.

    u (n,): for each normal score, the share of anomalous scores above it;
    v (m,): for each anomalous score, the share of normal scores below it;
    a tie counts one half. u.mean() and v.mean() both equal ``auroc``, and
    var(u) / n + var(v) / m is DeLong's variance of the AUROC, which is how
    ``paired_seeds_images`` counts the test images' sampling error.
    """
    a = _scores(normal, "normal").double()
    b = _scores(anomalous, "anomalous").double()
    pairs = (b[None, :] > a[:, None]).double() + 0.5 * (b[None, :] == a[:, None]).double()
    return pairs.mean(1), pairs.mean(0)


def roc_curve(normal, anomalous) -> tuple[torch.Tensor, torch.Tensor]:
    """False and true positive rates (fpr, tpr) as the threshold falls.

    A threshold t flags every input with score >= t. The curve runs from
    (0, 0) (nothing flagged) to (1, 1) (everything flagged), with one point
    per distinct score; its area by the trapezoid rule equals ``auroc``.
    """
    a = _scores(normal, "normal")
    b = _scores(anomalous, "anomalous")
    thresholds = torch.unique(torch.cat([a, b])).flip(0)  # highest first
    fpr = (a[None, :] >= thresholds[:, None]).double().mean(1)
    tpr = (b[None, :] >= thresholds[:, None]).double().mean(1)
    zero = torch.zeros(1, dtype=torch.float64)
    return torch.cat([zero, fpr]), torch.cat([zero, tpr])


def psnr(restored: torch.Tensor, clean: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image, in dB: shape (B,).

    PSNR = 10 log10(data_range^2 / MSE), MSE the mean squared error over the
    pixels of one image; data_range is 1 for images in [0, 1]. Higher is
    better; every halving of the root-mean-square error adds about 6 dB. A
    perfect restoration (MSE 0) is capped at 100 dB instead of infinity.
    """
    if restored.shape != clean.shape:
        raise ValueError(
            f"psnr needs two batches of the same shape, got {tuple(restored.shape)} and "
            f"{tuple(clean.shape)}."
        )
    if restored.dim() < 2:
        raise ValueError(f"psnr expects a batch (B, ...), got shape {tuple(restored.shape)}.")
    mse = (restored.double() - clean.double()).pow(2).flatten(1).mean(1)
    floor = data_range**2 * 1e-10  # 100 dB
    return 10 * torch.log10(data_range**2 / mse.clamp_min(floor))


def active_units(means: torch.Tensor, threshold: float = 0.01) -> int:
    """The number of active latent dimensions (Burda et al., 2015).

    means: (N, D) encoder means mu(x) over N images (for a conditional model,
    the means in the prior's units). Dimension j is active when its mean
    varies across images, Var_x(mu_j(x)) > threshold; an inactive one has
    q(z_j | x) equal for every x and carries no information about x.
    """
    if not isinstance(means, torch.Tensor) or means.dim() != 2 or len(means) < 2:
        shape = tuple(means.shape) if isinstance(means, torch.Tensor) else type(means).__name__
        raise ValueError(
            f"active_units needs encoder means of shape (N, D) with N >= 2, got {shape}; "
            "pass mu from mu, logvar = model.encode(x)."
        )
    return int((means.detach().float().var(dim=0) > threshold).sum())
