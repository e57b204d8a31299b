"""Device choice and seeding: the two things every notebook does first."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

_KNOWN = ("cuda", "mps", "cpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device to run on: CUDA if available, else Apple MPS, else CPU.

    ``prefer`` forces one of ``"cuda"``, ``"mps"`` or ``"cpu"``; asking for an
    accelerator that is not there raises a ``RuntimeError`` that says so.
    """
    if prefer is not None:
        name = str(prefer).lower()
        if name not in _KNOWN:
            raise ValueError(
                f"Unknown device {prefer!r}: use one of {', '.join(_KNOWN)}, "
                "or None to let vae_lib choose."
            )
        if name == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "CUDA was requested but torch.cuda.is_available() is False. "
                "In Colab choose Runtime > Change runtime type > GPU; "
                "elsewhere pass prefer=None to fall back to the CPU."
            )
        if name == "mps" and not _mps_available():
            raise RuntimeError(
                "Apple MPS was requested but is not available on this machine; "
                "pass prefer=None to fall back to the CPU."
            )
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (all devices).

    Runs repeat exactly on the CPU; on a GPU some kernels are not
    bit-for-bit deterministic, so numbers may differ in the last digits.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}.")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}.")
    random.seed(int(seed))
    np.random.seed(int(seed))
    torch.manual_seed(int(seed))


@contextlib.contextmanager
def seeded(seed: int):
    """Run a block with torch's random generators seeded with seed, then put
    their state back: the same random draws every time, and the draws after
    the block unchanged. Used where two chapters must draw the same z."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield
