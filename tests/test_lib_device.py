"""vae_lib.device (get_device, seed_everything) and vae_lib.mode (quick mode, choose)."""

import random

import numpy as np
import pytest
import torch

import vae_lib as vl
import vae_lib.device as vdevice
from vae_lib.mode import choose, quick_mode


# --------------------------------------------------------------------------- get_device
@pytest.fixture
def accelerators(monkeypatch):
    """Set which accelerators get_device sees: accelerators(cuda=..., mps=...)."""

    def set_available(cuda: bool, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(vdevice, "_mps_available", lambda: mps)

    return set_available


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_get_device_prefers_cuda_then_mps_then_cpu(accelerators, cuda, mps, expected):
    accelerators(cuda=cuda, mps=mps)
    device = vl.get_device()
    assert isinstance(device, torch.device)
    assert device.type == expected


@pytest.mark.parametrize("name", ["cpu", "CPU", "Cpu"])
def test_get_device_prefer_cpu_even_with_accelerators(accelerators, name):
    accelerators(cuda=True, mps=True)
    assert vl.get_device(prefer=name) == torch.device("cpu")


def test_get_device_prefer_available_accelerators(accelerators):
    accelerators(cuda=True, mps=True)
    assert vl.get_device(prefer="cuda").type == "cuda"
    assert vl.get_device(prefer="mps").type == "mps"


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:0", ""])
def test_get_device_unknown_name_raises_value_error(accelerators, name):
    accelerators(cuda=True, mps=True)
    with pytest.raises(ValueError, match="Unknown device") as info:
        vl.get_device(prefer=name)
    message = str(info.value)
    assert "cuda" in message and "mps" in message and "cpu" in message


def test_get_device_unavailable_cuda_raises_runtime_error(accelerators):
    accelerators(cuda=False, mps=True)
    with pytest.raises(RuntimeError, match="CUDA was requested"):
        vl.get_device(prefer="cuda")


def test_get_device_unavailable_mps_raises_runtime_error(accelerators):
    accelerators(cuda=True, mps=False)
    with pytest.raises(RuntimeError, match="MPS was requested"):
        vl.get_device(prefer="mps")


def test_mps_available_returns_bool():
    assert isinstance(vdevice._mps_available(), bool)


# ------------------------------------------------------------------------ seed_everything
def _draws():
    return (
        [random.random() for _ in range(3)],
        np.random.rand(3).tolist(),
        torch.rand(3).tolist(),
        torch.randn(2, 2).tolist(),
    )


def test_seed_everything_repeats_draws():
    vl.seed_everything(123)
    first = _draws()
    vl.seed_everything(123)
    second = _draws()
    assert first == second
    vl.seed_everything(124)
    third = _draws()
    for a, b in zip(first, third):
        assert a != b


def test_seed_everything_accepts_numpy_integer_and_bounds():
    vl.seed_everything(np.int64(7))
    a = torch.rand(4)
    vl.seed_everything(7)
    assert torch.equal(a, torch.rand(4))
    vl.seed_everything(0)
    vl.seed_everything(2**32 - 1)


@pytest.mark.parametrize("seed", [1.5, "3", None, True, False, torch.tensor(3)])
def test_seed_everything_rejects_non_integers(seed):
    with pytest.raises(TypeError, match="seed must be an integer"):
        vl.seed_everything(seed)


@pytest.mark.parametrize("seed", [-1, 2**32, 2**40])
def test_seed_everything_rejects_out_of_range(seed):
    with pytest.raises(ValueError, match=r"\[0, 2\*\*32\)"):
        vl.seed_everything(seed)


# ----------------------------------------------------------------------------- quick mode
@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("VAE_QUICK", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return monkeypatch


def test_full_mode_is_the_default(clean_env):
    assert quick_mode() is False
    assert vl.quick_mode() is False


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " On "])
def test_vae_quick_truthy_values(clean_env, value):
    clean_env.setenv("VAE_QUICK", value)
    assert quick_mode() is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_vae_quick_falsy_values(clean_env, value):
    clean_env.setenv("VAE_QUICK", value)
    assert quick_mode() is False


@pytest.mark.parametrize("value", ["true", "1", "anything"])
def test_ci_turns_quick_mode_on(clean_env, value):
    clean_env.setenv("CI", value)
    assert quick_mode() is True


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_ci_does_not_turn_quick_mode_on(clean_env, value):
    clean_env.setenv("CI", value)
    assert quick_mode() is False


def test_vae_quick_overrides_ci(clean_env):
    clean_env.setenv("CI", "true")
    clean_env.setenv("VAE_QUICK", "0")
    assert quick_mode() is False
    clean_env.setenv("VAE_QUICK", "1")
    assert quick_mode() is True


@pytest.mark.parametrize("value", ["2", "maybe", "quick", "y"])
def test_vae_quick_bad_value_raises(clean_env, value):
    clean_env.setenv("VAE_QUICK", value)
    with pytest.raises(ValueError, match="VAE_QUICK"):
        quick_mode()
    with pytest.raises(ValueError, match="VAE_QUICK"):
        choose(full=1, quick=2)


def test_choose_follows_the_mode(clean_env):
    assert choose(full=20, quick=2) == 20
    assert vl.choose(full="big", quick="small") == "big"
    clean_env.setenv("VAE_QUICK", "1")
    assert choose(full=20, quick=2) == 2
    clean_env.setenv("VAE_QUICK", "0")
    clean_env.setenv("CI", "1")
    assert choose(full=20, quick=2) == 20
    clean_env.delenv("VAE_QUICK")
    assert choose(full=20, quick=2) == 2
