"""vae_lib.train: fit / evaluate / History, the NaN guard, input errors, host syncs."""

import copy
import math
import os
import sys
import types

import pytest
import torch

import vae_lib as vl
from vae_lib.checks import checks_enabled
from vae_lib.models import MLPVAE

N_TRAIN, N_TEST = 512, 128


def _prototype_images(n, seed):
    """Soft images in [0, 1] made from 4 binary prototypes plus noise; labels 0..3."""
    g = torch.Generator().manual_seed(seed)
    prototypes = (
        torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(99)) > 0.7
    ).float()
    labels = torch.randint(0, 4, (n,), generator=g)
    x = 0.05 + 0.9 * prototypes[labels] + 0.05 * torch.rand(n, 1, 28, 28, generator=g)
    return x.clamp(0, 1), labels


@pytest.fixture(scope="module")
def data():
    x_train, y_train = _prototype_images(N_TRAIN, seed=1)
    x_test, y_test = _prototype_images(N_TEST, seed=2)
    return x_train, y_train, x_test, y_test


def _model(seed=0, z_dim=2, hidden=(32,)):
    torch.manual_seed(seed)
    return MLPVAE(z_dim=z_dim, hidden=hidden)


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# --------------------------------------------------------------------------- training
def test_fit_loss_falls_and_history_has_the_right_shape(data):
    x_train, y_train, x_test, y_test = data
    model = _model()
    threads = torch.get_num_threads()
    history = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        x_train,
        y_train,
        x_test=x_test,
        y_test=y_test,
        epochs=4,
        batch_size=64,
        lr=3e-3,
        progress=False,
    )
    assert isinstance(history, vl.History)
    assert history.epochs == 4
    assert len(history.seconds) == 4
    assert set(history.train) == {"loss", "recon", "kl"}
    assert set(history.test) == {"loss", "recon", "kl"}
    for split in (history.train, history.test):
        for values in split.values():
            assert len(values) == 4
            assert all(isinstance(v, float) and math.isfinite(v) for v in values)
    train, test = history.train["loss"], history.test["loss"]
    assert train[-1] < 0.8 * train[0], train
    assert all(later < earlier for earlier, later in zip(train, train[1:])), train
    assert test[-1] < test[0], test
    for e in range(4):
        assert history.train["loss"][e] == pytest.approx(
            history.train["recon"][e] + history.train["kl"][e], rel=1e-4
        )
    assert torch.get_num_threads() == threads
    table = history.table()
    assert len(table.splitlines()) == 5 and "train loss" in table and "test kl" in table


def test_fit_does_not_touch_the_thread_count(monkeypatch, data):
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    monkeypatch.setattr(torch, "set_num_interop_threads", lambda n: calls.append(n))
    before = torch.get_num_threads()
    vl.fit(_model(), vl.bernoulli_vae_loss, data[0][:128], epochs=1, batch_size=64, progress=False)
    assert calls == []
    assert torch.get_num_threads() == before


def test_fit_without_test_data_and_without_labels(data):
    history = vl.fit(
        _model(), vl.bernoulli_vae_loss, data[0][:128], epochs=2, batch_size=50, progress=False
    )
    assert history.test == {}
    assert all(len(v) == 2 for v in history.train.values())


def test_fit_with_progress_bar_enabled(data, monkeypatch, capsys):
    monkeypatch.setenv("VAE_PROGRESS", "text")
    history = vl.fit(
        _model(), vl.bernoulli_vae_loss, data[0][:128], epochs=2, batch_size=64, progress=True
    )
    assert history.epochs == 2
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "4/4" in err


def test_fit_passes_matching_labels_and_visits_every_example(data):
    x = torch.arange(100, dtype=torch.float32).reshape(100, 1).expand(100, 3).contiguous() / 100
    y = torch.arange(100)
    seen = []

    def loss_fn(model, xb, yb):
        assert torch.equal((xb[:, 0] * 100).round().long(), yb)
        seen.append(yb.clone())
        return {"loss": (model(xb) - xb).pow(2).mean()}

    model = torch.nn.Linear(3, 3)
    vl.fit(model, loss_fn, x, y, epochs=2, batch_size=32, progress=False)
    assert [len(s) for s in seen] == [32, 32, 32, 4] * 2
    epoch1, epoch2 = torch.cat(seen[:4]), torch.cat(seen[4:])
    assert sorted(epoch1.tolist()) == list(range(100)) == sorted(epoch2.tolist())
    assert not torch.equal(epoch1, torch.arange(100))  # shuffled
    assert not torch.equal(epoch1, epoch2)  # reshuffled every epoch


