"""vl.pretrained against a release served on 127.0.0.1, and the pinned manifest.

The server holds what scripts/publish_models.py writes for a small model; a
manifest made here pins it. Cases: the happy path (and the cache), a
corrupted asset, a server that is down, a manifest entry with no file, and
downloads switched off.
"""

import json
import socket
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, serve_folder
from publish_models import PUBLISHED, manifest_entry, release_info, write_asset

import vae_lib as vl
import vae_lib.published as published


@pytest.fixture
def release(tmp_path, monkeypatch):
    """A release folder served over HTTP, a saved model in it, and its manifest."""
    monkeypatch.setenv("VAE_LIB_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_BOOK_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv("VAE_LIB_OFFLINE", raising=False)
    torch.manual_seed(0)
    model = vl.MLPVAE(z_dim=2, hidden=(8,))
    saved = vl.save_model("tiny", model, chapter=1, epochs=3)
    served = tmp_path / "served"
    asset = write_asset(saved, served, torch.float16)
    pinned = {
        "release": "v9.9.9",
        "url": "http://127.0.0.1:9/unused/",
        "models": {
            "tiny": manifest_entry(asset, "chapter 1", "float16", 0.0),
            "absent": {
                "file": "absent.pt",
                "sha256": "0" * 64,
                "bytes": 10,
                "chapter": "chapter 6",
                "dtype": "float16",
            },
        },
    }
    with serve_folder(served) as url:
        monkeypatch.setenv(published.URL_ENV, url + "/")
        yield {"model": model, "pinned": pinned, "asset": asset}


def _cached(tmp_path: Path) -> list[str]:
    folder = tmp_path / "cache" / "pretrained"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_downloads_checks_and_loads_the_weights(release, tmp_path):
    fresh = vl.MLPVAE(z_dim=2, hidden=(8,))
    facts = vl.pretrained("tiny", fresh, pinned=release["pinned"])
    assert facts["epochs"] == 3 and facts["pretrained"] == "v9.9.9"
    for name, value in release["model"].state_dict().items():
        got = fresh.state_dict()[name]
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, value.half().float(), rtol=0, atol=0)
    assert _cached(tmp_path) == [f"tiny-{release['pinned']['models']['tiny']['sha256'][:12]}.pt"]


def test_a_cached_model_loads_without_the_server(release, tmp_path, monkeypatch):
    vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])
    monkeypatch.setenv(published.URL_ENV, "http://127.0.0.1:9/")  # nothing listens there
    facts = vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])
    assert facts["chapter"] == 1


def test_a_corrupted_asset_is_refused_and_deleted(release, tmp_path, monkeypatch):
    data = bytearray(release["asset"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    release["asset"].write_bytes(bytes(data))

    def never(*args, **kwargs):
        raise AssertionError("a file that failed its hash check was read")

    monkeypatch.setattr(torch, "load", never)
    with pytest.raises(vl.PretrainedHashError, match="deleted without being read"):
        vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])
    assert _cached(tmp_path) == []  # neither the file nor a partial one is left


def test_a_corrupted_cache_is_downloaded_again(release, tmp_path):
    vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])
    (cached,) = (tmp_path / "cache" / "pretrained").iterdir()
    cached.write_bytes(b"damaged")
    vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])
    assert published.sha256_of(cached) == release["pinned"]["models"]["tiny"]["sha256"]


def test_a_server_that_is_down_says_so_and_how_to_train_instead(release, monkeypatch):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(published.URL_ENV, f"http://127.0.0.1:{port}/")
    with pytest.raises(vl.PretrainedUnavailable, match="Could not reach .*train it here"):
        vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])


def test_a_manifest_entry_with_no_file_says_http_404(release, tmp_path):
    with pytest.raises(vl.PretrainedUnavailable, match="HTTP 404.*run chapter 6"):
        vl.pretrained("absent", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])
    assert _cached(tmp_path) == []


def test_downloads_switched_off_are_respected(release, monkeypatch):
    monkeypatch.setenv("VAE_LIB_OFFLINE", "1")
    with pytest.raises(vl.PretrainedUnavailable, match="switched off"):
        vl.pretrained("tiny", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])


def test_an_unknown_name_lists_the_published_ones(release):
    with pytest.raises(ValueError, match="Published: tiny, absent"):
        vl.pretrained("tiny2", vl.MLPVAE(z_dim=2, hidden=(8,)), pinned=release["pinned"])


def test_another_architecture_is_refused(release):
    with pytest.raises(vl.CheckpointError, match="different shapes"):
        vl.pretrained("tiny", vl.MLPVAE(z_dim=3, hidden=(8,)), pinned=release["pinned"])


def test_the_manifest_names_this_books_release():
    pinned = published.manifest()
    release, url = release_info()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert pinned["release"] == release == config["repository"]["release"]
    assert pinned["url"] == url
    assert set(pinned["models"]) == set(PUBLISHED), (
        "the manifest must pin every published model: run scripts/publish_models.py"
    )
    for name, entry in pinned["models"].items():
        assert entry["file"] == f"{name}.pt"
        assert len(entry["sha256"]) == 64 and int(entry["sha256"], 16) >= 0
        assert entry["bytes"] > 0 and entry["dtype"] in ("float16", "float32")
        assert entry["score_change_nats"] < 0.01


def test_the_manifest_ships_with_the_package():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "published.json" in config["tool"]["setuptools"]["package-data"]["vae_lib"]
    json.loads(published.MANIFEST.read_text())
