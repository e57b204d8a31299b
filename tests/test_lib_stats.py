"""Repeated runs over seeds, standard errors and the importance-weighted estimate's errors."""

import math
import random

import numpy as np
import pytest
import torch

import vae_lib as vl


def test_mean_se_matches_the_textbook_formula():
    values = [1.0, 2.0, 4.0, 7.0]
    mean = sum(values) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    assert vl.mean_se(values) == pytest.approx((mean, sd / 2))


def test_mean_se_of_one_value_has_no_error_and_bad_input_is_refused():
    m, se = vl.mean_se([3.0])
    assert m == 3.0 and math.isnan(se)
    with pytest.raises(ValueError, match="at least one"):
        vl.mean_se([])
    with pytest.raises(ValueError, match="NaN"):
        vl.mean_se([1.0, float("nan")])


def test_standard_error_agrees_with_a_brute_force_repeat():
    # The SE from one sample of n values predicts the spread of the mean over many samples.
    gen = torch.Generator().manual_seed(0)
    n, repeats = 50, 2000
    draws = torch.randn(repeats, n, generator=gen) * 3.0 + 1.0
    brute = draws.mean(dim=1).std().item()
    predicted = torch.tensor([vl.mean_se(row)[1] for row in draws[:200]]).mean().item()
    assert predicted == pytest.approx(brute, rel=0.1)
    assert brute == pytest.approx(3.0 / math.sqrt(n), rel=0.1)


def test_repeat_over_seeds_seeds_each_run_and_summarises():
    seen = []

    def run(seed):
        seen.append(seed)
        return {"draw": torch.rand(()).item(), "twice": 2.0 * seed}

    table = vl.repeat_over_seeds(run, seeds=[3, 5, 7, 9], progress=False, name="toy")
    assert seen == [3, 5, 7, 9]
    vl.seed_everything(5)
    assert table["draw"].values[1] == torch.rand(()).item()  # seeded before the run
    twice = table["twice"]
    assert (twice.mean, twice.lo, twice.hi) == (12.0, 6.0, 18.0)
    assert twice.se == pytest.approx(torch.tensor([6.0, 10, 14, 18]).std().item() / 2)
    assert "toy: 4 seeds [3, 5, 7, 9], mean +- SE" in table.table()
    assert "12.00 +- 2.58" in table.table()


def test_two_or_three_seeds_print_min_and_max_not_a_standard_error():
    table = vl.repeat_over_seeds(lambda s: {"m": float(s)}, seeds=[1, 2, 6], progress=False)
    assert "[min, max]" in table.table()
    assert "3.00 [1.00, 6.00]" in table.table()


def test_default_seeds_follow_quick_mode(monkeypatch):
    monkeypatch.setenv("VAE_QUICK", "0")
    assert vl.default_seeds() == [0, 1, 2]
    monkeypatch.setenv("VAE_QUICK", "1")
    assert vl.default_seeds() == [0, 1]


def test_repeat_over_seeds_refuses_inconsistent_metrics():
    with pytest.raises(ValueError, match="first seed returned"):
        vl.repeat_over_seeds(
            lambda s: {"a": 1.0} if s == 0 else {"b": 1.0}, seeds=[0, 1], progress=False
        )
    with pytest.raises(TypeError, match="dict of metrics"):
        vl.repeat_over_seeds(lambda s: 1.0, seeds=[0], progress=False)
    with pytest.raises(KeyError, match="no metric 'c'"):
        vl.repeat_over_seeds(lambda s: {"a": 1.0}, seeds=[0], progress=False)["c"]


def test_difference_pairs_two_seed_tables():
    a = vl.repeat_over_seeds(lambda s: {"m": 10.0 + s}, seeds=[0, 1, 2], progress=False)
    b = vl.repeat_over_seeds(
        lambda s: {"m": 9.0 + s + 0.1 * (s == 1)}, seeds=[0, 1, 2], progress=False
    )
    d = vl.difference(a, b, "m", unit="nats")
    assert d.values == pytest.approx([1.0, 0.9, 1.0])
    assert d.resolved and d.over == "seeds" and str(d).endswith("over 3 seeds")
    c = vl.repeat_over_seeds(lambda s: {"m": 1.0}, seeds=[0, 1], progress=False)
    with pytest.raises(ValueError, match="same seeds"):
        vl.difference(a, c, "m")


def test_paired_interval_matches_a_hand_computation():
    # Differences 1..5: mean 3, sd sqrt(2.5), SE sqrt(0.5); t(0.975, 4) = 2.776445.
    d = vl.paired([2.0, 4.0, 6.0, 8.0, 10.0], [1.0, 2.0, 3.0, 4.0, 5.0], unit="nats")
    half = 2.776445 * math.sqrt(0.5)
    assert d.mean == pytest.approx(3.0)
    assert d.se == pytest.approx(math.sqrt(0.5))
    assert (d.lo, d.hi) == pytest.approx((3.0 - half, 3.0 + half), abs=1e-5)
    assert str(d) == "+3.00 nats, 95% interval [+1.04, +4.96] over 5 seeds"
    noise = vl.paired([0.3, -0.2, 0.1, -0.4], over="images")
    assert not noise.resolved
    assert str(noise).endswith("over 4 images: not resolved at this budget")


