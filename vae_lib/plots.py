"""Figures the chapters share: image grids, loss curves, latent plots.

Every function draws on a matplotlib Axes (made if not given) and returns it,
so a notebook can combine them in its own figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid


def show_images(
    images: torch.Tensor,
    nrow: int = 8,
    ax=None,
    title: str | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
):
    """Show a batch of images (B, C, H, W) as one grid with ``nrow`` images per row.

    value_range: the pixel range of ``images``; (-1, 1) for Tanh outputs.
    """
    if images.dim() != 4:
        raise ValueError(
            f"show_images needs a (B, C, H, W) tensor, got shape {tuple(images.shape)}."
        )
    low, high = value_range
    pixels = ((images.detach().float().cpu() - low) / (high - low)).clamp(0, 1)
    grid = make_grid(pixels, nrow=nrow, padding=2, pad_value=1.0)
    ax = ax or plt.subplots(figsize=(nrow * 0.6, (len(images) / nrow) * 0.6 + 0.3))[1]
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_history(history, terms: list[str] | None = None, axes=None, unit: str = "nats per image"):
    """One panel per loss term: train and (if recorded) test curves against epoch."""
    terms = terms or list(history.train)
    if axes is None:
        _, axes = plt.subplots(1, len(terms), figsize=(4 * len(terms), 3), squeeze=False)
        axes = axes[0]
    epochs = np.arange(1, history.epochs + 1)
    for ax, name in zip(axes, terms):
        ax.plot(epochs, history.train[name], marker="o", ms=3, label="train")
        if name in history.test:
            ax.plot(epochs, history.test[name], marker="s", ms=3, label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{name} ({unit})")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    return axes


def plot_latent_scatter(
    z: torch.Tensor,
    labels: torch.Tensor,
    ax=None,
    title: str | None = None,
    cmap: str = "tab10",
    point_size: float = 3.0,
):
    """Scatter 2-D latent codes z (N, 2) coloured by integer labels (N,), each digit
    also written by the median of its codes, moved apart where labels would overlap
    and joined to the median by a line (so colour is not the only cue)."""
    if z.dim() != 2 or z.shape[1] != 2:
        raise ValueError(f"plot_latent_scatter needs codes of shape (N, 2), got {tuple(z.shape)}.")
    z = z.detach().cpu().numpy()
    labels = labels.detach().cpu().numpy()
    ax = ax or plt.subplots(figsize=(5.5, 5))[1]
    points = ax.scatter(
        z[:, 0], z[:, 1], c=labels, cmap=cmap, s=point_size, alpha=0.7, vmin=-0.5, vmax=9.5
    )
    ax.figure.colorbar(points, ax=ax, ticks=range(10), label="digit")
    digits = np.unique(labels)
    medians = np.stack([np.median(z[labels == d], axis=0) for d in digits])
    spread = np.ptp(z, axis=0).max() if len(z) > 1 else 1.0
    places = _spread_apart(medians, min_distance=0.08 * spread)
    for digit, median, place in zip(digits, medians, places):  # colour is not the only cue
        if np.linalg.norm(place - median) > 1e-9:
            ax.plot(*np.stack([median, place]).T, color="0.2", linewidth=0.8)
        ax.text(
            *place,
            str(digit),
            ha="center",
            va="center",
            fontsize=10,
            weight="bold",
            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="0.3", alpha=0.9),
        )
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)
    return ax


def _spread_apart(points: np.ndarray, min_distance: float, steps: int = 200) -> np.ndarray:
    """Move points (K, 2) apart until no two are closer than min_distance (or steps run out).

    Used to place labels: each overlapping pair is pushed apart along the line
    that joins them, half the shortfall each; a coincident pair along a fixed
    direction. Deterministic.
    """
    places = points.astype(float).copy()
    for _ in range(steps):
        moved = False
        for i in range(len(places)):
            for j in range(i + 1, len(places)):
                gap = places[i] - places[j]
                distance = float(np.hypot(*gap))
                if distance >= min_distance:
                    continue
                direction = gap / distance if distance > 1e-12 else np.array([1.0, 0.0])
                shift = 0.5 * (min_distance - distance) * direction
                places[i] += shift
                places[j] -= shift
                moved = True
        if not moved:
            break
    return places


def latent_grid(n: int = 15, span: float = 2.5) -> torch.Tensor:
    """An n x n grid of 2-D latent points covering [-span, span]^2, shape (n*n, 2).

    Row r runs top (z_2 = +span) to bottom, column c left (z_1 = -span) to right,
    so the decoded images read like the latent plane.
    """
    axis = torch.linspace(-span, span, n)
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)


@torch.no_grad()
def plot_manifold(
    decode, n: int = 15, span: float = 2.5, ax=None, device=None, title: str | None = None
):
    """Decode a 2-D latent grid and show the images in place (the 'manifold' figure).

    decode: maps z (B, 2) to pixel means (B, 1, H, W) in [0, 1].
    """
    z = latent_grid(n, span).to(device or "cpu")
    images = decode(z)
    ax = ax or plt.subplots(figsize=(6, 6))[1]
    show_images(images, nrow=n, ax=ax, title=title)
    return ax