def test_fit_applies_transform_to_every_batch(data):
    batches = []

    def loss_fn(model, xb, yb):
        batches.append(xb)
        return vl.bernoulli_vae_loss(model, xb, yb)

    vl.fit(
        _model(),
        loss_fn,
        data[0][:128],
        x_test=data[2][:64],
        epochs=1,
        batch_size=64,
        transform=vl.binarize,
        progress=False,
    )
    assert len(batches) == 2 + 1  # two training batches, one test batch
    for xb in batches:
        assert set(xb.unique().tolist()) == {0.0, 1.0}


def test_fit_uses_the_given_optimizer(data):
    model = _model()
    start = _state(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    vl.fit(
        model,
        vl.bernoulli_vae_loss,
        data[0][:128],
        epochs=1,
        batch_size=64,
        optimizer=optimizer,
        progress=False,
    )
    _assert_same_state(start, _state(model))


def _mean_of_x_loss(model, xb, yb):
    """Terms whose batch values are known: the batch mean of x, and a constant 2.

    The zero-weighted model term only gives the optimizer something to step.
    """
    touch = 0.0 * sum(p.sum() for p in model.parameters())
    return {"loss": xb[:, 0].mean() + touch, "const": torch.tensor(2.0)}


def test_history_train_is_the_mean_per_example_over_the_epoch():
    # 10 examples in batches of 3 (3 + 3 + 3 + 1): each epoch's mean of the per-batch means,
    # weighted by batch size, is the mean of x whatever the shuffling. Dividing by the number
    # of steps (4) instead of examples, or leaving out the weights, gives another number.
    x = torch.arange(10, dtype=torch.float32).reshape(10, 1) ** 2  # mean 28.5
    model = torch.nn.Linear(1, 1)
    history = vl.fit(
        model, _mean_of_x_loss, x, x_test=x[:7], epochs=3, batch_size=3, progress=False
    )
    assert history.train["loss"] == pytest.approx([28.5] * 3, rel=1e-6)
    assert history.train["const"] == pytest.approx([2.0] * 3, rel=1e-6)
    assert history.test["loss"] == pytest.approx([13.0] * 3, rel=1e-6)  # mean of 0..6 squared
    assert history.test["const"] == pytest.approx([2.0] * 3, rel=1e-6)


def test_history_seconds_time_the_training_steps_only(monkeypatch):
    # A fake clock that moves 1 s per training step and 100 s per test batch: each
    # epoch's seconds must be its number of steps, without the evaluation after it.
    clock = {"now": 0.0}
    monkeypatch.setattr(vl.train, "time", types.SimpleNamespace(perf_counter=lambda: clock["now"]))

    def loss_fn(model, xb, yb):
        clock["now"] += 1.0 if model.training else 100.0
        return _mean_of_x_loss(model, xb, yb)

    x = torch.rand(10, 1)
    history = vl.fit(
        torch.nn.Linear(1, 1), loss_fn, x, x_test=x, epochs=2, batch_size=3, progress=False
    )
    assert history.seconds == [4.0, 4.0]
    assert clock["now"] == 2 * (4 + 100)  # one test batch per epoch (evaluate's batch 1000)


# ----------------------------------------------------------------- callbacks and history
def test_on_epoch_end_is_called_once_per_epoch(data):
    calls = []

    def on_epoch_end(epoch, model, history):
        calls.append((epoch, history.epochs, len(history.train["loss"]), len(history.test["loss"])))
        assert isinstance(model, MLPVAE)

    vl.fit(
        _model(),
        vl.bernoulli_vae_loss,
        data[0][:128],
        x_test=data[2][:32],
        epochs=3,
        batch_size=64,
        on_epoch_end=on_epoch_end,
        progress=False,
    )
    assert calls == [(1, 1, 1, 1), (2, 2, 2, 2), (3, 3, 3, 3)]


def test_history_continues_epoch_count(data):
    x_train, _, x_test, _ = data
    model = _model()
    history = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        x_train[:128],
        x_test=x_test[:32],
        epochs=2,
        batch_size=64,
        progress=False,
    )
    first_losses = list(history.train["loss"])
    epochs_seen = []
    again = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        x_train[:128],
        x_test=x_test[:32],
        epochs=3,
        batch_size=64,
        progress=False,
        history=history,
        on_epoch_end=lambda epoch, m, h: epochs_seen.append(epoch),
    )
    assert again is history
    assert epochs_seen == [3, 4, 5]
    assert history.epochs == 5
    assert all(len(v) == 5 for v in history.train.values())
    assert all(len(v) == 5 for v in history.test.values())
    assert history.train["loss"][:2] == first_losses