@pytest.mark.parametrize(
    "df, expected",  # two-sided 95% points of Student's t, from printed tables
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (29, 2.0452), (999, 1.9623)],
)
def test_t_quantile_matches_the_tables(df, expected):
    assert vl.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_above_a_thousand_degrees_of_freedom_uses_an_accurate_expansion():
    from vae_lib.stats import _t_cdf

    for df in (1001, 5000):
        assert _t_cdf(vl.t_quantile(0.975, df), df) == pytest.approx(0.975, abs=1e-9)
    assert vl.t_quantile(0.975, 10**6) == pytest.approx(1.959966, abs=1e-5)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_with_no_true_difference_about_5_percent_are_called_real(n):
    torch.manual_seed(n)
    trials = 4000
    diffs = torch.randn(trials, n, dtype=torch.float64)
    called = sum(vl.paired(row).resolved for row in diffs)
    # Binomial(4000, 0.05): SD 13.8 calls; allow four SDs either side.
    assert abs(called - 0.05 * trials) < 4 * math.sqrt(trials * 0.05 * 0.95)
    # The old rule, three differences of one sign, fires one time in four at n = 3.
    if n == 3:
        same_sign = ((diffs > 0).all(1) | (diffs < 0).all(1)).double().mean().item()
        assert same_sign == pytest.approx(0.25, abs=0.03)


