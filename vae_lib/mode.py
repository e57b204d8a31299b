"""Quick mode: the one switch that shrinks data and epochs.

Full mode is the default: it is what readers get and what the stored notebook
outputs come from. Quick mode is on when the environment variable ``VAE_QUICK``
is truthy, or when ``CI`` is set (and ``VAE_QUICK`` does not say otherwise).
Tests and CI run every notebook in quick mode so that each finishes in a
minute or two on a laptop CPU.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off", ""}


def quick_mode() -> bool:
    """Return True when notebooks should run in quick mode."""
    raw = os.environ.get("VAE_QUICK")
    if raw is not None:
        value = raw.strip().lower()
        if value in _ON:
            return True
        if value in _OFF:
            return False
        raise ValueError(
            f"VAE_QUICK={raw!r} is not understood: set it to 1 for quick mode or 0 for full mode."
        )
    return bool(os.environ.get("CI", "").strip())


def choose(full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Notebooks use this for every size that quick mode shrinks, e.g.
    ``epochs = choose(full=20, quick=2)``.
    """
    return quick if quick_mode() else full
