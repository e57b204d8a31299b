"""Reference models that several chapters and the benchmark share.

Each chapter builds its own model in cells the reader can edit; where a
chapter's model matches one here, the chapter checks that they agree.
"""
from __future__ import annotations

from typing import Sequence

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