# ------------------------------------------------------------------------- NaN guard
@pytest.mark.parametrize("sync_every", [1, 3, 50])
def test_nan_loss_raises_and_restores_the_epoch_start(data, sync_every):
    x_train = data[0][:256]  # 4 steps of 64 per epoch
    model = _model()
    at_epoch_end = {}
    calls = {"n": 0}
    bad_epoch, bad_step, steps = 2, 2, 4

    def loss_fn(model, xb, yb):
        calls["n"] += 1
        terms = vl.bernoulli_vae_loss(model, xb, yb)
        if calls["n"] == (bad_epoch - 1) * steps + bad_step:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    def remember(epoch, model, history):
        at_epoch_end[epoch] = copy.deepcopy(_state(model))

    with pytest.raises(vl.NonFiniteLossError) as info:
        vl.fit(
            model,
            loss_fn,
            x_train,
            epochs=3,
            batch_size=64,
            sync_every=sync_every,
            on_epoch_end=remember,
            progress=False,
        )
    message = str(info.value)
    assert f"epoch {bad_epoch} at step {bad_step} of {steps}" in message
    assert isinstance(info.value, FloatingPointError)
    assert list(at_epoch_end) == [1]
    state = _state(model)
    assert all(torch.isfinite(v).all() for v in state.values())
    _assert_same_state(state, at_epoch_end[1])


def _adam_state(optimizer):
    """Adam's per-parameter step, exp_avg and exp_avg_sq, cloned."""
    return {
        index: {name: value.detach().clone() for name, value in state.items()}
        for index, state in optimizer.state_dict()["state"].items()
    }


def test_nan_loss_puts_the_optimizer_back_to_the_epoch_start(data):
    x_train = data[0][:256]  # 4 steps of 64 per epoch; the NaN comes at step 3 of epoch 2
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    at_epoch_end = {}
    calls = {"n": 0}

    def loss_fn(model, xb, yb):
        calls["n"] += 1
        terms = vl.bernoulli_vae_loss(model, xb, yb)
        if calls["n"] == 4 + 3:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    def remember(epoch, model, history):
        at_epoch_end[epoch] = _adam_state(optimizer)

    with pytest.raises(vl.NonFiniteLossError, match="epoch 2 at step 3 of 4"):
        vl.fit(
            model,
            loss_fn,
            x_train,
            epochs=3,
            batch_size=64,
            optimizer=optimizer,
            sync_every=4,
            on_epoch_end=remember,
            progress=False,
        )
    expected, got = at_epoch_end[1], _adam_state(optimizer)
    assert got.keys() == expected.keys() and len(got) == len(list(model.parameters()))
    for index in expected:
        assert expected[index]["step"].item() == 4  # one epoch of Adam steps, not 4 + 3
        assert expected[index].keys() == got[index].keys() == {"step", "exp_avg", "exp_avg_sq"}
        for name in expected[index]:
            assert torch.equal(got[index][name], expected[index][name]), (index, name)
    # The optimizer still trains from there.
    history = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        x_train,
        epochs=1,
        batch_size=64,
        optimizer=optimizer,
        progress=False,
    )
    assert math.isfinite(history.train["loss"][0])
    assert all(state["step"].item() == 8 for state in _adam_state(optimizer).values())


def test_inf_loss_in_first_epoch_restores_initial_weights(data):
    model = _model()
    start = _state(model)

    def loss_fn(model, xb, yb):
        terms = vl.bernoulli_vae_loss(model, xb, yb)
        terms["loss"] = terms["loss"] + float("inf")
        return terms

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(vl.NonFiniteLossError, match="epoch 1 at step 1 of 2"):
        vl.fit(
            model,
            loss_fn,
            data[0][:128],
            epochs=2,
            batch_size=64,
            optimizer=optimizer,
            progress=False,
        )
    _assert_same_state(start, _state(model))
    assert optimizer.state_dict()["state"] == {}  # as fresh as before the first step


