"""vae_lib.plots with the Agg backend: each function draws what it is given and returns axes.

Also vae_lib.widgets.latent_explorer: moving a slider redraws the decoded image.
"""

import io

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import vae_lib as vl  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------- show_images
def test_show_images_draws_one_grid():
    images = torch.zeros(10, 1, 28, 28)
    images[3] = 1.0
    ax = vl.show_images(images, nrow=4, title="ten digits")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "ten digits"
    (shown,) = ax.get_images()
    grid = np.asarray(shown.get_array())
    # make_grid: 4 columns x 3 rows of 28 px with 2 px padding.
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2, 3)
    # Image 3 (row 0, column 3) is white, image 0 is black.
    assert grid[2:30, 92:120].min() == 1.0
    assert grid[2:30, 2:30].max() == 0.0
    assert not ax.axison


def test_show_images_uses_the_given_axes_and_value_range():
    fig, given = plt.subplots()
    images = torch.tensor([-1.0, 0.0, 1.0]).reshape(3, 1, 1, 1).expand(3, 1, 4, 4)
    ax = vl.show_images(images, nrow=3, ax=given, value_range=(-1.0, 1.0))
    assert ax is given
    grid = np.asarray(ax.get_images()[0].get_array())
    assert grid[2, 2, 0] == pytest.approx(0.0)
    assert grid[2, 8, 0] == pytest.approx(0.5)
    assert grid[2, 14, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (2, 1, 1, 28, 28)])
def test_show_images_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        vl.show_images(torch.zeros(shape))


# ------------------------------------------------------------------------ plot_history
def _history():
    h = vl.History()
    h.train = {"loss": [3.0, 2.0, 1.5], "kl": [0.5, 0.7, 0.8]}
    h.test = {"loss": [3.2, 2.4, 1.9], "kl": [0.6, 0.7, 0.9]}
    h.seconds = [0.1, 0.1, 0.1]
    return h


def test_plot_history_one_panel_per_term():
    axes = vl.plot_history(_history())
    assert len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["loss", "kl"]
    train_line, test_line = axes[0].get_lines()
    assert list(train_line.get_xdata()) == [1, 2, 3]
    assert list(train_line.get_ydata()) == [3.0, 2.0, 1.5]
    assert list(test_line.get_ydata()) == [3.2, 2.4, 1.9]
    assert axes[1].get_ylabel() == "kl (nats per image)"


def test_plot_history_selected_terms_and_given_axes_without_test():
    h = _history()
    h.test = {}
    fig, given = plt.subplots(1, 1, squeeze=False)
    axes = vl.plot_history(h, terms=["kl"], axes=given[0], unit="bits")
    assert axes[0] is given[0, 0]
    (line,) = axes[0].get_lines()
    assert list(line.get_ydata()) == [0.5, 0.7, 0.8]
    assert axes[0].get_ylabel() == "kl (bits)"


def test_plot_history_of_a_fit_run():
    torch.manual_seed(0)
    model = vl.MLPVAE(z_dim=2, hidden=(8,))
    x = torch.rand(32, 1, 28, 28)
    history = vl.fit(
        model, vl.bernoulli_vae_loss, x, x_test=x[:8], epochs=2, batch_size=16, progress=False
    )
    axes = vl.plot_history(history)
    assert [ax.get_title() for ax in axes] == ["loss", "recon", "kl"]
    assert list(axes[0].get_lines()[1].get_ydata()) == history.test["loss"]


# ------------------------------------------------------------------ plot_latent_scatter
def test_plot_latent_scatter_draws_the_codes():
    z = torch.randn(50, 2)
    labels = torch.arange(50) % 10
    ax = vl.plot_latent_scatter(z, labels, title="codes")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "codes"
    (points,) = ax.collections
    np.testing.assert_allclose(points.get_offsets(), z.numpy())
    np.testing.assert_array_equal(points.get_array(), labels.numpy())
    assert len(ax.figure.axes) == 2  # the scatter and its colour bar


def test_plot_latent_scatter_labels_every_digit_without_overlap():
    # two clusters that sit almost on top of each other, one far away
    z = torch.tensor([[0.0, 0.0], [0.01, 0.0], [10.0, 10.0]]).repeat_interleave(20, dim=0)
    labels = torch.tensor([4, 5, 1]).repeat_interleave(20)
    ax = vl.plot_latent_scatter(z, labels)
    texts = {t.get_text(): np.array(t.get_position()) for t in ax.texts}
    assert sorted(texts) == ["1", "4", "5"]
    spread = 10.0  # the codes' largest range along one axis, as the function measures it
    assert np.linalg.norm(texts["4"] - texts["5"]) >= 0.08 * spread * 0.999
    np.testing.assert_allclose(texts["1"], [10.0, 10.0])  # a label with room stays put
    assert len(ax.lines) == 2  # the two moved labels point back at their medians


def test_spread_apart_moves_only_what_overlaps():
    from vae_lib.plots import _spread_apart

    points = np.array([[0.0, 0.0], [0.0, 0.0], [0.05, 0.0], [5.0, 5.0]])
    placed = _spread_apart(points, min_distance=1.0)
    gaps = [np.linalg.norm(placed[i] - placed[j]) for i in range(4) for j in range(i + 1, 4)]
    assert min(gaps) >= 0.999
    np.testing.assert_allclose(placed[3], [5.0, 5.0])


