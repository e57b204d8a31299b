"""Latent explorers that run in the reader's browser, with no kernel.

A trained MLP decoder is exported into the cell's HTML output: its weights
as float16 (byte planes split, deflated, base64), the test set's codes as a
quantised scatter, a canvas and a few lines of plain JavaScript that
evaluate the decoder in float32. The same output works in the HTML book, in
Jupyter and in Colab, and asks nothing of the network.

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
import json
import uuid
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {
    nn.ReLU: "relu",
    nn.LeakyReLU: "leaky_relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.Identity: "identity",
}
SUPPORTED = "nn.Linear, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid and nn.Identity"
BUDGET_BYTES = 500_000
"""Most an explorer may add to its page (the book's budget)."""
TAB10 = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


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
            cls = {v: k for k, v in ACTIVATIONS.items()}[kind]
            modules.append(cls())
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
            f"</script>\n<script>{SCRIPT.replace('__ID__', self.element_id)}"
            "</script>\n</div>"
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
    import matplotlib

    if values is None:
        return np.zeros(n, np.uint8), ["#999999"]
    values = torch.as_tensor(values).detach().float().cpu().numpy()
    index = np.clip((values * bins).astype(np.int64), 0, bins - 1).astype(np.uint8)
    cmap = matplotlib.colormaps["viridis"]
    return index, [matplotlib.colors.to_hex(cmap((i + 0.5) / bins)) for i in range(bins)]


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
    fallback: str = "This explorer needs JavaScript; the static figures beside it "
    "show the same decoder.",
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
    fallback: str = "This explorer needs JavaScript; the static figures beside it "
    "show the same decoder.",
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


SCRIPT = r"""
(function () {
  "use strict";
  // By id; or, where a front end runs the script before the output is in
  // the document, the element around this script.
  const root = document.getElementById("__ID__") ||
    (document.currentScript && document.currentScript.parentElement);
  if (!root || root.vaeExplorer) return;
  const spec = JSON.parse(
    root.querySelector("script.vae-explorer-spec").textContent);
  const SIZE = 280;
  const css = "font:13px sans-serif;";

  function bytes(text) {
    const raw = atob(text), out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function half(h) {  // float16 bits -> number (exact)
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
    if (e === 0) return s * f * Math.pow(2, -24);
    if (e === 31) return f ? NaN : s * Infinity;
    return s * (1 + f / 1024) * Math.pow(2, e - 15);
  }
  async function weights(text) {  // base64 deflate byte planes -> Float32
    const stream = new Blob([bytes(text)]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    const planes = new Uint8Array(await new Response(stream).arrayBuffer());
    const n = planes.length / 2, out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = half(planes[i] | (planes[n + i] << 8));
    return out;
  }
  async function network(net) {  // layers with Float32Array weights
    const values = await weights(net.weights);
    let offset = 0;
    return net.layers.map(function (layer) {
      if (layer.kind !== "linear") return layer;
      const nw = layer.in * layer.out;
      const W = values.subarray(offset, offset + nw);
      const b = values.subarray(offset + nw, offset + nw + layer.out);
      offset += nw + layer.out;
      return {kind: "linear", in: layer.in, out: layer.out, W: W, b: b};
    });
  }
  // Float32 storage between layers, as in PyTorch; sums in double.
  function forward(layers, input) {
    let x = Float32Array.from(input);
    for (const layer of layers) {
      if (layer.kind === "linear") {
        const y = new Float32Array(layer.out), W = layer.W, n = layer.in;
        for (let o = 0; o < layer.out; o++) {
          let acc = layer.b[o];
          const row = o * n;
          for (let i = 0; i < n; i++) acc += W[row + i] * x[i];
          y[o] = acc;
        }
        x = y;
      } else if (layer.kind === "relu") {
        for (let i = 0; i < x.length; i++) x[i] = x[i] > 0 ? x[i] : 0;
      } else if (layer.kind === "leaky_relu") {
        for (let i = 0; i < x.length; i++)
          x[i] = x[i] >= 0 ? x[i] : layer.slope * x[i];
      } else if (layer.kind === "tanh") {
        for (let i = 0; i < x.length; i++) x[i] = Math.tanh(x[i]);
      } else if (layer.kind === "sigmoid") {
        for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
      }
    }
    return x;
  }
  function inputs(u, label) {  // plane coordinates -> [z, one-hot label]
    const p = spec.plane, d = spec.zDim, x = new Float32Array(d + spec.nClasses);
    for (let j = 0; j < d; j++)
      x[j] = p.origin[j] + u[0] * p.axes[0][j] + u[1] * p.axes[1][j];
    if (spec.nClasses) x[d + label] = 1;
    return x;
  }

  function element(tag, style, text) {
    const e = document.createElement(tag);
    if (style) e.style.cssText = style;
    if (text) e.textContent = text;
    return e;
  }
  function canvas(w, h, style) {
    const c = element("canvas", style);
    c.width = w; c.height = h;
    return c;
  }
  function scatter(s, dim) {  // offscreen canvas with the quantised points
    const c = canvas(SIZE, SIZE), g = c.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, SIZE, SIZE);
    const xy = bytes(s.xy), col = bytes(s.colors);
    g.globalAlpha = 0.55;
    for (let i = 0; i < col.length; i++) {
      const faded = dim !== null && col[i] !== dim;
      g.fillStyle = faded ? "#d8d8d8" : s.palette[col[i]];
      const px = (xy[2 * i] / 255) * (SIZE - 1);
      const py = (1 - xy[2 * i + 1] / 255) * (SIZE - 1);
      g.fillRect(px - 1, py - 1, 2, 2);
    }
    g.globalAlpha = 1;
    return c;
  }
  function toPixel(box, x, y) {
    return [(x - box[0]) / (box[1] - box[0]) * SIZE,
            (1 - (y - box[2]) / (box[3] - box[2])) * SIZE];
  }

  const box = spec.map.box, lo = spec.plane.range[0], hi = spec.plane.range[1];
  const ui = element("div", "display:none;padding:8px 0 12px;" + css);
  const row = element("div", "display:flex;flex-wrap:wrap;gap:16px;" +
                      "align-items:flex-start;");
  const map = canvas(SIZE, SIZE, "border:1px solid #bbb;cursor:crosshair;" +
                     "touch-action:none;");
  map.tabIndex = 0;
  map.setAttribute("role", "slider");
  map.setAttribute("aria-label", "latent point: drag, or use the arrow keys");
  const image = spec.mode === "image" ?
    canvas(spec.image.width, spec.image.height,
           "width:" + 6 * spec.image.width + "px;image-rendering:pixelated;" +
           "border:1px solid #bbb;") : null;
  const dataCanvas = spec.mode === "point" ?
    canvas(SIZE, SIZE, "border:1px solid #bbb;cursor:pointer;") : null;
  const readout = element("div", "margin-top:6px;" + css);
  const labelRow = element("div", "margin-top:6px;");
  if (spec.title)
    ui.appendChild(element("div", "font-weight:bold;margin-bottom:6px;", spec.title));
  const left = element("div");
  left.appendChild(map);
  left.appendChild(element("div", css, "latent plane: " + spec.plane.names[0] +
    " across, " + spec.plane.names[1] + " up, from " + lo + " to " + hi));
  row.appendChild(left);
  const right = element("div");
  right.appendChild(image || dataCanvas);
  right.appendChild(element("div", css, image ? "decoded image (pixel means)" :
    "data space: decoded point (red)" +
    (spec.encoder ? "; click a point for its posterior" : "")));
  row.appendChild(right);
  ui.appendChild(row);
  ui.appendChild(labelRow);
  ui.appendChild(readout);
  root.appendChild(ui);

  const state = {u: [0, 0], label: 0, output: null, ms: null, times: [],
                 picked: null, ellipse: null, checkError: null};
  let layers = null, encoder = null, background = null, dataBackground = null;

  function drawMap() {
    const g = map.getContext("2d");
    g.drawImage(background, 0, 0);
    g.strokeStyle = "#888"; g.lineWidth = 1;
    const o = toPixel(box, 0, 0);
    g.beginPath(); g.moveTo(o[0], 0); g.lineTo(o[0], SIZE);
    g.moveTo(0, o[1]); g.lineTo(SIZE, o[1]); g.stroke();
    if (state.ellipse) {
      const e = state.ellipse, c = toPixel(box, e[0], e[1]);
      const sx = SIZE / (box[1] - box[0]), sy = SIZE / (box[3] - box[2]);
      g.strokeStyle = "#000"; g.lineWidth = 2;
      g.beginPath();
      g.ellipse(c[0], c[1], 2 * e[2] * sx, 2 * e[3] * sy, 0, 0, 2 * Math.PI);
      g.stroke();
    }
    const p = toPixel(box, state.u[0], state.u[1]);
    g.strokeStyle = "#000"; g.lineWidth = 2;
    g.beginPath(); g.arc(p[0], p[1], 7, 0, 2 * Math.PI); g.stroke();
    g.beginPath(); g.moveTo(p[0] - 11, p[1]); g.lineTo(p[0] + 11, p[1]);
    g.moveTo(p[0], p[1] - 11); g.lineTo(p[0], p[1] + 11); g.stroke();
  }
  function drawImage(out) {
    const g = image.getContext("2d");
    const pixels = g.createImageData(image.width, image.height);
    for (let i = 0; i < out.length; i++) {
      const v = out[i] * 255;  // Uint8ClampedArray rounds and clamps
      pixels.data[4 * i] = v; pixels.data[4 * i + 1] = v;
      pixels.data[4 * i + 2] = v; pixels.data[4 * i + 3] = 255;
    }
    g.putImageData(pixels, 0, 0);
  }
  function drawPoint(out) {
    const g = dataCanvas.getContext("2d"), dbox = spec.data.box;
    g.drawImage(dataBackground, 0, 0);
    if (state.picked) {
      const q = toPixel(dbox, state.picked[0], state.picked[1]);
      g.strokeStyle = "#000"; g.lineWidth = 2;
      g.beginPath(); g.moveTo(q[0] - 6, q[1] - 6); g.lineTo(q[0] + 6, q[1] + 6);
      g.moveTo(q[0] - 6, q[1] + 6); g.lineTo(q[0] + 6, q[1] - 6); g.stroke();
    }
    const p = toPixel(dbox, out[0], out[1]);
    g.fillStyle = "#ff0000"; g.strokeStyle = "#000"; g.lineWidth = 1.5;
    g.beginPath(); g.arc(p[0], p[1], 6, 0, 2 * Math.PI); g.fill(); g.stroke();
  }
  function render() {  // the one path that pointer, keys and API all take
    const t0 = performance.now();
    const out = forward(layers, inputs(state.u, state.label));
    if (image) drawImage(out); else drawPoint(out);
    drawMap();
    const ms = performance.now() - t0;
    state.output = Array.from(out); state.ms = ms; state.times.push(ms);
    readout.textContent = spec.plane.names[0] + " = " + state.u[0].toFixed(2) +
      ", " + spec.plane.names[1] + " = " + state.u[1].toFixed(2) +
      (spec.nClasses ? ", label " + state.label : "") +
      (image ? "" : "; decoded point (" + out[0].toFixed(3) + ", " +
       out[1].toFixed(3) + ")") + "; drawn in " + ms.toFixed(2) + " ms";
    return {u: state.u.slice(), label: state.label, output: state.output, ms: ms};
  }
  function moveTo(u1, u2) {
    state.u = [Math.min(hi, Math.max(lo, u1)), Math.min(hi, Math.max(lo, u2))];
    return render();
  }
  function setLabel(y) {
    state.label = y;
    background = scatter(spec.map, spec.map.labels ? y : null);
    labelRow.querySelectorAll("button").forEach(function (b, i) {
      b.style.fontWeight = i === y ? "bold" : "normal";
      b.style.background = i === y ? "#ddd" : "";
    });
    return render();
  }
  function pick(x1, x2) {  // posterior of a data point: ellipse, z = mean
    const out = forward(encoder, [x1, x2].concat(
      new Array(spec.encoder.in - 2).fill(0)));
    state.picked = [x1, x2];
    state.ellipse = [out[0], out[1], Math.exp(out[2] / 2), Math.exp(out[3] / 2)];
    return moveTo(out[0], out[1]);
  }
  function fromPixel(b, c, event) {
    const r = c.getBoundingClientRect();  // content box: inside the border
    const fx = (event.clientX - r.left - c.clientLeft) / c.clientWidth;
    const fy = (event.clientY - r.top - c.clientTop) / c.clientHeight;
    return [b[0] + fx * (b[1] - b[0]), b[3] - fy * (b[3] - b[2])];
  }
  function selfCheck() {  // the export must reproduce the float32 decoder
    const c = spec.check, n = c.u.length, ref = c.bytes ? bytes(c.bytes) : null;
    let worst = 0;
    for (let k = 0; k < n; k++) {
      const out = forward(layers, inputs(c.u[k], c.labels[k]));
      for (let i = 0; i < out.length; i++) {
        const d = ref ? Math.abs(Math.round(out[i] * 255) - ref[k * out.length + i])
                      : Math.abs(out[i] - c.values[k][i]);
        worst = Math.max(worst, d);
      }
    }
    return worst <= c.tol ? null : "largest difference " + worst +
      (ref ? "/255" : " data units") + " (allowed " + c.tol + ")";
  }

  async function start() {
    if (typeof DecompressionStream === "undefined") {
      root.appendChild(element("p", css, "This browser cannot unpack the " +
        "explorer's weights (no DecompressionStream)."));
      return;
    }
    layers = await network(spec.net);
    if (spec.encoder) encoder = await network(spec.encoder);
    if (dataCanvas) dataBackground = scatter(spec.data, null);
    background = scatter(spec.map, null);
    state.checkError = selfCheck();
    if (state.checkError) {
      const message = "VAE explorer: the exported weights do not reproduce " +
        "the decoder they came from (" + state.checkError + "); the export " +
        "is broken.";
      root.appendChild(element("p", "color:#b00;font-weight:bold;", message));
      console.error(message);
    }
    if (spec.nClasses) {
      labelRow.appendChild(element("span", css, "label: "));
      for (let y = 0; y < spec.nClasses; y++) {
        const b = element("button", "margin:0 2px;min-width:28px;", String(y));
        b.addEventListener("click", function () { setLabel(y); });
        labelRow.appendChild(b);
      }
    }
    let dragging = false;
    map.addEventListener("pointerdown", function (e) {
      dragging = true; map.setPointerCapture(e.pointerId);
      const u = fromPixel(box, map, e); moveTo(u[0], u[1]);
    });
    map.addEventListener("pointermove", function (e) {
      if (!dragging) return;
      const u = fromPixel(box, map, e); moveTo(u[0], u[1]);
    });
    map.addEventListener("pointerup", function () { dragging = false; });
    map.addEventListener("keydown", function (e) {
      const step = (hi - lo) / 60 * (e.shiftKey ? 5 : 1);
      const moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0],
                     ArrowUp: [0, step], ArrowDown: [0, -step]};
      if (moves[e.key]) {
        e.preventDefault();
        moveTo(state.u[0] + moves[e.key][0], state.u[1] + moves[e.key][1]);
      } else if (spec.nClasses && /^[0-9]$/.test(e.key) &&
                 Number(e.key) < spec.nClasses) {
        setLabel(Number(e.key));
      }
    });
    if (dataCanvas && encoder) {
      dataCanvas.addEventListener("pointerdown", function (e) {
        const x = fromPixel(spec.data.box, dataCanvas, e); pick(x[0], x[1]);
      });
    }
    ui.style.display = "block";
    setLabel(0);
  }
  root.vaeExplorer = {spec: spec, state: state, moveTo: moveTo,
                      setLabel: setLabel,
                      pick: function (x1, x2) { return pick(x1, x2); },
                      imageCanvas: image, dataCanvas: dataCanvas, mapCanvas: map};
  root.vaeExplorer.ready = start().catch(function (error) {
    console.error("VAE explorer failed to start: " + error);
    throw error;
  });
})();
"""
