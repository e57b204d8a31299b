"""The digit classifier that judges generated images."""

import hashlib
import shutil
from pathlib import Path

import pytest
import torch

import vae_lib as vl
from vae_lib.classifier import DigitClassifier, train_digit_classifier


@pytest.fixture(scope="module")
def full_mnist():
    # The accuracy floor is for the full training set, whatever quick mode says.
    return vl.load_mnist(n_train=60000, n_test=10000, download=False)


def test_classifier_reaches_its_accuracy_floor_on_the_full_test_set(full_mnist):
    model = train_digit_classifier(full_mnist, progress=False)
    assert model.test_accuracy >= 0.985
    # agreement() on true labels is the same accuracy, and confidence sits near it.
    scores = model.agreement(full_mnist.x_test, full_mnist.y_test)
    assert scores["accuracy"] == pytest.approx(model.test_accuracy)
    assert 0.95 < scores["confidence"] <= 1.0
    # Labels shifted by one are wrong almost always: agreement is not blind to the labels.
    assert model.agreement(full_mnist.x_test, (full_mnist.y_test + 1) % 10)["accuracy"] < 0.02


def test_training_leaves_the_callers_random_stream_alone():
    data = vl.load_mnist(n_train=256, n_test=64, download=False)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    train_digit_classifier(data, epochs=1, progress=False)
    assert torch.equal(torch.rand(3), expected)


@pytest.fixture
def small_cached_classifier(monkeypatch, tmp_path):
    """digit_classifier on 512 training images (one epoch), cached in tmp_path;
    returns the list of training-set sizes it trained on, one per training."""
    monkeypatch.setenv("VAE_LIB_DATA", str(tmp_path))
    monkeypatch.setattr(vl.classifier, "_CACHE", {})
    calls = []
    real = vl.classifier.train_digit_classifier

    def counting(data, **kwargs):
        calls.append(len(data.x_train))
        return real(data, epochs=1, **kwargs)

    monkeypatch.setattr(vl.classifier, "train_digit_classifier", counting)
    monkeypatch.setattr(
        vl.classifier,
        "load_mnist",
        lambda device=None: vl.load_mnist(device, 512, 128, download=False),
    )
    return calls


def test_digit_classifier_caches_on_disk(monkeypatch, tmp_path, small_cached_classifier):
    calls = small_cached_classifier
    first = vl.digit_classifier("cpu", progress=False)
    version = vl.checkpoint.library_sha256()[:12]
    assert calls == [512] and (tmp_path / f"digit_classifier_512_128_{version}.pt").is_file()
    monkeypatch.setattr(vl.classifier, "_CACHE", {})
    second = vl.digit_classifier("cpu", progress=False)
    assert calls == [512]  # loaded, not trained again
    assert all(
        torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values())
    )
    assert second.test_accuracy == first.test_accuracy


def test_a_classifier_cached_by_another_vae_lib_is_trained_afresh_and_replaced(
    monkeypatch, tmp_path, small_cached_classifier
):
    calls = small_cached_classifier
    monkeypatch.setattr(vl.classifier, "library_sha256", lambda: "a" * 64)
    vl.digit_classifier("cpu", progress=False)
    assert (tmp_path / f"digit_classifier_512_128_{'a' * 12}.pt").is_file()
    # the unversioned name of vae_lib 0.1.0's cache, and another data size's file
    (tmp_path / "digit_classifier_512_128.pt").write_bytes(b"old")
    other_size = tmp_path / f"digit_classifier_512_1280_{'b' * 12}.pt"
    other_size.write_bytes(b"other")

    monkeypatch.setattr(vl.classifier, "_CACHE", {})
    monkeypatch.setattr(vl.classifier, "library_sha256", lambda: "c" * 64)
    vl.digit_classifier("cpu", progress=False)
    assert calls == [512, 512]  # the library changed: trained again, not loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"digit_classifier_512_128_{'c' * 12}.pt", other_size.name]
    )  # the older copies are gone, another size's file and no temporary file is left


def test_library_hash_covers_every_source_file(tmp_path):
    package = tmp_path / "vae_lib"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    first = vl.checkpoint.library_sha256(package)
    assert first == vl.checkpoint.library_sha256(package)
    (package / "b.py").write_text("")
    second = vl.checkpoint.library_sha256(package)
    (package / "a.py").write_text("x = 2\n")
    assert len({first, second, vl.checkpoint.library_sha256(package)}) == 3
    assert len(vl.checkpoint.library_sha256()) == 64  # the installed package by default


def test_library_hash_frames_each_file_by_its_path(tmp_path):
    """Sorted relative paths, each "vae_lib/<path>" then the file's bytes; .py and .js only."""
    package = tmp_path / "vae_lib"
    (package / "sub").mkdir(parents=True)
    files = {"a.py": b"x = 1\n", "b.js": b"let y = 2;\n", "sub/c.py": b""}
    for name, content in files.items():
        (package / name).write_bytes(content)
    (package / "d.txt").write_bytes(b"ignored")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"vae_lib/{name}".encode() + files[name])
    assert vl.checkpoint.library_sha256(package) == digest.hexdigest()


def test_library_hash_covers_the_javascript_the_outputs_embed(tmp_path):
    """A copy of vae_lib: editing explorer.js changes the hash, a stray file does not."""
    package = tmp_path / "vae_lib"
    source = Path(vl.__file__).resolve().parent
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__"))
    script = package / "explorer.js"
    assert script.is_file()
    before = vl.checkpoint.library_sha256(package)
    (package / "notes.txt").write_text("not source\n")
    assert vl.checkpoint.library_sha256(package) == before
    script.write_text(script.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert vl.checkpoint.library_sha256(package) != before


def test_classifier_refuses_wrong_shapes_and_ranges():
    model = DigitClassifier()
    with pytest.raises(ValueError, match="crop 32x32"):
        model.probabilities(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError):
        model.probabilities(torch.rand(2, 1, 28, 28) * 2 - 1)
    with pytest.raises(ValueError, match="labels must have shape"):
        model.agreement(torch.rand(2, 1, 28, 28), torch.zeros(3, dtype=torch.long))


def test_feature_classifier_learns_separable_features_and_checks_its_input():
    torch.manual_seed(0)
    labels = torch.arange(10).repeat(20)
    features = torch.nn.functional.one_hot(labels, 10).float() * 3 + 0.3 * torch.randn(200, 10)
    net = vl.train_feature_classifier(features, labels, steps=200, batch_size=64)
    assert not net.training
    assert net(features).shape == (200, 10)
    assert (net(features).argmax(1) == labels).float().mean() > 0.95
    with pytest.raises(ValueError, match="one label per example"):
        vl.train_feature_classifier(features, labels[:5])