# ---------------------------------------------------------------------- input errors
def _fit(model=None, loss_fn=vl.bernoulli_vae_loss, x=None, y=None, **kwargs):
    model = model or _model()
    x = torch.rand(16, 1, 28, 28) if x is None else x
    kwargs.setdefault("epochs", 1)
    kwargs.setdefault("batch_size", 8)
    return vl.fit(model, loss_fn, x, y, progress=False, **kwargs)


def test_fit_rejects_non_tensor_x():
    with pytest.raises(TypeError, match="x_train must be a torch.Tensor, got list"):
        _fit(x=[[0.0] * 784] * 4)


def test_fit_rejects_integer_x():
    with pytest.raises(TypeError, match="floating point"):
        _fit(x=torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8))


def test_fit_rejects_empty_or_flat_x():
    with pytest.raises(ValueError, match=r"shape \(N, \.\.\.\)"):
        _fit(x=torch.rand(0, 1, 28, 28))
    with pytest.raises(ValueError, match=r"shape \(N, \.\.\.\)"):
        _fit(x=torch.rand(16))


def test_fit_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="16 examples but its labels have 15"):
        _fit(y=torch.zeros(15, dtype=torch.long))
    with pytest.raises(TypeError, match="labels"):
        _fit(y=[0] * 16)


def test_fit_checks_test_data_too():
    with pytest.raises(ValueError, match="x_test has 8 examples but its labels have 7"):
        _fit(x_test=torch.rand(8, 1, 28, 28), y_test=torch.zeros(7, dtype=torch.long))
    with pytest.raises(TypeError, match="x_test must be floating point"):
        _fit(x_test=torch.zeros(8, 1, 28, 28, dtype=torch.long))


@pytest.mark.parametrize(
    "name, value",
    [
        ("epochs", 0),
        ("epochs", -1),
        ("epochs", 1.0),
        ("batch_size", 0),
        ("batch_size", True),
        ("batch_size", 2.5),
    ],
)
def test_fit_rejects_bad_epochs_and_batch_size(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        _fit(**{name: value})


@pytest.mark.parametrize(
    "returned, pattern",
    [
        (1.0, "got float"),
        (torch.tensor(1.0), "got Tensor"),
        ({"recon": torch.tensor(1.0)}, r"with keys \['recon'\]"),
    ],
)
def test_fit_rejects_loss_fn_without_a_loss_dict(returned, pattern):
    with pytest.raises(TypeError, match=pattern):
        _fit(loss_fn=lambda model, x, y: returned)


def test_fit_rejects_non_scalar_terms():
    def per_example(model, x, y):
        logits, mu, logvar = model(x)
        return {"loss": vl.bernoulli_nll(logits, x)}  # (B,), not averaged

    with pytest.raises(TypeError, match=r"'loss' must be a scalar tensor.*shape \(8,\)"):
        _fit(loss_fn=per_example)

    def float_term(model, x, y):
        terms = vl.bernoulli_vae_loss(model, x, y)
        terms["kl"] = terms["kl"].item()
        return terms

    with pytest.raises(TypeError, match="'kl' must be a scalar tensor"):
        _fit(loss_fn=float_term)


def test_mlpvae_wrong_image_shape_raises():
    model = MLPVAE(z_dim=2, hidden=(16,))
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 1, 28, 28\)"):
        model(torch.rand(4, 1, 32, 32))
    with pytest.raises(ValueError, match="expects images"):
        model.encode(torch.rand(4, 784))
    with pytest.raises(ValueError, match="expects images"):
        _fit(model=model, x=torch.rand(16, 3, 28, 28))
    with pytest.raises(ValueError, match="z_dim must be at least 1"):
        MLPVAE(z_dim=0)


def test_mlpvae_shapes():
    model = MLPVAE(z_dim=3, hidden=(16, 8), image_shape=(1, 8, 8))
    x = torch.rand(5, 1, 8, 8)
    logits, mu, logvar = model(x)
    assert logits.shape == (5, 1, 8, 8) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert model.decode(torch.zeros(2, 3)).shape == (2, 1, 8, 8)


def test_first_batch_check_catches_standardised_data(data):
    x = (data[0][:64] - 0.1307) / 0.3081
    model = _model()
    start = _state(model)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vl.fit(model, vl.bernoulli_vae_loss, x, epochs=1, batch_size=16, progress=False)
    _assert_same_state(start, _state(model))


