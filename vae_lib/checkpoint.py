"""Save a training run after every epoch and resume it: what ``fit(checkpoint=...)`` uses.

A checkpoint is one file written by ``torch.save`` holding only plain data
(state dicts, lists of floats, generator states as tensors), so it loads with
``torch.load(..., weights_only=True)``: opening a checkpoint never runs code.

    {"format": "vae_lib-checkpoint-1",
     "model": model.state_dict(), "optimizer": optimizer.state_dict(),
     "history": {"train": {...}, "test": {...}, "seconds": [...]},
     "rng": {"torch": ByteTensor, "cuda": [ByteTensor, ...],
             "numpy": {...}, "python": (...)}}

``save`` writes to a temporary file in the same folder and renames it over the
old checkpoint only when the write has succeeded, so an interrupted or failed
save leaves the previous checkpoint as it was.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

FORMAT = "vae_lib-checkpoint-1"


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read or does not belong to this model."""


def exists(path: str | os.PathLike) -> bool:
    """True when ``path`` is an existing file (a folder is an error)."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(
            f"checkpoint path {path} is a folder; give a file name such as {path / 'run.pt'}."
        )
    return path.is_file()


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    random.setstate(_as_tuple(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuple(value):
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def save(
    path: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer, history
) -> Path:
    """Write model, optimiser, history and RNG states to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": {"train": history.train, "test": history.test, "seconds": history.seconds},
        "rng": _rng_state(),
    }
    return atomic_save(payload, path)


def library_sha256(folder: str | os.PathLike | None = None) -> str:
    """Hex SHA-256 over a vae_lib source tree (each .py and .js file's path and bytes).

    folder: the package folder; by default this installed vae_lib. The hash ties
    a result to the code that made it: the stored outputs of a chapter
    (scripts/notebook_hash.py) and the cached digit classifier carry it. The .js
    files count because the explorers' outputs embed explorer.js.
    """
    folder = Path(__file__).resolve().parent if folder is None else Path(folder)
    digest = hashlib.sha256()
    sources = [source for suffix in ("py", "js") for source in folder.rglob(f"*.{suffix}")]
    for path in sorted(sources):
        digest.update(f"{folder.name}/{path.relative_to(folder).as_posix()}".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def atomic_save(payload: dict, path: Path) -> Path:
    """torch.save(payload) to a temporary file beside ``path``, then rename it over path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike) -> dict:
    """Read a checkpoint with ``weights_only=True``; raise CheckpointError if it is not one."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(
            f"{path} could not be read as a checkpoint ({type(error).__name__}: "
            f"{str(error)[:300]}). The file is damaged or was not written by vae_lib.fit; "
            "move it away or pass another path to start afresh."
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a vae_lib checkpoint (expected format {FORMAT!r}); "
            "move it away or pass another path."
        )
    return payload


def check_matches(path: Path, model: torch.nn.Module, saved: dict) -> None:
    """Raise CheckpointError naming what differs when ``saved`` is not ``model``'s state dict."""
    own = model.state_dict()
    missing = sorted(set(own) - set(saved))
    extra = sorted(set(saved) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(saved[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(saved))
        if tuple(saved[k].shape) != tuple(own[k].shape)
    ]
    if missing or extra or shapes:
        details = []
        if missing:
            details.append(f"missing from the checkpoint: {', '.join(missing[:5])}")
        if extra:
            details.append(f"not in the model: {', '.join(extra[:5])}")
        if shapes:
            details.append("different shapes: " + "; ".join(shapes[:5]))
        raise CheckpointError(
            f"{path} was saved from a different model ({' | '.join(details)}). "
            "Build the same model as the run that wrote it, or pass another path; "
            "the file was left as it is."
        )


def restore(
    path: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer, history
) -> None:
    """Load a checkpoint into ``model``, ``optimizer`` and ``history`` (filled in place)."""
    path = Path(path)
    payload = load(path)
    check_matches(path, model, payload["model"])
    model.load_state_dict(payload["model"])
    try:
        optimizer.load_state_dict(payload["optimizer"])
    except (ValueError, KeyError) as error:
        raise CheckpointError(
            f"{path} holds an optimiser state that does not fit this optimiser ({error}). "
            "Use the same optimiser as the run that wrote it."
        ) from error
    saved = payload["history"]
    history.train.clear()
    history.train.update(saved["train"])
    history.test.clear()
    history.test.update(saved["test"])
    history.seconds[:] = saved["seconds"]
    _set_rng_state(payload["rng"])
