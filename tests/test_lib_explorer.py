"""vae_lib.explorer without a browser: the weight encoding, what can be
exported, the page's self-check in Python, and the size budget.

The browser half (the page draws what PyTorch computes, fast enough) is in
tests/test_book_browser.py.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import vae_lib as vl
from vae_lib import explorer as ex


def _specs(html):
    found = re.findall(
        r'<script type="application/json" class="vae-explorer-spec">(.*?)</script>', html
    )
    return [json.loads(text) for text in found]


def corrupt(spec, scale=-1.0):
    """A copy of spec whose largest first-layer weight is multiplied by scale."""
    spec = json.loads(json.dumps(spec))
    values = ex.decode_halves(spec["net"]["weights"])
    first = spec["net"]["layers"][0]
    n_first = first["in"] * first["out"]
    i = int(np.abs(values[:n_first]).argmax())
    values[i] *= scale
    spec["net"]["weights"] = ex.encode_halves(values)
    return spec


def test_weight_encoding_round_trips_float16():
    values = np.random.default_rng(0).normal(0, 0.1, 5000).astype(np.float32)
    values[:3] = [0.0, -1e-7, 65504.0]  # zero, a subnormal, the largest half
    back = ex.decode_halves(ex.encode_halves(values))
    assert back.dtype == np.float32 and back.shape == values.shape
    np.testing.assert_array_equal(back, values.astype(np.float16).astype(np.float32))


@pytest.mark.parametrize("bits", [10, 8, 6])
def test_fewer_mantissa_bits_keep_the_relative_error_bounded(bits):
    values = np.random.default_rng(1).normal(0, 0.1, 5000).astype(np.float32)
    values = values[np.abs(values) > 1e-3]  # normal float16 numbers
    back = ex.decode_halves(ex.encode_halves(values, mantissa_bits=bits))
    relative = np.abs(back - values) / np.abs(values)
    assert relative.max() <= 2.0 ** -(bits + 1) + 2.0**-11  # rounding + float16
    with pytest.raises(ValueError, match="mantissa_bits"):
        ex.encode_halves(values, mantissa_bits=0)


@pytest.mark.parametrize(
    "module",
    [
        vl.MLPVAE(z_dim=2, hidden=(32,)).decoder,
        nn.Sequential(
            nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Sequential(nn.Linear(8, 4), nn.Tanh())
        ),
        nn.Sequential(nn.Linear(3, 8, bias=False), nn.Sigmoid(), nn.Identity(), nn.Linear(8, 2)),
        nn.Linear(3, 5),
    ],
    ids=["MLPVAE.decoder", "leaky-tanh-nested", "no-bias-sigmoid", "one-linear"],
)
def test_exported_network_computes_what_the_module_computes(module):
    torch.manual_seed(0)
    net = ex.export_mlp(module, mantissa_bits=10)
    rebuilt = ex.mlp_from_spec(net)
    x = torch.randn(64, net["in"])
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), module(x), atol=2e-2, rtol=2e-3)


@pytest.mark.parametrize(
    "module, name",
    [
        (nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)), "BatchNorm1d"),
        (vl.ConvVAE(widths=(2, 2, 2, 2, 2), z_dim=2).decoder, "ConvTranspose2d"),
        (nn.Sequential(nn.Linear(4, 8), nn.Softmax(dim=1)), "Softmax"),
    ],
)
def test_unsupported_layers_are_refused_by_name(module, name):
    with pytest.raises(ex.ExportError, match=name) as error:
        ex.export_mlp(module)
    assert "nn.Linear" in str(error.value) and "nn.LeakyReLU" in str(error.value)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ex.ExportError, match="do not chain"):
        ex.export_mlp(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(9, 3)))
    with pytest.raises(ex.ExportError, match="no nn.Linear"):
        ex.export_mlp(nn.Sequential(nn.ReLU()))
    decoder = vl.MLPVAE(z_dim=2, hidden=(16,)).decoder
    with pytest.raises(ValueError, match="needs 12 -> 784"):
        ex.image_explorer(decoder, torch.randn(10, 2), n_classes=10)
    with pytest.raises(ValueError, match="dims"):
        ex.image_explorer(decoder, torch.randn(10, 2), dims=(0, 0))
    with pytest.raises(ValueError, match="point explorer"):
        ex.point_explorer(decoder, torch.randn(10, 2), torch.randn(10, 2))


def _mnist_2d_explorer(**kwargs):
    torch.manual_seed(0)
    model = vl.MLPVAE(z_dim=2, hidden=(256,))
    codes, labels = torch.randn(10_000, 2), torch.randint(0, 10, (10_000,))
    return model, ex.image_explorer(model.decoder, codes, labels, **kwargs)


def test_chapter_2_sized_explorer_fits_the_page_budget_and_is_faithful():
    _, explorer = _mnist_2d_explorer()
    assert explorer.n_bytes <= ex.BUDGET_BYTES, f"{explorer.n_bytes / 1000:.0f} KB"
    # Pixel intensities in [0, 1]: well inside the 2/255 the page accepts.
    assert explorer.max_difference(n=21) < 1 / 255
    assert ex.export_error(explorer.spec) <= explorer.spec["check"]["tol"]


def test_html_is_self_contained_and_ids_are_unique():
    _, first = _mnist_2d_explorer(max_points=200)
    second = ex.image_explorer(
        nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 784)),
        torch.randn(100, 2),
        torch.randint(0, 10, (100,)),
        n_classes=10,
    )
    page = first._repr_html_() + second._repr_html_()
    ids = re.findall(r'<div id="(vae-explorer-[0-9a-f]+)"', page)
    assert len(ids) == 2 and ids[0] != ids[1]
    assert f'getElementById("{ids[0]}")' in page and f'getElementById("{ids[1]}")' in page
    assert "<noscript>" in page
    assert not re.search(r"(src|href)=|https?://|import\(|fetch\(|XMLHttpRequest", page)
    specs = _specs(page)
    assert [s["nClasses"] for s in specs] == [0, 10]
    assert len(ex.decode_halves(specs[1]["net"]["weights"])) == 12 * 16 + 16 + 16 * 784 + 784


def test_reference_is_the_float32_decoder_and_corruption_is_caught():
    model, explorer = _mnist_2d_explorer(max_points=10)
    spec = explorer.spec
    u = torch.tensor(spec["check"]["u"])
    with torch.no_grad():
        expected = torch.sigmoid(model.decoder(u)).mul(255).round()
    np.testing.assert_array_equal(ex.reference_outputs(spec), expected.numpy())
    broken = corrupt(spec)
    assert ex.export_error(broken) > broken["check"]["tol"]


def test_conditional_and_point_explorers():
    torch.manual_seed(0)
    cvae_decoder = nn.Sequential(nn.Linear(15, 32), nn.ReLU(), nn.Linear(32, 784))
    explorer = ex.image_explorer(
        cvae_decoder, torch.randn(50, 5), torch.randint(0, 10, (50,)), n_classes=10, dims=(1, 3)
    )
    inputs = explorer.plane_inputs(torch.tensor([[0.5, -2.0]]), label=7)
    assert inputs.tolist()[0][:5] == [0.0, 0.5, 0.0, -2.0, 0.0]
    assert inputs[0, 5:].argmax().item() == 7 and inputs[0, 5:].sum().item() == 1
    with pytest.raises(ValueError, match="label"):
        explorer.plane_inputs(torch.zeros(1, 2))
    assert explorer.max_difference(n=5) < 1 / 255

    decoder = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(), nn.Linear(32, 2))
    encoder = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(), nn.Linear(32, 4))
    data, t = vl.make_swiss_roll(500, noise=0.5, seed=0)
    points = ex.point_explorer(decoder, torch.randn(500, 2), data, colors=t, encoder=encoder)
    assert "encoder" in points.spec and len(points.spec["data"]["palette"]) == 16
    assert points.max_difference(n=11) < 1e-2
    assert ex.export_error(points.spec) <= points.spec["check"]["tol"]
    assert ex.export_error(corrupt(points.spec, scale=-3.0)) > points.spec["check"]["tol"]
    with pytest.raises(ValueError, match="encoder"):
        ex.point_explorer(decoder, torch.randn(5, 2), data, encoder=decoder)


def _node_check(path):
    """Run ``node --check`` on a file; fail with node's message on a syntax error."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the explorer's JavaScript is not syntax-checked")
    result = subprocess.run(
        [node, "--check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_javascript_is_package_data_and_valid_as_stored():
    stored = Path(ex.__file__).with_name(ex.SCRIPT_FILE)
    assert stored.read_text(encoding="utf-8").count(f'"{ex.PLACEHOLDER}"') == 1
    _node_check(stored)


def test_the_javascript_each_output_inlines_is_valid(tmp_path):
    element_id = "vae-explorer-0123456789ab"
    script = ex.page_script(element_id)
    assert ex.PLACEHOLDER not in script and f'getElementById("{element_id}")' in script
    explorer = ex.image_explorer(nn.Linear(2, 784), torch.randn(20, 2))
    explorer.element_id = element_id
    assert f"<script>\n{script}</script>" in explorer.html()
    path = tmp_path / "inlined.js"
    path.write_text(script, encoding="utf-8")
    _node_check(path)
