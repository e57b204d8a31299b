"""vae_lib.accel and fit's speed options: fused Adam, torch.compile, bfloat16.

Each faster path must give the plain path's losses within a stated tolerance,
and fall back to the plain path (with a warning where the reader asked for it)
where torch or the device does not offer it.
"""

import warnings

import pytest
import torch

import vae_lib as vl
from vae_lib import accel
from vae_lib.models import MLPVAE

N = 384


@pytest.fixture(scope="module")
def x():
    g = torch.Generator().manual_seed(5)
    prototypes = (torch.rand(3, 1, 28, 28, generator=g) > 0.6).float()
    picks = torch.randint(0, 3, (N,), generator=g)
    return (0.1 + 0.8 * prototypes[picks] + 0.1 * torch.rand(N, 1, 28, 28, generator=g)).clamp(0, 1)


def _model(seed=0):
    torch.manual_seed(seed)
    return MLPVAE(z_dim=4, hidden=(48,))


def autoencoder_loss(model, x, y=None):
    """Deterministic (no sampling): decode the mean code; nats per image."""
    mu, _ = model.encode(x)
    return {"loss": vl.bernoulli_nll(model.decode(mu), x).mean()}


def _train(x, loss_fn=autoencoder_loss, epochs=3, **options):
    torch.manual_seed(1)  # the same shuffling for every run
    model = _model()
    history = vl.fit(model, loss_fn, x, epochs=epochs, batch_size=32, progress=False, **options)
    return model, history.train["loss"]


# ------------------------------------------------------------------------ fused Adam
def test_default_optimizer_is_fused_adam_and_matches_plain_adam(x):
    model = _model()
    assert accel.is_fused(accel.adam(model.parameters()))
    torch.manual_seed(1)
    plain = _model()
    plain_losses = vl.fit(
        plain,
        autoencoder_loss,
        x,
        epochs=3,
        batch_size=32,
        progress=False,
        optimizer=torch.optim.Adam(plain.parameters(), lr=1e-3),
    ).train["loss"]
    _, fused_losses = _train(x)
    # Same arithmetic, other rounding: equal to float32 precision, not bit for bit.
    assert fused_losses == pytest.approx(plain_losses, rel=1e-5)
    assert fused_losses[-1] < fused_losses[0] - 5  # and it trains


def test_adam_falls_back_where_the_fused_kernel_is_missing(monkeypatch):
    real_adam = torch.optim.Adam

    def old_torch_adam(params, lr=1e-3, **kwargs):
        if kwargs.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be CUDA tensors")
        return real_adam(params, lr=lr, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", old_torch_adam)
    optimizer = accel.adam(_model().parameters(), lr=2e-3)
    assert isinstance(optimizer, real_adam) and not accel.is_fused(optimizer)
    assert optimizer.param_groups[0]["lr"] == 2e-3
    assert len(optimizer.param_groups[0]["params"]) == len(list(_model().parameters()))


# ----------------------------------------------------------------------- torch.compile
def test_compiled_fit_matches_eager_on_a_deterministic_loss(x, monkeypatch):
    eager_model, eager = _train(x)
    compiled_calls = []
    real_compile = torch.compile

    def counting_compile(fn, **kwargs):
        compiled = real_compile(fn, **kwargs)

        def run(*args):
            compiled_calls.append(1)
            return compiled(*args)

        return run

    monkeypatch.setattr(torch, "compile", counting_compile)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback would warn
        compiled_model, compiled = _train(x, compile=True)
    # every step but the first (eager, with its input checks) ran compiled
    steps = 3 * (len(x) // 32)
    assert len(compiled_calls) == steps - 1
    assert compiled == pytest.approx(eager, rel=1e-4)
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4)


def test_compiled_fit_trains_a_vae_like_eager(x):
    # Inside a compiled loss the noise comes from inductor's generator: the
    # losses agree in distribution, here within 2% per epoch, not draw for draw.
    _, eager = _train(x, vl.bernoulli_vae_loss)
    _, compiled = _train(x, vl.bernoulli_vae_loss, compile=True)
    assert compiled == pytest.approx(eager, rel=0.02)


def test_compile_failure_falls_back_to_eager_with_a_warning(x, monkeypatch):
    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("InductorError: no working C++ compiler found")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    with pytest.warns(RuntimeWarning, match="torch.compile failed .*C\\+\\+ compiler"):
        model, losses = _train(x, compile=True)
    monkeypatch.undo()
    plain_model, plain = _train(x)
    assert losses == plain  # the eager path, bit for bit
    for a, b in zip(model.parameters(), plain_model.parameters()):
        assert torch.equal(a, b)


def test_a_torch_without_compile_runs_eagerly(monkeypatch):
    monkeypatch.delattr(torch, "compile")
    loss = accel.CompiledLoss(autoencoder_loss)
    assert loss.compiled is None and "has no torch.compile" in loss.failed
    model, batch = _model(), torch.rand(4, 1, 28, 28)
    assert torch.equal(loss(model, batch, None)["loss"], autoencoder_loss(model, batch)["loss"])


def test_a_real_error_in_the_loss_still_reaches_the_reader(monkeypatch):
    def wrong_shape(model, x, y=None):
        return {"loss": model.decode(x).mean()}  # x is not a code

    loss = accel.CompiledLoss(wrong_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises((RuntimeError, ValueError)):
            loss(_model(), torch.rand(4, 1, 28, 28), None)


# ---------------------------------------------------------------------------- bfloat16
def test_bf16_support_is_false_off_cpu_and_cuda():
    assert accel.bf16_supported("meta") is False
    assert accel.bf16_supported("cpu") in (True, False)


def test_bf16_falls_back_to_float32_with_a_warning_where_unsupported(x, monkeypatch):
    monkeypatch.setattr(accel, "bf16_supported", lambda device: False)
    with pytest.warns(RuntimeWarning, match="bf16=True: .* training in float32"):
        model, losses = _train(x, bf16=True)
    plain_model, plain = _train(x)
    assert losses == plain
    for a, b in zip(model.parameters(), plain_model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.skipif(not accel.bf16_supported("cpu"), reason="this CPU has no native bf16")
def test_bf16_training_stays_within_one_percent_of_float32(x):
    _, plain = _train(x)
    model, bf16 = _train(x, bf16=True)
    assert bf16 != plain  # the products really ran in bfloat16
    assert bf16 == pytest.approx(plain, rel=0.01)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_the_no_cuda_notice_of_torch_compile_is_dropped_and_nothing_else(caplog):
    import logging

    log = logging.getLogger("torch.utils.cpp_extension")
    with caplog.at_level(logging.WARNING, logger="torch.utils.cpp_extension"):
        log.warning("No CUDA runtime is found, using CUDA_HOME='/usr/local'")
        log.warning("some other warning")
    assert [r.getMessage() for r in caplog.records] == ["some other warning"]
