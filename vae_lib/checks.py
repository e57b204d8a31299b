"""Input checks that cost a host sync, and the switch that skips them.

A range check such as ``x.min() >= 0`` makes the CPU wait for the GPU. Outside
training, every call checks. ``fit`` checks its first batch and then runs the
rest of training inside ``checks(False)``, so the hot loop never syncs.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_ENABLED = contextvars.ContextVar("vae_lib_checks", default=True)


def checks_enabled() -> bool:
    """True unless inside ``checks(False)``."""
    return _ENABLED.get()


@contextmanager
def checks(enabled: bool) -> Iterator[None]:
    """Turn the syncing input checks on or off inside a ``with`` block."""
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def check_unit_range(x: torch.Tensor, what: str) -> None:
    """Raise ValueError if ``x`` has values outside [0, 1] (when checks are on)."""
    if not torch.is_floating_point(x):
        raise TypeError(f"{what} must be a floating-point tensor, got {x.dtype}.")
    if not checks_enabled() or x.numel() == 0:
        return
    low, high = torch.aminmax(x.detach())
    if low < 0 or high > 1:
        raise ValueError(
            f"{what} must lie in [0, 1], but its values span "
            f"[{low.item():.3g}, {high.item():.3g}]. Bernoulli likelihoods and "
            "binarisation need pixel intensities; if the data was standardised "
            "(e.g. Normalize((0.1307,), (0.3081,))), undo it or use a Gaussian "
            "likelihood instead."
        )