def test_only_the_first_batch_is_checked(data):
    seen = []

    def loss_fn(model, xb, yb):
        seen.append(checks_enabled())
        return vl.bernoulli_vae_loss(model, xb, yb)

    history = vl.fit(_model(), loss_fn, data[0][:128], epochs=2, batch_size=32, progress=False)
    assert seen == [True] + [False] * 7
    vl.fit(
        _model(), loss_fn, data[0][:64], epochs=1, batch_size=32, progress=False, history=history
    )
    assert seen[8:] == [True, False]
    assert checks_enabled()


# -------------------------------------------------------------------------- evaluate
def test_evaluate_weights_batches_by_size_and_restores_mode():
    x = torch.rand(50, 4)
    model = torch.nn.Linear(4, 4)

    def loss_fn(model, xb, yb):
        return {"loss": xb.sum(1).mean(), "first": xb[:, 0].mean()}

    model.train()
    result = vl.evaluate(model, loss_fn, x, batch_size=7)
    assert model.training
    assert set(result) == {"loss", "first"}
    assert all(isinstance(v, float) for v in result.values())
    assert result["loss"] == pytest.approx(x.sum(1).mean().item(), rel=1e-6)
    assert result["first"] == pytest.approx(x[:, 0].mean().item(), rel=1e-6)
    model.eval()
    vl.evaluate(model, loss_fn, x)
    assert not model.training


def test_evaluate_keeps_labels_with_their_batch():
    # 10 examples in batches of 4 (4 + 4 + 2); each label is 3 * x + 1, so a label that
    # travels with another batch, or a batch cut differently from its labels, shows.
    x = torch.arange(10, dtype=torch.float32).reshape(10, 1)
    y = 3 * torch.arange(10) + 1
    sizes = []

    def loss_fn(model, xb, yb):
        sizes.append((len(xb), len(yb)))
        wrong = (yb != 3 * xb[:, 0].long() + 1).float().mean()
        return {"loss": wrong, "label": yb.float().mean()}

    result = vl.evaluate(torch.nn.Linear(1, 1), loss_fn, x, y, batch_size=4)
    assert sizes == [(4, 4), (4, 4), (2, 2)]
    assert result["loss"] == 0.0
    assert result["label"] == pytest.approx(y.float().mean().item(), rel=1e-6)  # 14.5


def test_evaluate_runs_in_eval_mode_without_gradients():
    modes = []

    def loss_fn(model, xb, yb):
        modes.append((model.training, torch.is_grad_enabled()))
        return {"loss": model(xb).mean()}

    vl.evaluate(torch.nn.Linear(3, 1), loss_fn, torch.rand(10, 3), batch_size=4)
    assert modes == [(False, False)] * 3


def test_evaluate_rejects_bad_inputs():
    with pytest.raises(TypeError):
        vl.evaluate(torch.nn.Linear(3, 1), lambda m, x, y: {"loss": x.mean()}, [1.0, 2.0])
    with pytest.raises(ValueError, match="batch_size"):
        vl.evaluate(
            torch.nn.Linear(3, 1),
            lambda m, x, y: {"loss": x.mean()},
            torch.rand(4, 3),
            batch_size=0,
        )


# ------------------------------------------------------------------------ host syncs
_SYNCING = ("item", "tolist", "__bool__", "__float__", "__int__", "numpy", "cpu")


@pytest.fixture
def sync_counter(monkeypatch):
    """Count tensor->host reads made directly by vae_lib code (not by torch.optim)."""
    counts = {"n": 0}
    package = os.path.dirname(vl.__file__)

    def wrap(name):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, **kwargs):
            if os.path.dirname(sys._getframe(1).f_code.co_filename) == package:
                counts["n"] += 1
            return original(self, *args, **kwargs)

        return counted

    for name in _SYNCING:
        monkeypatch.setattr(torch.Tensor, name, wrap(name))
    return counts


@pytest.mark.parametrize("sync_every", [8, 32])
def test_fit_syncs_every_sync_every_steps_not_every_step(data, sync_counter, sync_every):
    x = data[0][:512]
    batch_size, epochs = 4, 2
    steps = 512 // batch_size  # 128 steps per epoch
    model = _model(hidden=(8,))
    sync_counter["n"] = 0
    history = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        x,
        epochs=epochs,
        batch_size=batch_size,
        sync_every=sync_every,
        progress=False,
    )
    n_terms = len(history.train)
    per_epoch = sync_counter["n"] / epochs
    # Each sync reads the NaN flag and the running loss; each epoch's end reads every term;
    # the first batch's range check reads min and max once.
    assert per_epoch <= 2 * math.ceil(steps / sync_every) + n_terms + 2, sync_counter["n"]
    assert per_epoch < steps / 2


