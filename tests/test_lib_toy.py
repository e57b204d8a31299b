"""vae_lib.toy: the 2-D Swiss roll, its exact density, and the tools that judge samples of it."""

import math

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from vae_lib.toy import (
    ANGLE_RANGE,
    SCALE,
    distance_to_roll,
    energy_distance,
    make_swiss_roll,
    plot_posterior_ellipses,
    swiss_roll_curve,
    swiss_roll_log_density,
)

matplotlib.use("Agg")


# --------------------------------------------------------------------------- make_swiss_roll
def test_shapes_dtypes_and_positions():
    points, t = make_swiss_roll(500, seed=0)
    assert points.shape == (500, 2) and t.shape == (500,)
    assert points.dtype == torch.float32 and t.dtype == torch.float32
    assert 0.0 <= t.min() and t.max() <= 1.0


def test_points_are_of_unit_size():
    points, _ = make_swiss_roll(5000, seed=0)
    assert points.abs().max() < 1.8
    assert 0.5 < points.std(dim=0).norm() < 1.5


def test_seed_reproduces_and_different_seeds_differ():
    a, ta = make_swiss_roll(100, seed=3)
    b, tb = make_swiss_roll(100, seed=3)
    c, _ = make_swiss_roll(100, seed=4)
    assert torch.equal(a, b) and torch.equal(ta, tb)
    assert not torch.equal(a, c)


def test_generator_gives_the_same_points_as_the_seed():
    a, _ = make_swiss_roll(50, seed=7)
    b, _ = make_swiss_roll(50, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_global_generator_follows_torch_manual_seed():
    torch.manual_seed(11)
    a, _ = make_swiss_roll(50)
    torch.manual_seed(11)
    b, _ = make_swiss_roll(50)
    assert torch.equal(a, b)


def test_noise_free_points_lie_on_the_curve_with_sklearn_geometry():
    points, t = make_swiss_roll(200, noise=0.0, seed=0)
    assert torch.allclose(points, swiss_roll_curve(t), atol=1e-6)
    angle = ANGLE_RANGE[0] + (ANGLE_RANGE[1] - ANGLE_RANGE[0]) * t
    # scikit-learn's make_swiss_roll: t = 1.5 pi (1 + 2u), x = t cos t, z = t sin t
    assert torch.allclose(angle, 1.5 * math.pi * (1 + 2 * t), atol=1e-5)
    radius = points.norm(dim=1)
    assert torch.allclose(radius, SCALE * angle, atol=1e-5)


def test_noise_has_the_requested_standard_deviation():
    noisy, t = make_swiss_roll(20_000, noise=0.05, seed=1)
    residual = noisy - swiss_roll_curve(t)
    assert residual.std(dim=0) == pytest.approx([0.05, 0.05], rel=0.05)


def test_device_argument_is_honoured():
    # "meta" is a device every torch build has and nothing lands on by default,
    # so these pass only if ``device`` reaches both tensors.
    points, t = make_swiss_roll(10, seed=0, device="meta")
    assert points.device.type == "meta" and t.device.type == "meta"
    assert points.shape == (10, 2) and t.shape == (10,)
    assert points.dtype == torch.float32 and t.dtype == torch.float32
    points, t = make_swiss_roll(10, seed=0, device=torch.device("meta"))
    assert points.is_meta and t.is_meta


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_sizes_are_rejected(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_swiss_roll(n)


def test_negative_noise_and_two_random_sources_are_rejected():
    with pytest.raises(ValueError, match="noise"):
        make_swiss_roll(10, noise=-0.1)
    with pytest.raises(ValueError, match="seed or generator"):
        make_swiss_roll(10, seed=0, generator=torch.Generator())


def test_curve_needs_a_vector_of_positions():
    with pytest.raises(ValueError, match=r"shape \(n,\)"):
        swiss_roll_curve(torch.zeros(3, 1))


# --------------------------------------------------------------------------- density
def test_density_integrates_to_one():
    axis = torch.linspace(-1.8, 1.8, 241, dtype=torch.float64)  # step 0.015, well below the noise
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1).reshape(-1, 2)
    mass = (
        swiss_roll_log_density(grid, noise=0.05, n_grid=1500).exp().sum() * (axis[1] - axis[0]) ** 2
    )
    assert mass.item() == pytest.approx(1.0, abs=2e-3)


def test_density_is_highest_on_the_roll_and_tiny_in_the_gaps():
    on_roll = swiss_roll_curve(torch.tensor([0.5]))
    between_arms = torch.tensor([[0.0, 0.0]])  # the centre, far from every arm
    log_p = swiss_roll_log_density(torch.cat([on_roll, between_arms]), noise=0.05)
    assert log_p.shape == (2,)
    assert log_p[0] > -1.0 and log_p[1] < log_p[0] - 10


def test_density_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        swiss_roll_log_density(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="noise"):
        swiss_roll_log_density(torch.zeros(4, 2), noise=0.0)


# --------------------------------------------------------------------------- distance_to_roll
def test_distance_to_roll_is_zero_on_the_curve_and_known_off_it():
    t = torch.tensor([0.2, 0.6])
    on = swiss_roll_curve(t)
    assert distance_to_roll(on).max() < 5e-3
    # moving radially outwards by 0.02 at the outer end, with no other arm nearby
    end = swiss_roll_curve(torch.tensor([1.0]))
    outside = end * (1 + 0.02 / end.norm())
    assert distance_to_roll(outside).item() == pytest.approx(0.02, abs=3e-3)


def test_distance_to_roll_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        distance_to_roll(torch.zeros(5))


# --------------------------------------------------------------------------- energy_distance
def _v_statistic(x, y):
    """The biased all-pairs version, written out by brute force for comparison."""

    def mean_dist(a, b):
        return torch.cdist(a.double(), b.double()).mean()

    return (2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)).item()


