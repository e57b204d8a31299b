"""Latent explorers that run in the reader's browser, with no kernel.

A trained MLP decoder is exported into the cell's HTML output: its weights
as float16 (byte planes split, deflated, base64), the test set's codes as a
quantised scatter, a canvas and a few lines of plain JavaScript that
evaluate the decoder in float32. The same output works in the HTML book, in
Jupyter and in Colab, and asks nothing of the network. The JavaScript lives
in explorer.js beside this module (package data); each output inlines a
copy of it with the explorer's element id in place of ``__ID__``.

* ``image_explorer``: drag a point over the latent scatter, see the image
  (optionally conditioned on a label the reader picks).
* ``point_explorer``: for 2-D data, drag in the latent plane and see the
  decoded point move over the data; with an encoder, click a data point
  to see its posterior ellipse.

Every export carries reference outputs of the float32 decoder at a few
codes; the page recomputes them when it loads and shows an error (and logs
one to the console) when the exported weights do not reproduce them.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import uuid
import zlib
from dataclasses import dataclass, field
from importlib import resources

import matplotlib
import numpy as np
import torch
from matplotlib.colors import to_hex
from torch import nn

ACTIVATIONS = {
    nn.ReLU: "relu",
    nn.LeakyReLU: "leaky_relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.Identity: "identity",
}
_ACTIVATION_CLASSES = {kind: cls for cls, kind in ACTIVATIONS.items()}


def _supported() -> str:
    """The layers export_mlp accepts, for people: "nn.Linear, ... and nn.Identity"."""
    names = ["nn.Linear"] + [f"nn.{cls.__name__}" for cls in ACTIVATIONS]
    return ", ".join(names[:-1]) + " and " + names[-1]


SUPPORTED = _supported()
BUDGET_BYTES = 500_000
"""Most an explorer may add to its page (the book's budget)."""
TAB10 = [to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
"""matplotlib's tab10 palette (its default colour cycle), for the digit labels."""
FALLBACK = "This explorer needs JavaScript; the static figures beside it show the same decoder."
"""What a page without JavaScript shows in place of an explorer."""
SCRIPT_FILE = "explorer.js"
"""The page's program, shipped beside this module as package data."""
PLACEHOLDER = "__ID__"
"""Stands in explorer.js for the id of the explorer's element."""


@functools.cache
def _script_source() -> str:
    """explorer.js as stored in the installed package, placeholder included."""
    return resources.files("vae_lib").joinpath(SCRIPT_FILE).read_text(encoding="utf-8")


def page_script(element_id: str) -> str:
    """The JavaScript that draws the explorer in the element with this id."""
    return _script_source().replace(PLACEHOLDER, element_id)


class ExportError(TypeError):
    """The module is not an MLP that the in-page explorer can evaluate."""


# --- weights: float16, byte planes, deflate, base64 ------------------------


def encode_halves(values: np.ndarray, mantissa_bits: int = 10) -> str:
    """float values (any shape) -> base64 text of their float16 bytes.

    mantissa_bits < 10 rounds each float16 to that many mantissa bits
    (relative error at most 2 ** -(mantissa_bits + 1)); the zeroed bits cost
    almost nothing once deflated. The low bytes of all values come first,
    then the high bytes (sign, exponent, top mantissa bits), which deflate
    compresses well.
    """
    if not 1 <= mantissa_bits <= 10:
        raise ValueError(f"mantissa_bits must be 1 to 10, got {mantissa_bits}.")
    half = np.asarray(values, dtype=np.float16).ravel().view(np.uint16)
    drop = 10 - mantissa_bits
    if drop:  # round to nearest (ties away from zero), in the bit pattern
        half = ((half.astype(np.uint32) + (1 << (drop - 1))) >> drop << drop).astype(np.uint16)
    half = np.ascontiguousarray(half)
    planes = half.view(np.uint8).reshape(-1, 2).T.copy()  # little-endian
    return base64.b64encode(zlib.compress(planes.tobytes(), 9)).decode("ascii")


def decode_halves(text: str) -> np.ndarray:
    """The inverse of encode_halves: base64 text -> float32 values (n,)."""
    planes = np.frombuffer(zlib.decompress(base64.b64decode(text)), np.uint8)
    pairs = planes.reshape(2, -1).T.copy()
    return pairs.view(np.float16).ravel().astype(np.float32)


def _bytes64(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, np.uint8).tobytes()).decode("ascii")


def _unbytes64(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), np.uint8)


