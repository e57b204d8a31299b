"""Checkers for chapter 6's exercises (what VAEs are used for).

apps-ex-auroc: ``auroc_by_pairs(normal, anomalous)``. normal, anomalous: 1-D
    float64 tensors of anomaly scores (higher = more anomalous), of any two
    lengths. Returns the AUROC as a float: the share of all (normal,
    anomalous) pairs in which the anomaly scores higher, a tie counting one
    half.
apps-ex-blank: ``most_likely_image(p)``. p: a tensor of per-pixel
    probabilities of ink, in (0, 1), of any shape (the chapter's p_bg is
    (1, 28, 28)), none of them exactly 0.5. Returns a tuple (image, nll):
    image, a tensor of p's shape holding 0s and 1s, is the binary image of
    highest probability when every pixel is an independent Bernoulli(p);
    nll is its -log probability in nats, summed over all pixels (a float).

apps-ex-ratio is a predict-then-run experiment (a training run over seeds)
and has no checker.

All cases run on the CPU in float64, in well under a second.
"""

from __future__ import annotations

import torch

from ._core import Case, checker


def _auroc_by_pairs(normal: torch.Tensor, anomalous: torch.Tensor) -> float:
    above = (anomalous[:, None] > normal[None, :]).double()
    tied = (anomalous[:, None] == normal[None, :]).double()
    return (above + 0.5 * tied).mean().item()


def _scores(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


@checker("apps-ex-auroc")
def _auroc_cases() -> list:
    gen = torch.Generator().manual_seed(6)
    # scores rounded to one decimal, so that some of the 60,000 pairs tie
    many_normal = (torch.randn(300, generator=gen, dtype=torch.float64) * 10).round() / 10
    many_anomalous = (torch.randn(200, generator=gen, dtype=torch.float64) * 10 + 5).round() / 10
    pairs = {
        "anomalies should score higher: P(anomalous > normal), not P(normal > anomalous)": (
            _scores(0.8, 0.2, 0.3),
            _scores(0.6, 0.5, 0.4),
        ),
        "ties count one half, neither 0 nor 1": (
            _scores(5.0, 6.0, 5.0),
            _scores(5.0, 6.0, 6.0),
        ),
        "every (normal, anomalous) pair: not image against image, not against the mean": (
            _scores(1.0, 4.0, 2.0, 3.0),
            _scores(3.5, 5.0),
        ),
        "300 normal and 200 anomalous scores, some tied": (many_normal, many_anomalous),
    }
    return [
        Case(name, (normal, anomalous), expected=_auroc_by_pairs(normal, anomalous))
        for name, (normal, anomalous) in pairs.items()
    ]


def _most_likely_image(p: torch.Tensor) -> tuple:
    image = (p > 0.5).double()
    nll = -torch.log(torch.where(p > 0.5, p, 1 - p)).sum().item()
    return image, nll


@checker("apps-ex-blank")
def _blank_cases() -> list:
    gen = torch.Generator().manual_seed(7)
    p_map = torch.sigmoid(2 * torch.randn(1, 28, 28, generator=gen, dtype=torch.float64) - 1.5)
    maps = {
        "a pixel with p = 0.7 is on in the most likely image (not a blank page, "
        "not a grey level)": _scores(0.7).view(1, 1, 1),
        "nats summed over the pixels, not averaged": _scores(0.6, 0.9, 0.8).view(1, 1, 3),
        "an off pixel costs -log(1 - p), not -log p and not nothing": _scores(
            0.2, 0.9, 0.05, 0.6
        ).view(1, 2, 2),
        "a (1, 28, 28) map like p_bg": p_map,
    }
    return [Case(name, (p,), expected=_most_likely_image(p)) for name, p in maps.items()]
