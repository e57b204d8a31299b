"""The book's trained models, kept between chapters for the results chapter.

A chapter that trains one of the book's reference models ends with
``save_model(name, model, ...)``; the results chapter rebuilds the same
architecture and calls ``load_model(name, model)`` to score it. Each file
holds plain data only (a state dict and a dict of facts about the run), so it
loads with ``torch.load(..., weights_only=True)``, and it is written to a
temporary file first, then renamed, so a failed save never destroys an
earlier one.

Where: ``$VAE_BOOK_MODELS`` if set, else ``models/`` in vae_lib's cache
folder (``~/.cache/vae_lib``, or ``$VAE_LIB_DATA``), with one subfolder per
mode: a quick run (tests, CI) never overwrites a model trained in full.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import torch

from . import checkpoint as ckpt
from .data import default_root
from .mode import quick_mode

FORMAT = "vae_lib-model-1"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")


class ModelNotSavedError(FileNotFoundError):
    """No saved model of that name: the chapter that trains it has not run here."""


def models_dir(quick: bool | None = None) -> Path:
    """The folder for this mode's saved models (it may not exist yet)."""
    quick = quick_mode() if quick is None else quick
    root = os.environ.get("VAE_BOOK_MODELS") or default_root() / "models"
    return Path(root) / ("quick" if quick else "full")


def _path(name: str) -> Path:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"model name must be lower-case letters, digits, '.', '_' or '-', got {name!r}."
        )
    return models_dir() / f"{name}.pt"


def n_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_model(name: str, model: torch.nn.Module, **facts) -> Path:
    """Save ``model``'s weights under ``name`` with facts about its training.

    facts: plain values (str, int, float, bool) such as chapter, epochs,
    batch_size, seconds, data. The parameter count, the mode, the vae_lib
    version and the time are added. Returns the file's path.
    """
    from . import __version__

    for key, value in facts.items():
        if not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"fact {key!r} must be a str, int, float or bool, got {value!r}.")
    facts = dict(
        facts,
        parameters=n_parameters(model),
        mode="quick" if quick_mode() else "full",
        vae_lib=__version__,
        saved=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return ckpt.atomic_save({"format": FORMAT, "model": state, "facts": facts}, _path(name))


def load_model(name: str, model: torch.nn.Module) -> dict:
    """Load the weights saved under ``name`` into ``model``; return their facts.

    Raises ModelNotSavedError when no such model was saved in this mode, and
    vae_lib.CheckpointError when the file is damaged or holds another
    architecture (the file is left as it is).
    """
    path = _path(name)
    if not path.is_file():
        raise ModelNotSavedError(
            f"No saved model {name!r} in {path.parent}. The chapter that trains it saves it "
            "at its end: run that chapter first (in the same mode), then this cell again."
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ckpt.CheckpointError(
            f"{path} could not be read ({type(error).__name__}: {str(error)[:300]}); run the "
            "chapter that trains it again to replace it."
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ckpt.CheckpointError(f"{path} is not a saved vae_lib model (format {FORMAT!r}).")
    ckpt.check_matches(path, model, payload["model"])
    model.load_state_dict(payload["model"])
    return dict(payload["facts"])