# --- the network ------------------------------------------------------------


def _flat_layers(module: nn.Module) -> list[nn.Module]:
    if isinstance(module, nn.Sequential):
        return [layer for child in module for layer in _flat_layers(child)]
    return [module]


def export_mlp(module: nn.Module, head: str | None = None, mantissa_bits: int = 8) -> dict:
    """Describe an MLP for the page: {"layers": [...], "weights": text}.

    module: an nn.Linear, or an nn.Sequential (nested ones are flattened)
    of nn.Linear layers and elementwise activations. head: an activation
    appended after the module ("sigmoid" for Bernoulli logits), or None.
    mantissa_bits: precision of the float16 weights (see encode_halves).
    Raises ExportError, naming the supported layers, for anything else.
    """
    layers, blobs = [], []
    for i, layer in enumerate(_flat_layers(module)):
        if isinstance(layer, nn.Linear):
            layers.append({"kind": "linear", "in": layer.in_features, "out": layer.out_features})
            weight = layer.weight.detach().float().cpu().numpy()
            bias = (
                layer.bias.detach().float().cpu().numpy()
                if layer.bias is not None
                else np.zeros(layer.out_features, np.float32)
            )
            blobs += [weight.ravel(), bias]
        elif type(layer) in ACTIVATIONS:
            entry = {"kind": ACTIVATIONS[type(layer)]}
            if isinstance(layer, nn.LeakyReLU):
                entry["slope"] = float(layer.negative_slope)
            layers.append(entry)
        else:
            raise ExportError(
                f"The explorer evaluates MLPs made of {SUPPORTED} (in an "
                f"nn.Sequential); layer {i} is {type(layer).__name__}."
            )
    if head is not None:
        if head not in ACTIVATIONS.values():
            raise ExportError(f"head must be one of {sorted(ACTIVATIONS.values())}, got {head!r}.")
        layers.append({"kind": head})
    linears = [entry for entry in layers if entry["kind"] == "linear"]
    if not linears:
        raise ExportError("The module has no nn.Linear layer: nothing to export.")
    for a, b in zip(linears[:-1], linears[1:]):
        if a["out"] != b["in"]:
            raise ExportError(
                f"Layer sizes do not chain: {a['out']} outputs feed {b['in']} inputs."
            )
    return {
        "layers": layers,
        "in": linears[0]["in"],
        "out": linears[-1]["out"],
        "weights": encode_halves(np.concatenate(blobs), mantissa_bits),
    }


def mlp_from_spec(net: dict) -> nn.Sequential:
    """The network the page evaluates, as a float32 torch module.

    net: the dict export_mlp returns. The weights are the float16 values of
    the export, so this is the decoder exactly as the reader's browser has it.
    """
    values = torch.from_numpy(decode_halves(net["weights"]))
    modules, offset = [], 0
    for entry in net["layers"]:
        kind = entry["kind"]
        if kind == "linear":
            linear = nn.Linear(entry["in"], entry["out"])
            n_w, n_b = entry["in"] * entry["out"], entry["out"]
            with torch.no_grad():
                linear.weight.copy_(values[offset : offset + n_w].view(entry["out"], entry["in"]))
                linear.bias.copy_(values[offset + n_w : offset + n_w + n_b])
            offset += n_w + n_b
            modules.append(linear)
        elif kind == "leaky_relu":
            modules.append(nn.LeakyReLU(entry["slope"]))
        else:
            modules.append(_ACTIVATION_CLASSES[kind]())
    if offset != len(values):
        raise ValueError(f"The export holds {len(values)} weights, its layers use {offset}.")
    return nn.Sequential(*modules).eval()


# --- the explorer -------------------------------------------------------------


