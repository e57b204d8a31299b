"""vae_lib.zoo: the trained models kept between chapters for the results chapter."""

import pytest
import torch

import vae_lib as vl
from vae_lib import zoo


@pytest.fixture(autouse=True)
def models_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_BOOK_MODELS", str(tmp_path))
    return tmp_path


def _model(seed=0, z_dim=3):
    torch.manual_seed(seed)
    return vl.MLPVAE(z_dim=z_dim, hidden=(16,))


def test_a_saved_model_comes_back_with_its_facts(models_folder):
    saved = _model(seed=1)
    path = vl.save_model("tiny", saved, chapter=2, epochs=3, data="binarised")
    assert path == models_folder / "quick" / "tiny.pt"  # the tests run in quick mode
    loaded = _model(seed=2)
    facts = vl.load_model("tiny", loaded)
    for a, b in zip(saved.parameters(), loaded.parameters()):
        assert torch.equal(a, b)
    assert facts["chapter"] == 2 and facts["epochs"] == 3 and facts["data"] == "binarised"
    assert (
        facts["parameters"] == vl.n_parameters(saved) == sum(p.numel() for p in saved.parameters())
    )
    assert facts["mode"] == "quick" and facts["vae_lib"] == vl.__version__
    torch.load(path, weights_only=True)  # plain data only


def test_quick_and_full_runs_keep_separate_models(models_folder, monkeypatch):
    vl.save_model("tiny", _model(seed=1), chapter=2)
    monkeypatch.setenv("VAE_QUICK", "0")
    assert zoo.models_dir() == models_folder / "full"
    with pytest.raises(vl.ModelNotSavedError, match="run that chapter first"):
        vl.load_model("tiny", _model())


def test_a_missing_model_names_what_to_do():
    with pytest.raises(FileNotFoundError, match="No saved model 'absent'.*run that chapter"):
        vl.load_model("absent", _model())


def test_another_architecture_is_refused_and_the_file_kept(models_folder):
    path = vl.save_model("tiny", _model(z_dim=3), chapter=2)
    before = path.read_bytes()
    with pytest.raises(vl.CheckpointError, match="different model.*different shapes"):
        vl.load_model("tiny", _model(z_dim=4))
    assert path.read_bytes() == before


def test_a_damaged_file_is_reported(models_folder):
    path = vl.save_model("tiny", _model(), chapter=2)
    path.write_bytes(b"not a model")
    with pytest.raises(vl.CheckpointError, match="could not be read"):
        vl.load_model("tiny", _model())


def test_a_failed_save_keeps_the_earlier_model(models_folder, monkeypatch):
    first = _model(seed=1)
    path = vl.save_model("tiny", first, chapter=2)
    before = path.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        vl.save_model("tiny", _model(seed=2), chapter=2)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["tiny.pt"]  # no temporary left


@pytest.mark.parametrize("name", ["", "Has Capitals", "../escape", "a/b"])
def test_bad_names_are_refused(name):
    with pytest.raises(ValueError, match="model name"):
        vl.save_model(name, _model(), chapter=2)


def test_facts_must_be_plain_values():
    with pytest.raises(TypeError, match="fact 'history'"):
        vl.save_model("tiny", _model(), history=[1.0, 2.0])