def test_energy_distance_of_identical_clouds_is_the_negative_within_sample_bias():
    # With y = x the cross term includes the n zero distances i = j, the within terms do not:
    # E = 2 S / n^2 - 2 S / (n (n - 1)) = -2 S / (n^2 (n - 1)), S = sum over all pairs.
    x, _ = make_swiss_roll(300, seed=0)
    s = torch.cdist(x.double(), x.double()).sum().item()
    n = len(x)
    assert energy_distance(x, x) == pytest.approx(-2 * s / (n * n * (n - 1)), rel=1e-9)


def test_energy_distance_is_unbiased_for_two_samples_of_one_distribution():
    # Over 40 pairs of independent samples of 200 points, the U-statistic averages ~0,
    # within 3 standard errors, while the all-pairs V-statistic sits well above 0.
    u, v = [], []
    for seed in range(40):
        x, _ = make_swiss_roll(200, seed=2 * seed)
        y, _ = make_swiss_roll(200, seed=2 * seed + 1)
        u.append(energy_distance(x, y))
        v.append(_v_statistic(x, y))
    u, v = torch.tensor(u), torch.tensor(v)
    se = u.std() / len(u) ** 0.5
    assert abs(u.mean()) < 3 * se
    assert (u < 0).any() and (u > 0).any()
    assert v.mean() > u.mean() + 10 * se
    assert (v - u).min() > 0


def test_energy_distance_grows_with_a_shift():
    x, _ = make_swiss_roll(1000, seed=0)
    y, _ = make_swiss_roll(1000, seed=1)
    same = energy_distance(x, y)
    small, large = energy_distance(x, y + 0.1), energy_distance(x, y + 0.5)
    assert abs(same) < 1e-3
    assert same < small < large
    assert small > 5e-3


def test_energy_distance_matches_the_closed_form_for_two_points_each():
    # x = {0, e1}, y = {a, a + e1}: cross distances |a|, |a - e1|, |a + e1|, |a|.
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    a = torch.tensor([3.0, 4.0])
    y = torch.stack([a, a + torch.tensor([1.0, 0.0])])
    cross = (2 * 5.0 + torch.linalg.norm(a - x[1]) + torch.linalg.norm(a + x[1])).item() / 4
    assert energy_distance(x, y) == pytest.approx(2 * cross - 1.0 - 1.0)


def test_energy_distance_is_symmetric_and_independent_of_chunking():
    x, _ = make_swiss_roll(700, seed=0)
    y, _ = make_swiss_roll(500, seed=1)
    y = y * 0.8
    forward, backward = energy_distance(x, y), energy_distance(y, x)
    assert forward == pytest.approx(backward, rel=1e-9)
    assert energy_distance(x, y, chunk=64) == pytest.approx(forward, rel=1e-9)


@pytest.mark.parametrize(
    "x, y, message",
    [
        (torch.zeros(5), torch.zeros(5, 2), r"\(n, d\)"),
        (torch.zeros(0, 2), torch.zeros(5, 2), r"\(n, d\)"),
        (torch.zeros(1, 2), torch.zeros(5, 2), "n >= 2"),
        (torch.zeros(5, 2), torch.zeros(5, 3), "different dimensions"),
    ],
)
def test_energy_distance_rejects_wrong_shapes(x, y, message):
    with pytest.raises(ValueError, match=message):
        energy_distance(x, y)


def test_energy_distance_rejects_non_tensors():
    with pytest.raises(TypeError, match="torch.Tensor"):
        energy_distance([[0.0, 0.0]], torch.zeros(1, 2))


# --------------------------------------------------------------------------- ellipses
def test_posterior_ellipses_have_two_sd_semi_axes():
    fig, ax = plt.subplots()
    mu = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    logvar = torch.log(torch.tensor([[0.25, 1.0], [4.0, 0.01]]))
    plot_posterior_ellipses(ax, mu, logvar, colors=["r", "b"])
    ellipses = ax.patches
    assert len(ellipses) == 2
    assert (ellipses[0].width, ellipses[0].height) == pytest.approx((2.0, 4.0))  # 2 * 2 * sigma
    assert (ellipses[1].width, ellipses[1].height) == pytest.approx((8.0, 0.4))
    assert tuple(ellipses[1].center) == pytest.approx((2.0, -1.0))
    plt.close(fig)


def test_posterior_ellipses_reject_bad_shapes():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_posterior_ellipses(ax, torch.zeros(3, 2), torch.zeros(3, 3))
    plt.close(fig)
