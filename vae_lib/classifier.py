"""A small MNIST digit classifier: the book's judge of generated and restored images.

A claim such as "the samples are the right digit" is a number here: the share
of images the classifier labels as intended, and its mean confidence. The
classifier is a two-block CNN (conv 32, conv 64, each 3x3 + ReLU + 2x2 max
pool, then 128 hidden units), trained with Adam for three epochs on MNIST's
training images; on the full data it takes about 40 s on a 2-core CPU and
reaches about 98.8% on the test set (its accuracy is printed and kept as
``test_accuracy``).

``digit_classifier()`` trains it once and caches the weights in the data
cache folder (``vae_lib.data.default_root()``), so the chapters of one
``make execute`` run share it. The cache file's name carries a hash of
vae_lib's source: after any change to the library the classifier is trained
afresh, so no chapter judges images with weights an older recipe made. In
quick mode it trains on quick mode's smaller data, and is correspondingly
weaker.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import atomic_save, library_sha256
from .checks import check_unit_range
from .data import default_root, load_mnist
from .device import get_device

_CACHE: dict = {}


class DigitClassifier(nn.Module):
    """Images (B, 1, 28, 28) in [0, 1] -> logits (B, 10) over the digits 0-9."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)
        )
        self.test_accuracy = float("nan")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"the digit classifier expects images of shape (B, 1, 28, 28) in [0, 1], got "
                f"{tuple(x.shape)}; crop 32x32 images with x[..., 2:30, 2:30]."
            )
        return self.head(self.features(x))

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Class probabilities (B, 10) for images (B, 1, 28, 28) in [0, 1]."""
        check_unit_range(x, "The digit classifier's input")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        try:
            out = [
                F.softmax(self(x[i : i + batch_size].to(device).float()), dim=1)
                for i in range(0, len(x), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted digit (B,) for images (B, 1, 28, 28) in [0, 1]."""
        return self.probabilities(x).argmax(dim=1)

    def agreement(self, x: torch.Tensor, labels: torch.Tensor) -> dict:
        """How well images match their intended labels (B,).

        Returns {"accuracy": share labelled as intended, "confidence": mean
        probability given to the intended label}, both in [0, 1].
        """
        probs = self.probabilities(x)
        labels = labels.to(probs.device).long()
        if labels.shape != (len(x),):
            raise ValueError(f"labels must have shape ({len(x)},), got {tuple(labels.shape)}.")
        return {
            "accuracy": (probs.argmax(1) == labels).float().mean().item(),
            "confidence": probs.gather(1, labels[:, None]).mean().item(),
        }


def train_digit_classifier(
    data,
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> DigitClassifier:
    """Train a DigitClassifier on ``data`` (a vae_lib MNIST) and record its test accuracy."""
    from .train import fit

    generator_state = torch.get_rng_state()
    torch.manual_seed(seed)
    model = DigitClassifier().to(data.x_train.device)

    def cross_entropy(model, x, y):
        logits = model(x)
        return {"loss": F.cross_entropy(logits, y), "error": (logits.argmax(1) != y).float().mean()}

    fit(
        model,
        cross_entropy,
        data.x_train,
        data.y_train,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        progress=progress,
    )
    torch.set_rng_state(generator_state)  # leave the caller's random stream as it was
    model.eval()
    model.test_accuracy = (
        (model.predict(data.x_test).cpu() == data.y_test.cpu()).float().mean().item()
    )
    return model


def digit_classifier(device=None, cache: bool = True, progress: bool = True) -> DigitClassifier:
    """The book's trained digit classifier on ``device`` (trained on first use, then cached).

    Trained on ``load_mnist()`` (all 60,000 images in full mode, quick mode's
    subset under tests) for three epochs with seed 0; the weights are kept in
    memory and in ``default_root()`` so the next chapter loads them, in a file
    named after the data sizes and vae_lib's source hash (a cached classifier
    from another version of the library is replaced). Its ``test_accuracy`` is
    the share of the (full or quick) test set it labels right.
    """
    device = torch.device(device) if device is not None else get_device()
    data = load_mnist(device=device)
    key = (len(data.x_train), len(data.x_test))
    stem = f"digit_classifier_{key[0]}_{key[1]}"
    path = default_root() / f"{stem}_{library_sha256()[:12]}.pt"
    model = _CACHE.get(key)
    if model is None and cache and path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            model = DigitClassifier()
            model.load_state_dict(saved["state"])
            model.test_accuracy = float(saved["test_accuracy"])
        except Exception:  # a damaged cache file: train afresh and overwrite it
            model = None
    if model is None:
        model = train_digit_classifier(data, progress=progress)
        if cache:  # a private temporary file: notebooks running at once cannot clash
            payload = {"state": model.state_dict(), "test_accuracy": model.test_accuracy}
            atomic_save(payload, path)
            for older in path.parent.glob(f"{stem}*.pt"):  # from other versions of vae_lib
                if older != path and re.fullmatch(rf"{stem}(_[0-9a-f]{{12}})?\.pt", older.name):
                    older.unlink(missing_ok=True)
    model = model.to(device).eval()
    _CACHE[key] = model
    return model


def train_feature_classifier(
    features: torch.Tensor,
    labels: torch.Tensor,
    steps: int = 600,
    batch_size: int = 256,
    hidden: int = 128,
    lr: float = 1e-3,
) -> nn.Module:
    """A small MLP classifier (flatten, one hidden ReLU layer, 10 logits)
    trained with Adam (weight decay 1e-4) for ``steps`` minibatches of
    ``batch_size`` examples drawn with replacement from torch's global
    generator (seed it for a repeatable run).

    features: (N, ...) inputs, e.g. images (N, 1, 28, 28) or latent means
    (N, D); labels: (N,) digits. Returns the network in eval mode; its
    output on features is (B, 10) logits.
    """
    if len(features) != len(labels) or len(features) == 0:
        raise ValueError(
            f"need one label per example, got {len(features)} examples and {len(labels)} labels."
        )
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(features[0].numel(), hidden), nn.ReLU(), nn.Linear(hidden, 10)
    ).to(features.device)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(steps):
        idx = torch.randint(0, len(features), (min(batch_size, len(features)),))
        loss = F.cross_entropy(
            net(features[idx.to(features.device)]), labels[idx.to(labels.device)]
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()
