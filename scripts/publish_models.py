"""Publish the book's trained models as release assets, and pin them in vae_lib.

After a full ``make execute``, every model the chapters keep (``vl.save_model``)
is in vae_lib's cache folder, in ``models/full``. This script

1. writes each one to ``dist/models/`` with float16 weights (half the bytes),
   in the same ``vae_lib-model-1`` format;
2. measures what float16 does to the model's scores: the test -ELBO (all
   10,000 test images, one draw, the same draw for both) and an importance-
   sampled log-likelihood (the first 1,000 test images, k = 100, the same
   draws), each as a mean over images in nats per image. A model whose
   scores move by 0.01 nats or more is published in float32 instead;
3. writes the manifest ``vae_lib/published.json``: the release (from
   ``_config.yml``), each file's SHA-256 and size, the chapter that trains it,
   and the score changes;
4. prints the command that uploads the files to the release.

    python scripts/publish_models.py                 # from the full-mode models
    python scripts/publish_models.py --models DIR    # from another folder

CONTRIBUTING.md ("Cutting a release") says when to run it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
import yaml

import vae_lib as vl
from vae_lib.published import MANIFEST, sha256_of
from vae_lib.zoo import FORMAT

ROOT = Path(__file__).resolve().parents[1]
LIMIT_NATS = 0.01
"""Largest change of a score that float16 storage may cause (nats per image)."""

PUBLISHED = {
    "ch1-mlp-z10": (
        "chapter 1 (chapters/01_mlp_vae.ipynb)",
        lambda: vl.MLPVAE(z_dim=10, hidden=(256,)),
    ),
    "ch1-mlp-z2": (
        "chapter 1 (chapters/01_mlp_vae.ipynb)",
        lambda: vl.MLPVAE(z_dim=2, hidden=(256,)),
    ),
    "ch3-conv-bernoulli": (
        "chapter 3 (chapters/03_conv_vae.ipynb)",
        lambda: vl.PaddedConvVAE((8, 16, 32, 64, 128), z_dim=10),
    ),
    "ch5-cvae": ("chapter 5 (chapters/05_cvae.ipynb)", lambda: vl.CVAE()),
    "ch6-mlp-z16": (
        "chapter 6 (chapters/06_applications.ipynb)",
        lambda: vl.MLPVAE(z_dim=16, hidden=(256,)),
    ),
    "ch7-mlp-long": (
        "chapter 7 (chapters/07_results.ipynb)",
        lambda: vl.MLPVAE(z_dim=50, hidden=(200, 200)),
    ),
}
"""Every published model: the chapter that trains it, and how to build it."""


def release_info(root: Path = ROOT) -> tuple[str, str]:
    """(release tag, the address its assets are downloaded from), from _config.yml."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    release = repo["release"]
    return release, f"{repo['url'].rstrip('/')}/releases/download/{release}/"


def write_asset(source: Path, out_dir: Path, dtype: torch.dtype) -> Path:
    """Copy the saved model at ``source`` into ``out_dir`` with floating weights in ``dtype``."""
    payload = torch.load(source, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{source} is not a saved vae_lib model (format {FORMAT!r}).")
    state = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in payload["model"].items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / source.name
    torch.save({"format": FORMAT, "model": state, "facts": payload["facts"]}, target)
    return target


def manifest_entry(asset: Path, chapter: str, dtype: str, change: float) -> dict:
    """The manifest's entry for one written asset (see vae_lib.published.manifest)."""
    return {
        "file": asset.name,
        "sha256": sha256_of(asset),
        "bytes": asset.stat().st_size,
        "chapter": chapter,
        "dtype": dtype,
        "score_change_nats": round(change, 5),
    }


@torch.no_grad()
def scores(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean test -ELBO, mean IS-NLL) in nats per image, with fixed random draws.

    x: binarised images (N, 1, 28, 28); y: their labels (N,), used by a CVAE,
    whose scores are those of log p(x | y) at the true label.
    """
    model.eval()
    torch.manual_seed(0)
    if isinstance(model, vl.CVAE):
        logits, mu, logvar, prior_mu, prior_logvar = model(x, y)
        kl = vl.kl_diag_gaussians(mu, logvar, prior_mu, prior_logvar)
        neg_elbo = vl.bernoulli_nll(logits, x) + kl
        per_label = [
            vl.iw_log_likelihood(vl.CVAEGivenLabel(model, d), x[:1000][y[:1000] == d], k=100)
            for d in range(10)
        ]
        log_p = torch.cat(per_label)
    else:
        logits, mu, logvar = model(x)
        neg_elbo = vl.bernoulli_nll(logits, x) + vl.kl_standard_normal(mu, logvar)
        log_p = vl.iw_log_likelihood(model, x[:1000], k=100)
    return neg_elbo.double().mean().item(), -log_p.double().mean().item()


def score_change(name: str, source: Path, asset: Path, x, y) -> float:
    """Largest |change| of the two scores between the saved and the published weights
    (NaN when a score is not finite, e.g. a weight overflowed in float16)."""
    build = PUBLISHED[name][1]
    before, after = build(), build()
    before.load_state_dict(torch.load(source, weights_only=True)["model"])
    after.load_state_dict(torch.load(asset, weights_only=True)["model"])
    changes = [abs(a - b) for a, b in zip(scores(before, x, y), scores(after, x, y))]
    return math.nan if not all(map(math.isfinite, changes)) else max(changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=None, help="folder of saved models")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "models")
    args = parser.parse_args(argv)
    models = args.models or vl.zoo.models_dir(quick=False)
    missing = [n for n in PUBLISHED if not (models / f"{n}.pt").is_file()]
    if missing:
        print(
            f"Not in {models}: {', '.join(missing)}. Run `make execute` (full mode) first.",
            file=sys.stderr,
        )
        return 1
    mnist = vl.load_mnist(device="cpu")
    x = vl.binarize(mnist.x_test, generator=torch.Generator().manual_seed(0))
    y = mnist.y_test
    release, url = release_info()
    entries = {}
    print(f"{'model':20s}{'bytes':>10s}  dtype    score change (nats per image)")
    for name, (chapter, _) in PUBLISHED.items():
        source = models / f"{name}.pt"
        asset = write_asset(source, args.out, torch.float16)
        change, dtype = score_change(name, source, asset, x, y), "float16"
        if not math.isfinite(change) or change >= LIMIT_NATS:  # NaN: float16 overflowed
            asset, change, dtype = write_asset(source, args.out, torch.float32), 0.0, "float32"
        entries[name] = manifest_entry(asset, chapter, dtype, change)
        print(f"{name:20s}{asset.stat().st_size:10,d}  {dtype}  {change:.5f}")
    pinned = {"release": release, "url": url, "models": entries}
    MANIFEST.write_text(json.dumps(pinned, indent=2) + "\n", encoding="utf-8")
    files = " ".join(str(args.out / entry["file"]) for entry in entries.values())
    print(f"wrote {MANIFEST.relative_to(ROOT)}; upload the files with")
    print(f"  gh release upload {release} {files} --clobber")
    return 0


if __name__ == "__main__":
    sys.exit(main())
