"""Reference models that several chapters and the benchmark share.

Each chapter builds its own model in cells the reader can edit; where a
chapter's model matches one here, the chapter checks that they agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .losses import reparameterize


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPVAE(nn.Module):
    """Fully connected VAE with a Gaussian encoder and a Bernoulli decoder.

    encode: x (B, 1, 28, 28) -> mu, logvar, each (B, z_dim)
    decode: z (B, z_dim) -> logits (B, 1, 28, 28)  (apply sigmoid for pixel means)
    forward: x -> (logits, mu, logvar), with z drawn by the reparameterisation.
    """

    def __init__(self, z_dim: int = 10, hidden: Sequence[int] = (256,), image_shape=(1, 28, 28)):
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be at least 1, got {z_dim}.")
        self.z_dim = z_dim
        self.image_shape = tuple(image_shape)
        x_dim = 1
        for size in self.image_shape:
            x_dim *= size
        self.encoder = _mlp([x_dim, *hidden, 2 * z_dim])
        self.decoder = _mlp([z_dim, *reversed(tuple(hidden)), x_dim])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"MLPVAE expects images of shape (B, {', '.join(map(str, self.image_shape))}), "
                f"got {tuple(x.shape)}."
            )
        mu, logvar = self.encoder(x.flatten(start_dim=1)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).reshape(-1, *self.image_shape)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


def _down(c_in: int, c_out: int) -> list[nn.Module]:
    """3x3 conv, stride 2 (halves the side), BatchNorm, LeakyReLU."""
    return [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU()]


def _up(c_in: int, c_out: int) -> list[nn.Module]:
    """3x3 transposed conv, stride 2 (doubles the side), BatchNorm, LeakyReLU."""
    return [
        nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(),
    ]


class ConvVAE(nn.Module):
    """Chapter 3's convolutional VAE on (B, 1, 32, 32) images.

    Five stride-2 conv blocks of ``widths`` channels take 32x32 down to 1x1;
    one linear layer gives mu and logvar. The decoder maps z to ``widths[-1]``
    channels at 1x1, climbs back to 16x16 through the mirrored widths, adds a
    fifth transposed block to 32x32 and a 3x3 conv down to one channel.

    head: ``"tanh"`` (outputs in (-1, 1), for data scaled to [-1, 1]) or
    ``"logits"`` (Bernoulli logits).
    encode: x (B, 1, 32, 32) -> mu, logvar, each (B, z_dim)
    decode: z (B, z_dim) -> (B, 1, 32, 32)
    forward: x -> (decode(z), mu, logvar), z drawn by the reparameterisation.
    """

    def __init__(
        self, widths: Sequence[int] = (32, 64, 128, 256, 512), z_dim: int = 128, head: str = "tanh"
    ):
        super().__init__()
        if len(widths) != 5 or head not in ("tanh", "logits") or z_dim < 1:
            raise ValueError(
                f"ConvVAE needs five channel widths, z_dim >= 1 and head 'tanh' or "
                f"'logits'; got widths={tuple(widths)}, z_dim={z_dim}, head={head!r}."
            )
        self.widths, self.z_dim = tuple(widths), z_dim
        layers: list[nn.Module] = []
        for c_in, c_out in zip((1, *self.widths[:-1]), self.widths):
            layers += _down(c_in, c_out)
        self.encoder = nn.Sequential(*layers)
        self.to_stats = nn.Linear(self.widths[-1], 2 * z_dim)
        self.from_z = nn.Linear(z_dim, self.widths[-1])
        rev = self.widths[::-1]
        layers = []
        for c_in, c_out in [*zip(rev[:-1], rev[1:]), (rev[-1], rev[-1])]:
            layers += _up(c_in, c_out)
        layers.append(nn.Conv2d(rev[-1], 1, 3, padding=1))
        if head == "tanh":
            layers.append(nn.Tanh())
        self.decoder = nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != (1, 32, 32):
            raise ValueError(
                f"ConvVAE expects images of shape (B, 1, 32, 32) (pad 28x28 "
                f"MNIST by 2 on each side); got {tuple(x.shape)}."
            )
        mu, logvar = self.to_stats(self.encoder(x).flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.from_z(z).view(-1, self.widths[-1], 1, 1))

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


class PaddedConvVAE(nn.Module):
    """Chapter 3's ``ConvVAE`` with Bernoulli logits on (B, 1, 28, 28) images.

    The encoder sees the image padded by 2 pixels on each side to 32x32; the
    decoder's 32x32 logits are cropped back to 28x28, so the model assigns a
    probability to the same 784 pixels as ``MLPVAE``.
    encode: x (B, 1, 28, 28) -> mu, logvar, each (B, z_dim)
    decode: z (B, z_dim) -> logits (B, 1, 28, 28)
    forward: x -> (logits, mu, logvar), z drawn by the reparameterisation.
    """

    def __init__(self, widths: Sequence[int] = (8, 16, 32, 64, 128), z_dim: int = 10):
        super().__init__()
        self.net = ConvVAE(widths, z_dim=z_dim, head="logits")
        self.z_dim = z_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"PaddedConvVAE expects MNIST-sized images (B, 1, 28, 28); got {tuple(x.shape)}."
            )
        return self.net.encode(nn.functional.pad(x, (2, 2, 2, 2)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.decode(z)[..., 2:30, 2:30]

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


def one_hot(y: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """Integer labels (B,) -> float one-hot vectors (B, n_classes)."""
    return nn.functional.one_hot(y, n_classes).float()


class CVAE(nn.Module):
    """Chapter 5's conditional VAE: q(z|x,y), p(x|z,y) and a prior p(z|y).

    One hidden layer of ``hidden`` units in each network; the label enters
    every network as a one-hot vector. ``learned_prior=False`` fixes the
    prior at N(0, I) for every label.
    encode: x (B, 1, 28, 28), y (B,) -> mu, logvar, each (B, z_dim)
    prior: y (B,) -> mu, logvar of p(z|y), each (B, z_dim)
    decode: z (B, z_dim), y (B,) -> Bernoulli logits (B, 1, 28, 28)
    forward: x, y -> (logits, mu, logvar, prior mu, prior logvar)
    """

    n_classes = 10

    def __init__(self, z_dim: int = 10, hidden: int = 256, learned_prior: bool = True):
        super().__init__()
        self.z_dim = z_dim
        self.encoder = _mlp([784 + self.n_classes, hidden, 2 * z_dim])
        self.decoder = _mlp([z_dim + self.n_classes, hidden, 784])
        self.prior_net = _mlp([self.n_classes, hidden, 2 * z_dim]) if learned_prior else None

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.cat([x.flatten(start_dim=1), one_hot(y, self.n_classes)], dim=1)
        mu, logvar = self.encoder(h).chunk(2, dim=1)
        return mu, logvar

    def prior(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.prior_net is None:
            zeros = torch.zeros(len(y), self.z_dim, device=y.device)
            return zeros, zeros
        mu, logvar = self.prior_net(one_hot(y, self.n_classes)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([z, one_hot(y, self.n_classes)], dim=1)
        return self.decoder(h).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        mu, logvar = self.encode(x, y)
        return self.decode(reparameterize(mu, logvar), y), mu, logvar, *self.prior(y)


class CVAEGivenLabel(nn.Module):
    """A CVAE with every label set to ``label``, in whitened codes, prior N(0, I).

    u = (z - mu_p) / sigma_p with (mu_p, log sigma_p^2) = prior(label). In u
    the prior is N(0, I), the encoder's Gaussian has mean (mu - mu_p) / sigma_p
    and log-variance logvar - log sigma_p^2, and decode maps u back to z first.
    The change of variables scales prior and encoder densities alike, so
    ``vl.iw_log_likelihood(CVAEGivenLabel(model, d), x)`` estimates
    log p(x | y = d) (nats per image) with any chunking.
    model: ``vl.CVAE``, or any module with its encode(x, y), prior(y) and
    decode(z, y) (chapter 5's own class).
    encode: x (B, 1, 28, 28) -> mu_u, logvar_u, each (B, z_dim)
    decode: u (B, z_dim) -> logits (B, 1, 28, 28)
    """

    def __init__(self, model: CVAE, label: int):
        super().__init__()
        n_classes = getattr(model, "n_classes", CVAE.n_classes)
        if not 0 <= int(label) < n_classes:
            raise ValueError(f"label must be in 0..{n_classes - 1}, got {label!r}.")
        self.model, self.label = model, int(label)

    def _labels(self, n: int, device) -> torch.Tensor:
        return torch.full((n,), self.label, dtype=torch.long, device=device)

    def _prior(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.prior(self._labels(1, device))  # (1, z_dim) each

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.model.encode(x, self._labels(len(x), x.device))
        mu_p, logvar_p = self._prior(x.device)
        return (mu - mu_p) * torch.exp(-0.5 * logvar_p), logvar - logvar_p

    def decode(self, u: torch.Tensor) -> torch.Tensor:
        mu_p, logvar_p = self._prior(u.device)
        z = mu_p + torch.exp(0.5 * logvar_p) * u
        return self.model.decode(z, self._labels(len(u), u.device))
