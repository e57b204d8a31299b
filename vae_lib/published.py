"""The book's trained models, downloaded on demand: ``pretrained(name, model)``.

A full run of the book trains each reference model once and keeps it with
``vl.save_model``. ``scripts/publish_models.py`` turns those files into release
assets (float16 weights, same format) and pins each file's SHA-256 in
``published.json`` beside this module, together with the release it belongs
to (``repository.url`` and ``repository.release`` of the book's
``_config.yml``; a test keeps them equal). A reader without the time or the
machine to train, such as a fresh Colab runtime, downloads a model instead:

    model = vl.MLPVAE(z_dim=50, hidden=(200, 200))
    facts = vl.pretrained("ch7-mlp-long", model)   # weights loaded in place

The file is downloaded once (with a progress bar), its hash checked before
anything reads it, and cached in ``pretrained/`` of vae_lib's cache folder
(``~/.cache/vae_lib`` or ``$VAE_LIB_DATA``); it loads with
``torch.load(..., weights_only=True)``. ``$VAE_BOOK_PRETRAINED_URL`` replaces the
release's address (a mirror, or a local server in the tests).

What can go wrong, and what happens:

* the file's hash is not the pinned one: it is deleted and
  ``PretrainedHashError`` says so (nothing reads it);
* no network, downloads switched off (``$VAE_LIB_OFFLINE``), a server that is
  down, or a release without the file: ``PretrainedUnavailable`` says which,
  and how to get the model the other way, by training it here (the chapter
  that trains it saves it with ``vl.save_model``).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import torch

from . import checkpoint as ckpt
from .data import default_root, downloads_disabled
from .zoo import FORMAT

MANIFEST = Path(__file__).with_name("published.json")
URL_ENV = "VAE_BOOK_PRETRAINED_URL"
_CHUNK = 1 << 16


class PretrainedUnavailable(RuntimeError):
    """The model could not be downloaded (offline, server down, or not in the release)."""


class PretrainedHashError(ckpt.CheckpointError):
    """A downloaded file was not the published one; it has been deleted."""


def manifest(path: str | os.PathLike | None = None) -> dict:
    """The pinned list of published models: {"release", "url", "models": {name: entry}}.

    Each entry: file (the asset's name), sha256, bytes, chapter (the one that
    trains it), dtype (of the stored weights), score_change_nats (how much
    float16 storage moved the model's scores, measured when it was published).
    """
    with open(path or MANIFEST, encoding="utf-8") as handle:
        return json.load(handle)


def available() -> list[str]:
    """Names of the published models, in the manifest's order."""
    return list(manifest()["models"])


def cache_dir() -> Path:
    """Where downloaded models are kept (it may not exist yet)."""
    return default_root() / "pretrained"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(name: str, pinned: dict) -> dict:
    models = pinned.get("models", {})
    if name not in models:
        raise ValueError(
            f"No published model is called {name!r}. Published: {', '.join(models) or 'none'}."
        )
    return models[name]


def _train_instead(name: str, entry: dict) -> str:
    chapter = entry.get("chapter", "the chapter that trains it")
    return (
        f"To get {name!r} without downloading, train it here: run {chapter} (it saves the "
        "model with vl.save_model), or set the chapter's switch to train instead of loading."
    )


def _download(url: str, target: Path, entry: dict, name: str) -> None:
    """Stream ``url`` to ``target`` (via a temporary file), checking size and hash."""
    from .train import progress_bar

    partial = target.with_name(f".{target.name}.part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
            bar = progress_bar(
                total=entry.get("bytes"), unit="B", unit_scale=True, desc=f"download {name}"
            )
            with bar:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != entry["sha256"]:
        partial.unlink(missing_ok=True)
        raise PretrainedHashError(
            f"The file downloaded from {url} is not the published {name!r}: its SHA-256 is "
            f"{digest.hexdigest()[:16]}..., the manifest pins {entry['sha256'][:16]}.... It was "
            "deleted without being read. Try again later; if it keeps happening, the release "
            "and this vae_lib disagree: install the vae_lib of the book's release."
        )
    os.replace(partial, target)


def fetch(name: str, *, pinned: dict | None = None) -> Path:
    """The local path of the published model ``name``, downloading it if needed.

    A cached file is used only while its hash is the pinned one (otherwise it
    is deleted and downloaded again).
    """
    pinned = manifest() if pinned is None else pinned
    entry = _entry(name, pinned)
    target = cache_dir() / f"{name}-{entry['sha256'][:12]}.pt"
    if target.is_file():
        if sha256_of(target) == entry["sha256"]:
            return target
        target.unlink()
    base = os.environ.get(URL_ENV) or pinned["url"]
    url = base.rstrip("/") + "/" + entry["file"]
    if downloads_disabled():
        raise PretrainedUnavailable(
            f"Downloads are switched off ($VAE_LIB_OFFLINE), so {name!r} cannot be fetched from "
            f"{url}. " + _train_instead(name, entry)
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _download(url, target, entry, name)
    except urllib.error.HTTPError as error:
        raise PretrainedUnavailable(
            f"The release has no file for {name!r}: {url} answered HTTP {error.code} "
            f"({error.reason}). " + _train_instead(name, entry)
        ) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise PretrainedUnavailable(
            f"Could not reach {url} ({reason}): this runtime may be offline, or the server "
            "down. " + _train_instead(name, entry)
        ) from error
    return target


def pretrained(name: str, model: torch.nn.Module, *, pinned: dict | None = None) -> dict:
    """Load the published weights of ``name`` into ``model``; return their facts.

    model: built with the same architecture as the published one (the chapter
    that trains it says how); its parameters keep their dtype and device.
    Returns the facts saved with the model (chapter, epochs, batch_size,
    seconds, parameters, ...) plus ``pretrained``: the release it came from.
    Raises PretrainedUnavailable (cannot download; train it instead),
    PretrainedHashError (the file was not the published one; deleted) and
    vae_lib.CheckpointError (the model's architecture differs).
    """
    pinned = manifest() if pinned is None else pinned
    path = fetch(name, pinned=pinned)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ckpt.CheckpointError(f"{path} is not a saved vae_lib model (format {FORMAT!r}).")
    ckpt.check_matches(path, model, payload["model"])
    model.load_state_dict(payload["model"])  # copies cast float16 to the model's dtype
    return dict(payload["facts"], pretrained=pinned.get("release", "?"))
