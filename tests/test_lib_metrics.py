"""vae_lib.metrics: AUROC, the ROC curve and PSNR against hand-computed values."""

import math

import pytest
import torch

import vae_lib as vl
from vae_lib.metrics import auroc, psnr, roc_curve


def brute_force_auroc(normal, anomalous):
    pairs = [(b > a) + 0.5 * (b == a) for a in normal for b in anomalous]
    return sum(float(p) for p in pairs) / len(pairs)


def test_auroc_perfect_reversed_and_tied():
    assert auroc([0.0, 1.0, 2.0], [3.0, 4.0]) == 1.0
    assert auroc([3.0, 4.0], [0.0, 1.0, 2.0]) == 0.0
    assert auroc([1.0, 1.0], [1.0, 1.0, 1.0]) == 0.5


def test_auroc_equals_pairwise_count_with_ties():
    gen = torch.Generator().manual_seed(0)
    normal = torch.randint(0, 6, (40,), generator=gen).float()
    anomalous = torch.randint(2, 9, (30,), generator=gen).float()
    expected = brute_force_auroc(normal.tolist(), anomalous.tolist())
    assert auroc(normal, anomalous) == pytest.approx(expected, abs=1e-12)


def test_auroc_is_invariant_to_monotone_maps():
    gen = torch.Generator().manual_seed(1)
    normal, anomalous = torch.randn(50, generator=gen), torch.randn(60, generator=gen) + 1
    assert auroc(normal, anomalous) == pytest.approx(auroc(normal.exp(), anomalous.exp()))


def test_auroc_rejects_empty_and_nan():
    with pytest.raises(ValueError, match="empty"):
        auroc([], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        auroc([1.0, float("nan")], [2.0])


def test_roc_curve_runs_from_origin_to_corner_and_integrates_to_auroc():
    gen = torch.Generator().manual_seed(2)
    normal = torch.randint(0, 10, (70,), generator=gen).float()
    anomalous = torch.randint(3, 14, (50,), generator=gen).float()
    fpr, tpr = roc_curve(normal, anomalous)
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert (fpr.diff() >= 0).all() and (tpr.diff() >= 0).all()
    area = torch.trapezoid(tpr, fpr).item()
    assert area == pytest.approx(auroc(normal, anomalous), abs=1e-12)


def test_psnr_known_values():
    clean = torch.zeros(2, 1, 4, 4)
    restored = clean.clone()
    restored[0] += 0.1  # MSE 0.01 -> 20 dB
    restored[1] += 0.5  # MSE 0.25 -> 10 log10(4) dB
    out = psnr(restored, clean)
    assert out.shape == (2,)
    assert out[0].item() == pytest.approx(20.0)
    assert out[1].item() == pytest.approx(10 * math.log10(4.0))
    assert psnr(clean, clean)[0].item() == pytest.approx(100.0)
    assert psnr(restored * 2, clean * 2, data_range=2.0)[0].item() == pytest.approx(20.0)


def test_psnr_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 5))


def test_active_units_counts_dimensions_whose_mean_varies():
    torch.manual_seed(0)
    means = torch.zeros(500, 4)
    means[:, 0] = torch.randn(500)  # variance 1: active
    means[:, 1] = 0.05 * torch.randn(500)  # variance 0.0025: inactive
    means[:, 3] = 3.0  # constant: inactive
    assert vl.active_units(means) == 1
    assert vl.active_units(means, threshold=0.001) == 2


def test_active_units_refuses_what_is_not_a_batch_of_means():
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        vl.active_units(torch.zeros(10))
    with pytest.raises(ValueError, match="N >= 2"):
        vl.active_units(torch.zeros(1, 3))