def test_paired_refuses_what_it_cannot_pair():
    with pytest.raises(ValueError, match="one b per a"):
        vl.paired([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        vl.paired([1.0])
    with pytest.raises(ValueError, match="one of 'seeds', 'images', 'draws', 'rounds'"):
        vl.paired([1.0, 2.0], over="runs")
    with pytest.raises(ValueError, match="NaN or infinite"):
        vl.paired([1.0, float("nan")])


class LinearGaussian(torch.nn.Module):
    """p(z) = N(0, 1), p(x|z) = N(x; z, 1): log p(x) = log N(x; 0, 2) exactly."""

    def __init__(self, exact: bool):
        super().__init__()
        self.exact = exact

    def encode(self, x):
        # The exact posterior is N(x / 2, 1 / 2); the inexact one is too narrow.
        var = 0.5 if self.exact else 0.1
        return x[:, :1] / 2, torch.full_like(x[:, :1], math.log(var))

    def decode(self, z):
        return z


def gaussian_log_likelihood(mean, x):
    return (-0.5 * (x - mean) ** 2 - 0.5 * math.log(2 * math.pi)).sum(dim=1)


def test_iw_estimate_reports_both_standard_errors():
    torch.manual_seed(0)
    x = torch.randn(400, 1) * math.sqrt(2.0)
    exact = (-0.5 * x[:, 0] ** 2 / 2 - 0.5 * math.log(2 * math.pi * 2)).double()
    est = vl.iw_estimate(
        LinearGaussian(exact=True), x, k=8, repeats=3, log_likelihood=gaussian_log_likelihood
    )
    # Exact posterior: every draw gives log p(x), so only the spread over images remains.
    assert est.mean == pytest.approx(exact.mean().item(), abs=1e-5)
    assert est.se_images == pytest.approx(vl.mean_se(exact)[1], rel=1e-4)
    assert est.se_draws < 1e-6
    inexact = vl.iw_estimate(
        LinearGaussian(exact=False), x, k=8, repeats=4, log_likelihood=gaussian_log_likelihood
    )
    assert inexact.se_draws > 1e-4  # a narrow q makes the estimate itself random
    assert inexact.mean < est.mean  # and the bound is below log p(x)
    assert inexact.per_image.shape == (400,)
    assert "nats per image (SE over 400 images; SE over 4 draws" in str(inexact)


def test_iw_estimate_with_one_repeat_has_no_draw_error():
    x = torch.randn(10, 1)
    est = vl.iw_estimate(
        LinearGaussian(exact=False), x, k=4, repeats=1, log_likelihood=gaussian_log_likelihood
    )
    assert math.isnan(est.se_draws) and "draws" not in str(est)
    with pytest.raises(ValueError, match="repeats"):
        vl.iw_estimate(LinearGaussian(True), x, repeats=0, log_likelihood=gaussian_log_likelihood)


def test_repeat_over_seeds_reseeds_python_random_too():
    table = vl.repeat_over_seeds(lambda s: {"r": random.random()}, seeds=[4, 4], progress=False)
    assert table["r"].values[0] == table["r"].values[1]


def test_glue_stores_plain_numbers_and_refuses_bad_names(monkeypatch):
    import myst_nb

    stored = {}
    monkeypatch.setattr(myst_nb, "glue", lambda n, v, display: stored.update({n: v}))
    assert vl.glue("elbo-gain_1", torch.tensor(2.5)) is None
    vl.glue("count", np.int64(3))
    assert stored == {"elbo-gain_1": 2.5, "count": 3}
    assert type(stored["elbo-gain_1"]) is float and type(stored["count"]) is int
    with pytest.raises(ValueError, match="letters, digits"):
        vl.glue("a b", 1.0)


def test_paired_seeds_images_adds_the_test_sets_error_in_quadrature():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(5, 200, generator=g, dtype=torch.float64)
    b = torch.rand(5, 200, generator=g, dtype=torch.float64)
    d = vl.paired_seeds_images((a, b), unit="dB")
    per_seed = (a - b).mean(1)
    seed_se = per_seed.std() / math.sqrt(5)
    image_se = (a - b).mean(0).std() / math.sqrt(200)
    assert d.mean == pytest.approx(per_seed.mean().item())
    assert d.se == pytest.approx(math.hypot(seed_se, image_se))
    assert d.hi - d.mean == pytest.approx(vl.t_quantile(0.975, 4) * d.se)
    assert "over 5 seeds and 200 test images" in str(d)
    # Without the images' part the interval is vl.paired's, and narrower.
    assert vl.paired(per_seed).se == pytest.approx(seed_se.item())
    assert d.se > vl.paired(per_seed).se


def test_paired_seeds_images_covers_a_true_zero_about_95_percent():
    # Every seed is scored on one shared test set drawn from a population in
    # which A and B are equally good: the seeds alone cannot see that set's
    # luck, so vl.paired over seeds calls a difference far too often.
    g = torch.Generator().manual_seed(1)
    calls, calls_seeds_only, trials = 0, 0, 400
    for _ in range(trials):
        image_effect = torch.randn(1, 300, generator=g, dtype=torch.float64)
        a = image_effect + 0.1 * torch.randn(5, 300, generator=g, dtype=torch.float64)
        b = torch.zeros(5, 300, dtype=torch.float64)
        calls += vl.paired_seeds_images((a, b)).resolved
        calls_seeds_only += vl.paired((a - b).mean(1)).resolved
    assert calls / trials < 0.09
    assert calls_seeds_only / trials > 0.5


def test_auroc_placements_average_to_the_auroc_and_give_delongs_variance():
    g = torch.Generator().manual_seed(2)
    normal = torch.randn(300, generator=g)
    anomalous = torch.randn(200, generator=g) + 1.0
    normal[:5] = anomalous[:5]  # a few ties
    u, v = vl.auroc_placements(normal, anomalous)
    auc = vl.auroc(normal, anomalous)
    assert u.shape == (300,) and v.shape == (200,)
    assert u.mean().item() == pytest.approx(auc) and v.mean().item() == pytest.approx(auc)
    # DeLong's variance against the spread of the AUROC over fresh samples.
    delong = (u.var() / 300 + v.var() / 200).item()
    fresh = torch.tensor(
        [
            vl.auroc(torch.randn(300, generator=g), torch.randn(200, generator=g) + 1.0)
            for _ in range(400)
        ]
    )
    assert delong == pytest.approx(fresh.var().item(), rel=0.25)


def test_paired_seeds_images_takes_both_groups_of_an_auroc():
    g = torch.Generator().manual_seed(3)
    normal = torch.randn(3, 100, generator=g)
    anomalous = torch.randn(3, 80, generator=g) + 1
    pa = [vl.auroc_placements(n, a) for n, a in zip(normal, anomalous)]
    pb = [vl.auroc_placements(n, a + 0.5) for n, a in zip(normal, anomalous)]
    u_a, v_a = (torch.stack(x) for x in zip(*pa))
    u_b, v_b = (torch.stack(x) for x in zip(*pb))
    d = vl.paired_seeds_images((v_a, v_b), (u_a, u_b))
    aucs = [vl.auroc(n, a) - vl.auroc(n, a + 0.5) for n, a in zip(normal, anomalous)]
    assert d.mean == pytest.approx(sum(aucs) / 3)
    image_var = ((v_a - v_b).mean(0).var() / 80 + (u_a - u_b).mean(0).var() / 100).item()
    assert d.image_se == pytest.approx(math.sqrt(image_var))


def test_paired_seeds_images_refuses_what_it_cannot_pair():
    a = torch.zeros(3, 10)
    with pytest.raises(ValueError, match="at least one"):
        vl.paired_seeds_images()
    with pytest.raises(ValueError, match="shape"):
        vl.paired_seeds_images((a, torch.zeros(3, 9)))
    with pytest.raises(ValueError, match="shape"):
        vl.paired_seeds_images((torch.zeros(10), torch.zeros(10)))
    with pytest.raises(ValueError, match="same seeds"):
        vl.paired_seeds_images((a, a), (torch.zeros(2, 10), torch.zeros(2, 10)))
    with pytest.raises(ValueError, match="NaN"):
        vl.paired_seeds_images((a, torch.full((3, 10), float("nan"))))


def test_seeded_gives_the_same_draws_and_restores_the_state():
    torch.manual_seed(5)
    expected_after = torch.rand(3)
    torch.manual_seed(5)
    with vl.seeded(100):
        first = torch.rand(4)
    after = torch.rand(3)
    with vl.seeded(100):
        second = torch.rand(4)
    assert torch.equal(first, second)
    assert torch.equal(after, expected_after)
