"""fit(checkpoint=...): save after every epoch, resume to the same result, refuse bad files."""

import os

import pytest
import torch

import vae_lib as vl
from vae_lib import checkpoint


class Interrupt(Exception):
    """Stands in for a Colab disconnect."""


@pytest.fixture(scope="module")
def x():
    return torch.rand(320, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def train(x, path=None, stop_after=None, epochs=4, hidden=32):
    model = vl.MLPVAE(z_dim=2, hidden=(hidden,))

    def maybe_stop(epoch, model, history):
        if epoch == stop_after:
            raise Interrupt

    history = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        x,
        epochs=epochs,
        batch_size=64,
        progress=False,
        checkpoint=path,
        on_epoch_end=maybe_stop,
        transform=vl.binarize,
        x_test=x[:64],
    )
    return model, history


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_interrupted_and_resumed_run_equals_the_uninterrupted_one(x, tmp_path):
    vl.seed_everything(0)
    straight, straight_history = train(x)
    path = tmp_path / "run.pt"
    vl.seed_everything(0)
    with pytest.raises(Interrupt):
        train(x, path, stop_after=2)
    assert path.is_file()
    vl.seed_everything(99)  # a new session: other random states, new model
    resumed, resumed_history = train(x, path)
    assert same_weights(straight, resumed)
    assert resumed_history.train == straight_history.train
    assert resumed_history.test == straight_history.test
    assert resumed_history.epochs == 4
    assert os.listdir(tmp_path) == ["run.pt"]  # no temporary files left behind


def test_resuming_a_finished_run_trains_nothing(x, tmp_path):
    path = tmp_path / "run.pt"
    vl.seed_everything(0)
    first, history = train(x, path, epochs=2)
    before = path.stat().st_mtime_ns
    again, history_again = train(x, path, epochs=2)
    assert same_weights(first, again)
    assert history_again.train == history.train
    assert path.stat().st_mtime_ns == before


def test_checkpoint_is_plain_data_loadable_with_weights_only(x, tmp_path):
    path = tmp_path / "run.pt"
    train(x, path, epochs=1)
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == checkpoint.FORMAT
    assert set(payload) == {"format", "model", "optimizer", "history", "rng"}
    assert len(payload["history"]["seconds"]) == 1


def test_a_checkpoint_from_another_model_is_refused_and_kept(x, tmp_path):
    path = tmp_path / "run.pt"
    train(x, path, epochs=1)
    saved = path.read_bytes()
    with pytest.raises(
        vl.CheckpointError,
        match=r"different model.*encoder\.0\.weight: checkpoint \(32, 784\) vs model \(16, 784\)",
    ):
        train(x, path, epochs=2, hidden=16)
    assert path.read_bytes() == saved


def test_a_corrupted_checkpoint_gets_a_clear_error(x, tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(vl.CheckpointError, match="could not be read as a checkpoint"):
        train(x, path, epochs=1)
    assert path.read_bytes() == b"not a checkpoint at all"
    torch.save({"something": 1}, path)
    with pytest.raises(vl.CheckpointError, match="not a vae_lib checkpoint"):
        train(x, path, epochs=1)


def test_a_failed_save_leaves_the_earlier_checkpoint(x, tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    vl.seed_everything(0)
    train(x, path, epochs=1)
    saved = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train(x, path, epochs=2)
    assert path.read_bytes() == saved
    assert os.listdir(tmp_path) == ["run.pt"]


def test_checkpoint_and_history_together_are_refused(x, tmp_path):
    history = vl.History()
    history.add_epoch({"loss": 1.0})
    with pytest.raises(ValueError, match="either history or checkpoint"):
        vl.fit(
            vl.MLPVAE(z_dim=2, hidden=(8,)),
            vl.bernoulli_vae_loss,
            x,
            epochs=1,
            progress=False,
            history=history,
            checkpoint=tmp_path / "run.pt",
        )


def test_a_folder_as_checkpoint_path_is_refused(x, tmp_path):
    with pytest.raises(vl.CheckpointError, match="is a folder"):
        train(x, tmp_path, epochs=1)