@pytest.mark.parametrize("shape", [(50,), (50, 3), (50, 1), (2, 25, 2)])
def test_plot_latent_scatter_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        vl.plot_latent_scatter(torch.zeros(shape), torch.zeros(50, dtype=torch.long))


# -------------------------------------------------------------------------- latent_grid
def test_latent_grid_ordering():
    n, span = 5, 2.0
    z = vl.latent_grid(n, span)
    assert z.shape == (n * n, 2)
    grid = z.reshape(n, n, 2)  # [row, column, (z1, z2)]
    axis = torch.linspace(-span, span, n)
    # First row is the top (z2 = +span); rows go down.
    torch.testing.assert_close(grid[0, :, 1], torch.full((n,), span))
    torch.testing.assert_close(grid[:, 0, 1], axis.flip(0))
    # First column is the left (z1 = -span); columns go right.
    torch.testing.assert_close(grid[:, 0, 0], torch.full((n,), -span))
    torch.testing.assert_close(grid[0, :, 0], axis)
    assert z[0].tolist() == [-span, span]
    assert z[n - 1].tolist() == [span, span]
    assert z[-n].tolist() == [-span, -span]
    assert z[-1].tolist() == [span, -span]


def test_latent_grid_defaults():
    z = vl.latent_grid()
    assert z.shape == (225, 2)
    assert z.min().item() == -2.5 and z.max().item() == 2.5


# ------------------------------------------------------------------------ plot_manifold
def test_plot_manifold_decodes_the_grid_in_place():
    seen = []

    def decode(z):
        seen.append(z)
        # Brightness grows with z1, so the left column is dark and the right one bright.
        level = ((z[:, 0] + 2.0) / 4.0).clamp(0, 1)
        return level.reshape(-1, 1, 1, 1).expand(len(z), 1, 6, 6)

    ax = vl.plot_manifold(decode, n=4, span=2.0, title="manifold")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "manifold"
    (z,) = seen
    torch.testing.assert_close(z, vl.latent_grid(4, 2.0))
    grid = np.asarray(ax.get_images()[0].get_array())
    assert grid.shape == (4 * 8 + 2, 4 * 8 + 2, 3)
    assert grid[2:8, 2:8].max() == pytest.approx(0.0)  # top-left: z1 = -span
    assert grid[2:8, 26:32].min() == pytest.approx(1.0)  # top-right: z1 = +span


def test_plot_manifold_with_an_mlpvae_decoder():
    torch.manual_seed(0)
    model = vl.MLPVAE(z_dim=2, hidden=(8,))
    fig, given = plt.subplots()
    ax = vl.plot_manifold(lambda z: torch.sigmoid(model.decode(z)), n=3, ax=given)
    assert ax is given
    assert np.asarray(ax.get_images()[0].get_array()).shape == (3 * 30 + 2, 3 * 30 + 2, 3)


def test_plot_manifold_rejects_decoders_with_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        vl.plot_manifold(lambda z: torch.zeros(len(z), 28, 28), n=3)


# ---------------------------------------------------------------------- latent_explorer
def test_latent_explorer_redraws_when_a_slider_moves():
    from vae_lib.widgets import latent_explorer

    seen = []

    def decode(z):
        seen.append(z.clone())
        # A 28x28 image whose left half has brightness sigmoid(z1) and right half sigmoid(z2).
        image = torch.empty(len(z), 1, 28, 28)
        image[..., :14] = torch.sigmoid(z[:, 0]).reshape(-1, 1, 1, 1)
        image[..., 14:] = torch.sigmoid(z[:, 1]).reshape(-1, 1, 1, 1)
        return image

    box = latent_explorer(decode, z_range=3.0, step=0.05)
    (sliders_box, image) = box.children
    z1, z2 = sliders_box.children
    assert [s.description for s in (z1, z2)] == ["z1", "z2"]
    assert len(seen) == 1 and seen[0].tolist() == [[0.0, 0.0]]  # the first drawing
    before = bytes(image.value)
    assert before.startswith(b"\x89PNG")

    z1.value = 1.5
    assert len(seen) == 2 and seen[-1].shape == (1, 2)
    assert seen[-1].tolist() == [[1.5, 0.0]]
    after_z1 = bytes(image.value)
    assert after_z1.startswith(b"\x89PNG") and after_z1 != before

    z2.value = -2.0
    assert seen[-1].tolist() == [[1.5, -2.0]]
    after_z2 = bytes(image.value)
    assert after_z2 not in (before, after_z1)

    # The PNG shows what decode returned: read it back and compare the two halves.
    pixels = plt.imread(io.BytesIO(after_z2))
    grey = pixels[..., 0]
    assert grey.shape == (28, 28)
    assert grey[:, :14] == pytest.approx(torch.sigmoid(torch.tensor(1.5)).item(), abs=2 / 255)
    assert grey[:, 14:] == pytest.approx(torch.sigmoid(torch.tensor(-2.0)).item(), abs=2 / 255)