def test_fit_sync_count_grows_when_syncing_every_step(data, sync_counter):
    x = data[0][:256]
    counts = {}
    for sync_every in (1, 64):
        sync_counter["n"] = 0
        vl.fit(
            _model(hidden=(8,)),
            vl.bernoulli_vae_loss,
            x,
            epochs=1,
            batch_size=4,
            sync_every=sync_every,
            progress=False,
        )
        counts[sync_every] = sync_counter["n"]
    steps = 256 // 4
    assert counts[1] >= steps  # the counter really sees the per-sync reads
    assert counts[64] <= counts[1] / 8


# --------------------------------------------------------------------------- History
def test_history_add_epoch_and_table():
    h = vl.History()
    assert h.epochs == 0
    h.add_epoch({"loss": torch.tensor(3.0), "kl": 1}, {"loss": 4.0}, seconds=2.0)
    h.add_epoch({"loss": 2.5, "kl": 1.25})
    assert h.epochs == 2
    assert h.train == {"loss": [3.0, 2.5], "kl": [1.0, 1.25]}
    assert all(type(v) is float for v in h.train["loss"] + h.train["kl"])
    assert h.test == {"loss": [4.0]}
    assert h.seconds[0] == 2.0 and math.isnan(h.seconds[1])
    h2 = vl.History()
    h2.add_epoch({"loss": 1.0}, {"loss": 1.5}, seconds=0.25)
    h2.add_epoch({"loss": 0.5}, {"loss": 0.75}, seconds=0.5)
    lines = h2.table(digits=3).splitlines()
    assert lines[0].split() == ["epoch", "train", "loss", "test", "loss", "s"]
    assert lines[1].split() == ["1", "1.000", "1.500", "0.2"]
    assert lines[2].split() == ["2", "0.500", "0.750", "0.5"]
    h3 = vl.History()
    h3.add_epoch({"loss": 1.0})
    assert h3.table().splitlines()[1].split() == ["1", "1.00", "-"]


# ------------------------------------------------------------ recovery after a NaN
def test_fit_can_continue_with_the_same_optimizer_after_a_nan(data):
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    calls = {"n": 0}

    def nan_at_step_3(model, xb, yb):
        calls["n"] += 1
        terms = vl.bernoulli_vae_loss(model, xb, yb)
        if calls["n"] == 3:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    with pytest.raises(vl.NonFiniteLossError):
        vl.fit(
            model,
            nan_at_step_3,
            data[0][:128],
            epochs=2,
            batch_size=64,
            optimizer=optimizer,
            progress=False,
        )
    history = vl.fit(
        model,
        vl.bernoulli_vae_loss,
        data[0][:128],
        epochs=1,
        batch_size=64,
        optimizer=optimizer,
        progress=False,
    )
    assert math.isfinite(history.train["loss"][-1])


@pytest.mark.parametrize("sync_every", [0, -1, 2.5])
def test_fit_rejects_bad_sync_every(sync_every):
    with pytest.raises(ValueError, match="sync_every"):
        _fit(sync_every=sync_every)


def test_progress_bar_auto_is_tqdm_auto_and_text_is_the_plain_bar(monkeypatch):
    import tqdm.auto
    import tqdm.std

    monkeypatch.delenv("VAE_PROGRESS", raising=False)
    bar = vl.progress_bar(range(3), disable=True)
    assert type(bar) is tqdm.auto.tqdm
    bar.close()
    monkeypatch.setenv("VAE_PROGRESS", "text")
    bar = vl.progress_bar(range(3), disable=True)
    assert type(bar) is tqdm.std.tqdm
    bar.close()


def test_unit_range_check_on_empty_tensors():
    from vae_lib.checks import check_unit_range

    check_unit_range(torch.empty(0, 1, 28, 28), "an empty batch")  # nothing to check
    with pytest.raises(TypeError, match="an empty batch must be a floating-point"):
        check_unit_range(torch.empty(0, dtype=torch.long), "an empty batch")
    with pytest.raises(ValueError, match=r"span \[-0.5, 1\]"):
        check_unit_range(torch.tensor([-0.5, 1.0]), "x")