@dataclass(repr=False)
class Explorer:
    """An in-page explorer; display it (last line of a cell) to draw it.

    spec: everything the page needs (JSON-able). source: the float32
    network the export came from (head included); its inputs are the codes
    z (B, z_dim), followed by the one-hot label when conditional.
    """

    spec: dict
    source: nn.Module = field(repr=False)
    element_id: str = field(default_factory=lambda: "vae-explorer-" + uuid.uuid4().hex[:12])

    def html(self) -> str:
        """The HTML (with its script) that draws the explorer."""
        data = json.dumps(self.spec, separators=(",", ":")).replace("<", "\\u003c")
        note = self.spec.get("fallback", "")
        return (
            f'<div id="{self.element_id}" class="vae-explorer tex2jax_ignore '
            f'mathjax_ignore">\n<noscript><p><em>{note}</em></p></noscript>\n'
            f'<script type="application/json" class="vae-explorer-spec">{data}'
            f"</script>\n<script>\n{page_script(self.element_id)}</script>\n</div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:  # the text/plain output: short, no weights
        net = self.spec["net"]
        return (
            f"<{self.spec['mode']} explorer: MLP {net['in']} -> {net['out']}, "
            f"{self.n_bytes / 1000:.0f} KB of HTML; display it to draw it>"
        )

    @property
    def n_bytes(self) -> int:
        """Size of the HTML output in bytes (what it adds to the page)."""
        return len(self.html().encode("utf-8"))

    @property
    def tolerance(self) -> float:
        """Largest output difference the page's self-check accepts, in the
        output's unit (2/255 for pixel intensities; 0.5% of the plotted
        width for points)."""
        check = self.spec["check"]
        return check["tol"] / 255 if "bytes" in check else check["tol"]

    def exported(self) -> nn.Sequential:
        """The network the page evaluates (float16 weights, float32 maths)."""
        return mlp_from_spec(self.spec["net"])

    def plane_inputs(self, u: torch.Tensor, label: int | None = None) -> torch.Tensor:
        """Network inputs for plane coordinates u (B, 2): z, then one-hot label."""
        return plane_inputs(self.spec, u, label)

    @torch.no_grad()
    def max_difference(self, n: int = 41) -> float:
        """Largest |exported - float32| output over an n x n grid of the plane.

        For every label when conditional. The unit is the network's output:
        pixel intensity in [0, 1] for images, data units for points.
        """
        lo, hi = self.spec["plane"]["range"]
        ticks = torch.linspace(lo, hi, n)
        u = torch.stack(torch.meshgrid(ticks, ticks, indexing="xy"), -1).reshape(-1, 2)
        labels = range(self.spec["nClasses"]) if self.spec["nClasses"] else [None]
        source = self.source.float().cpu().eval()
        exported, gap = self.exported(), 0.0
        for label in labels:
            inputs = self.plane_inputs(u, label)
            gap = max(gap, (exported(inputs) - source(inputs)).abs().max().item())
        return gap


def plane_inputs(spec: dict, u: torch.Tensor, label: int | None = None) -> torch.Tensor:
    """Map plane coordinates u (B, 2) to the network's inputs (B, in).

    z = origin + u1 * axis1 + u2 * axis2; a conditional explorer appends
    the one-hot label (label must then be given).
    """
    plane = spec["plane"]
    origin = torch.tensor(plane["origin"], dtype=torch.float32)
    axes = torch.tensor(plane["axes"], dtype=torch.float32)  # (2, z_dim)
    z = origin + u.float().cpu() @ axes
    if spec["nClasses"]:
        if label is None:
            raise ValueError("A conditional explorer needs a label.")
        one_hot = torch.zeros(len(z), spec["nClasses"])
        one_hot[:, label] = 1.0
        z = torch.cat([z, one_hot], dim=1)
    return z


def _plane(z_dim: int, dims: tuple[int, int], span: float, origin=None) -> dict:
    if z_dim < 2 or len(set(dims)) != 2 or not all(0 <= d < z_dim for d in dims):
        raise ValueError(
            f"dims must be two different coordinates of z (z_dim={z_dim}), got {dims}."
        )
    axes = np.zeros((2, z_dim), np.float32)
    axes[0, dims[0]] = axes[1, dims[1]] = 1.0
    origin = np.zeros(z_dim) if origin is None else np.asarray(origin, np.float64)
    return {
        "origin": [float(v) for v in origin],
        "axes": axes.tolist(),
        "range": [-float(span), float(span)],
        "names": [f"z{dims[0] + 1}", f"z{dims[1] + 1}"],
    }


def _scatter(points, box, colors, palette, max_points) -> dict:
    """Points (N, 2) inside box (x0, x1, y0, y1) quantised to bytes."""
    points = torch.as_tensor(points).detach().float().cpu()[:max_points]
    colors = np.asarray(colors)[: len(points)]
    x0, x1, y0, y1 = box
    keep = (
        (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
    ).numpy()
    scale = torch.tensor([x1 - x0, y1 - y0])
    q = ((points - torch.tensor([x0, y0])) / scale * 255).round().clamp(0, 255)
    q = q.numpy().astype(np.uint8)[keep]
    return {
        "xy": _bytes64(q.ravel()),
        "colors": _bytes64(colors[keep]),
        "palette": palette,
        "box": [float(v) for v in box],
    }


def _label_colors(labels, n: int):
    if labels is None:
        return np.zeros(n, np.uint8), ["#555555"]
    labels = torch.as_tensor(labels).cpu().numpy().astype(np.int64)
    return (labels % len(TAB10)).astype(np.uint8), TAB10


def _value_colors(values, n: int, bins: int = 16):
    """Values in [0, 1] -> indices into a viridis palette of ``bins`` colours."""
    if values is None:
        return np.zeros(n, np.uint8), ["#999999"]
    values = torch.as_tensor(values).detach().float().cpu().numpy()
    index = np.clip((values * bins).astype(np.int64), 0, bins - 1).astype(np.uint8)
    cmap = matplotlib.colormaps["viridis"]
    return index, [to_hex(cmap((i + 0.5) / bins)) for i in range(bins)]


def _check_codes(span: float) -> np.ndarray:
    """Eight plane points (8, 2) at which the page checks its own export."""
    s = 0.6 * span
    return np.array(
        [[0, 0], [s, 0], [-s, 0], [0, s], [0, -s], [s, s], [-s, -s], [0.3 * s, -0.7 * s]],
        np.float32,
    )


def _source(decoder: nn.Module, head: str | None) -> nn.Module:
    head_module = {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), None: nn.Identity()}
    if head not in head_module:
        raise ExportError(f"head must be 'sigmoid', 'tanh' or None, got {head!r}.")
    # A copy: .cpu() moves a module in place, and the chapter keeps using it.
    return nn.Sequential(copy.deepcopy(decoder), head_module[head])


@torch.no_grad()
def image_explorer(
    decoder: nn.Module,
    codes: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    head: str | None = "sigmoid",
    image_shape: tuple[int, int] = (28, 28),
    n_classes: int = 0,
    dims: tuple[int, int] = (0, 1),
    span: float = 3.0,
    max_points: int = 3000,
    title: str = "",
    fallback: str = FALLBACK,
) -> Explorer:
    """Drag over a latent scatter, see the decoded image.

    decoder: MLP from z (B, z_dim) (then the one-hot label (B, n_classes)
    when n_classes > 0) to pixels (B, H * W) before ``head``; with head
    "sigmoid" the outputs are Bernoulli logits and the page draws their
    means. codes: (N, z_dim) encoder means for the scatter; labels: (N,)
    digit labels to colour them. The reader moves the coordinates ``dims``
    over [-span, span]; the others stay 0 (the prior's mean).
    Returns an Explorer (at most max_points points are embedded).
    """
    codes = torch.as_tensor(codes).detach().float().cpu()
    z_dim = codes.shape[1]
    net = export_mlp(decoder, head)
    if net["in"] != z_dim + n_classes or net["out"] != image_shape[0] * image_shape[1]:
        raise ValueError(
            f"The decoder maps {net['in']} inputs to {net['out']} outputs; an image "
            f"explorer with z_dim={z_dim}, n_classes={n_classes} and images "
            f"{image_shape} needs {z_dim + n_classes} -> {image_shape[0] * image_shape[1]}."
        )
    plane = _plane(z_dim, dims, span)
    colors, palette = _label_colors(labels, len(codes))
    on_plane = codes[:, list(dims)]
    spec = {
        "version": 1,
        "mode": "image",
        "title": title,
        "fallback": fallback,
        "net": net,
        "zDim": z_dim,
        "nClasses": n_classes,
        "plane": plane,
        "map": _scatter(on_plane, [-span, span, -span, span], colors, palette, max_points),
        "image": {"height": image_shape[0], "width": image_shape[1]},
    }
    if labels is not None and n_classes:
        spec["map"]["labels"] = True  # colour index is the label: dim the others
    source = _source(decoder, head).float().cpu().eval()
    spec["check"] = _reference(spec, source, span, scale=255)
    return Explorer(spec, source)


@torch.no_grad()
def point_explorer(
    decoder: nn.Module,
    codes: torch.Tensor,
    data: torch.Tensor,
    *,
    colors: torch.Tensor | None = None,
    encoder: nn.Module | None = None,
    span: float = 3.0,
    max_points: int = 3000,
    title: str = "",
    fallback: str = FALLBACK,
) -> Explorer:
    """Drag in a 2-D latent plane, see the decoded point move over the data.

    decoder: MLP from z (B, 2) to the mean of p(x|z) (B, x_dim); the first
    two coordinates of x are drawn. codes: (N, 2) encoder means for the
    latent scatter; data: (M, x_dim) points drawn behind the decoded one;
    colors: (N,) values in [0, 1] (e.g. the position along a curve) that
    colour both scatters (viridis). encoder (optional): MLP from x (B, x_dim)
    to [mu, logvar] (B, 4); clicking a data point then shows its posterior
    q(z|x) as an ellipse of two standard deviations.
    """
    codes = torch.as_tensor(codes).detach().float().cpu()
    data = torch.as_tensor(data).detach().float().cpu()
    net = export_mlp(decoder)
    if codes.shape[1] != 2 or net["in"] != 2 or net["out"] != data.shape[1] or net["out"] < 2:
        raise ValueError(
            f"A point explorer needs 2-D codes and a decoder 2 -> x_dim >= 2 "
            f"matching the data; got codes {tuple(codes.shape)}, decoder "
            f"{net['in']} -> {net['out']}, data {tuple(data.shape)}."
        )
    xy = data[:max_points, :2]
    low, high = xy.min(0).values, xy.max(0).values
    middle, half = (low + high) / 2, (high - low).max().item() * 0.6
    box = [middle[0] - half, middle[0] + half, middle[1] - half, middle[1] + half]
    box = [float(v) for v in box]
    color_index, palette = _value_colors(colors, max(len(codes), len(data)))
    spec = {
        "version": 1,
        "mode": "point",
        "title": title,
        "fallback": fallback,
        "net": net,
        "zDim": 2,
        "nClasses": 0,
        "plane": _plane(2, (0, 1), span),
        "map": _scatter(codes, [-span, span, -span, span], color_index, palette, max_points),
        "data": _scatter(xy, box, color_index, palette, max_points),
    }
    if encoder is not None:
        enc = export_mlp(encoder)
        if enc["in"] != data.shape[1] or enc["out"] != 4:
            raise ValueError(
                f"The encoder must map x_dim={data.shape[1]} inputs to [mu, logvar] "
                f"(4 outputs); it maps {enc['in']} -> {enc['out']}."
            )
        spec["encoder"] = enc
    source = _source(decoder, None).float().cpu().eval()
    spec["check"] = _reference(spec, source, span, scale=None)
    return Explorer(spec, source)


def _reference(spec: dict, source: nn.Module, span: float, scale: float | None) -> dict:
    """The float32 network's outputs at eight check codes, for the page.

    Images are stored as bytes (round(255 p)); points as floats. tol: the
    largest difference the page accepts, in the same unit.
    """
    u = torch.from_numpy(_check_codes(span))
    n = spec["nClasses"]
    labels = [i % n for i in range(len(u))] if n else [None] * len(u)
    outputs = torch.cat(
        [source(plane_inputs(spec, u[i : i + 1], label)) for i, label in enumerate(labels)]
    )
    check = {"u": u.tolist(), "labels": [0 if v is None else v for v in labels]}
    if scale is None:
        check["values"] = [[round(float(v), 6) for v in row] for row in outputs]
        box = spec["data"]["box"]
        check["tol"] = 0.005 * (box[1] - box[0])
    else:
        check["bytes"] = _bytes64((outputs * scale).round().clamp(0, scale).numpy())
        check["tol"] = 2
    return check


def reference_outputs(spec: dict) -> np.ndarray:
    """The check outputs stored in an export: (8, out), bytes or floats."""
    check = spec["check"]
    if "bytes" in check:
        return _unbytes64(check["bytes"]).reshape(len(check["u"]), -1).astype(np.int64)
    return np.asarray(check["values"], np.float64)


@torch.no_grad()
def export_error(spec: dict) -> float:
    """What the page's self-check computes, in Python: the largest
    difference between the exported network and the stored float32
    reference at the check codes, in the reference's unit (1/255 steps
    for images, data units for points). Above spec["check"]["tol"] the
    page reports a broken export.
    """
    check, net = spec["check"], mlp_from_spec(spec["net"])
    u = torch.tensor(check["u"], dtype=torch.float32)
    labels = check["labels"] if spec["nClasses"] else [None] * len(u)
    out = torch.cat([net(plane_inputs(spec, u[i : i + 1], y)) for i, y in enumerate(labels)])
    out = out.double().numpy()
    if "bytes" in check:
        out = np.round(out * 255)
    return float(np.abs(out - reference_outputs(spec)).max())
