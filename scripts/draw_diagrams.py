"""Draw the book's five conceptual diagrams as SVG files in book/_static/diagrams/.

1. vae_computation.svg: the VAE as a computation, x to encoder to (mu, sigma) to
   z = mu + sigma * eps to decoder, with the two terms of the loss.
2. graphical_model.svg: the graphical model with the inference network, after
   Kingma & Welling (2014), Figure 1.
3. conv_vae_shapes.svg: chapter 3's ConvVAE (vae_lib.models.ConvVAE with its
   default widths), layer by layer, with the tensor shape after each layer.
4. cvae_networks.svg: chapter 5's CVAE, its encoder, prior network and decoder.
5. vae_uses.svg: chapter 6's four uses of one trained VAE, each with what it
   is scored by and against.

Regenerate them after changing this script (run from the repository root):

    python scripts/draw_diagrams.py

Check that the files on disk are what this script draws (exit status 1 if
not; tests/test_diagrams.py runs this):

    python scripts/draw_diagrams.py --check

``--png DIR`` also writes a PNG copy of each diagram into DIR, for looking at.

The SVGs are reproducible byte for byte with a given matplotlib (pinned in
requirements.txt): no date in the metadata, a fixed salt for the SVG's
element ids, and text drawn as paths in matplotlib's own DejaVu Sans, so no
font on the reader's machine matters. Every diagram has an opaque white
background with dark strokes and text, so that it reads in the book's light
and dark themes; fill colours only repeat what the text already says.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.text import Text

OUT = Path(__file__).resolve().parents[1] / "book" / "_static" / "diagrams"
STYLE = {
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "font.size": 12,
    "svg.fonttype": "path",
    "svg.hashsalt": "vae-book",
    "path.simplify": False,
}
INK = "#1a1a1a"
FILL = {
    "data": "#ececec",
    "encoder": "#d4e5f7",
    "latent": "#d9efd3",
    "decoder": "#fde2c4",
    "prior": "#e6def4",
    "loss": "#f8d7dc",
    "plain": "#ffffff",
}
LW = 1.4


# --- drawing primitives (one unit of the axes is one inch of the figure) -------------------


def new_figure(width: float, height: float):
    """A white figure of width x height inches whose axes count in inches."""
    fig = Figure(figsize=(width, height), facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return fig, ax


class Box:
    """A rounded box centred at (x, y), w wide and h high, with its anchor points."""

    def __init__(self, x: float, y: float, w: float, h: float):
        self.x, self.y, self.w, self.h = x, y, w, h

    def left(self, dy: float = 0.0):
        return (self.x - self.w / 2, self.y + dy)

    def right(self, dy: float = 0.0):
        return (self.x + self.w / 2, self.y + dy)

    def top(self, dx: float = 0.0):
        return (self.x + dx, self.y + self.h / 2)

    def bottom(self, dx: float = 0.0):
        return (self.x + dx, self.y - self.h / 2)


def box(ax, x, y, w, h, text, fill="plain", lw=LW) -> Box:
    """Draw a rounded box with centred (possibly multi-line, mathtext) text."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.09",
            facecolor=FILL[fill],
            edgecolor=INK,
            linewidth=lw,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12, color=INK, linespacing=1.35)
    return Box(x, y, w, h)


def arrow(ax, *points, dashed=False):
    """An arrow along the polyline through points (two or more (x, y) pairs)."""
    path = MplPath(list(points), [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1))
    ax.add_patch(
        FancyArrowPatch(
            path=path,
            arrowstyle="-|>",
            mutation_scale=16,
            color=INK,
            linewidth=LW,
            linestyle=(0, (4, 2.5)) if dashed else "-",
            joinstyle="miter",
            capstyle="butt",
        )
    )


def curved_arrow(ax, start, end, rad, dashed=False):
    """An arrow on an arc from start to end (rad: signed curvature, as in arc3)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            connectionstyle=f"arc3,rad={rad}",
            arrowstyle="-|>",
            mutation_scale=16,
            color=INK,
            linewidth=LW,
            linestyle=(0, (4, 2.5)) if dashed else "-",
            shrinkA=0,
            shrinkB=0,
        )
    )


def notes(ax, lines, x=0.25, y_bottom=0.25, gap=0.3):
    """Lines of small explanatory text, left-aligned, the last one at y_bottom."""
    for i, line in enumerate(reversed(lines)):
        label(ax, x, y_bottom + i * gap, line, ha="left", size=11)


def label(ax, x, y, text, ha="center", size=12, on_white=False):
    """Free text; on_white puts it on a white patch, to interrupt a line under it."""
    bbox = {"facecolor": "white", "edgecolor": "none", "pad": 1.5} if on_white else None
    ax.text(x, y, text, ha=ha, va="center", fontsize=size, color=INK, bbox=bbox)


# --- 1. the VAE as a computation ------------------------------------------------------------


def vae_computation():
    fig, ax = new_figure(9.3, 5.0)
    x, stats, out = _vae_forward(ax, y=3.35)
    _vae_loss(ax, x, stats, out, y=1.5, line=0.75)
    label(ax, 4.65, 0.22, "loss $=$ reconstruction $+$ KL $= -$ELBO, in nats per image", size=13)
    return fig


def _vae_forward(ax, y):
    """The forward pass along one row; returns the boxes the loss terms attach to."""
    x = box(ax, 0.55, y, 0.8, 0.95, "image\n$x$", "data")
    enc = box(ax, 1.95, y, 1.55, 0.95, "encoder\n$q_\\phi(z\\mid x)$", "encoder")
    stats = box(ax, 3.5, y, 1.05, 0.95, "$\\mu_\\phi(x)$\n$\\sigma_\\phi(x)$", "encoder")
    z = box(ax, 5.1, y, 1.65, 0.95, "sample\n$z = \\mu + \\sigma \\odot \\varepsilon$", "latent")
    eps = box(ax, 5.1, y + 1.25, 1.65, 0.5, "$\\varepsilon \\sim \\mathcal{N}(0, I)$")
    dec = box(ax, 6.8, y, 1.45, 0.95, "decoder\n$p_\\theta(x\\mid z)$", "decoder")
    out = box(ax, 8.45, y, 1.3, 0.95, "Bernoulli\nlogits", "decoder")
    for a, b in [(x, enc), (enc, stats), (stats, z), (z, dec), (dec, out)]:
        arrow(ax, a.right(), b.left())
    arrow(ax, eps.bottom(), z.top())
    return x, stats, out


def _vae_loss(ax, x, stats, out, y, line):
    """The two loss terms, with dashed arrows from what each one compares."""
    prior = box(ax, 1.95, y, 1.55, 0.8, "prior\n$p(z) = \\mathcal{N}(0, I)$", "prior")
    kl_text = "KL term\n$\\mathrm{KL}(q_\\phi(z\\mid x)\\,\\|\\,p(z))$"
    kl = box(ax, 4.25, y, 2.3, 0.8, kl_text, "loss")
    rec_text = "reconstruction term\n$-\\mathbb{E}_{q_\\phi}[\\log p_\\theta(x\\mid z)]$"
    rec = box(ax, 7.45, y, 2.75, 0.8, rec_text, "loss")
    arrow(ax, stats.bottom(), (stats.x, kl.top()[1]), dashed=True)
    arrow(ax, prior.right(), kl.left(), dashed=True)
    arrow(ax, out.bottom(), (out.x, rec.top()[1]), dashed=True)
    corner = rec.x - 0.6
    arrow(ax, x.bottom(), (x.x, line), (corner, line), (corner, rec.bottom()[1]), dashed=True)
    label(ax, kl.x, line, "the same image $x$", on_white=True)


# --- 2. the graphical model -----------------------------------------------------------------


def node(ax, x, y, text, observed):
    """A random variable: a circle, shaded if observed."""
    shade = "#b8b8b8" if observed else "white"
    ax.add_patch(Circle((x, y), 0.36, facecolor=shade, edgecolor=INK, linewidth=LW))
    label(ax, x, y, text, size=16)


def parameter(ax, x, y, text, ha):
    """A parameter: a small black dot with its symbol beside it."""
    ax.add_patch(Circle((x, y), 0.06, facecolor=INK, edgecolor=INK))
    label(ax, x + (-0.15 if ha == "right" else 0.15), y, text, ha=ha, size=16)


def graphical_model():
    fig, ax = new_figure(8.3, 4.0)
    ax.add_patch(Rectangle((1.2, 0.3), 3.2, 3.45, facecolor="none", edgecolor=INK, linewidth=LW))
    label(ax, 4.25, 0.5, "$N$", ha="right", size=15)
    zx, zy, xy = 2.9, 2.65, 1.1
    node(ax, zx, zy, "$z$", observed=False)
    node(ax, zx, xy, "$x$", observed=True)
    label(ax, zx, zy + 0.66, "$p(z) = \\mathcal{N}(0, I)$")
    arrow(ax, (zx + 0.1, zy - 0.36), (zx + 0.1, xy + 0.36))
    label(ax, zx + 0.25, (zy + xy) / 2, "$p_\\theta(x\\mid z)$", ha="left")
    curved_arrow(ax, (zx - 0.3, xy + 0.2), (zx - 0.3, zy - 0.2), rad=-0.55, dashed=True)
    label(ax, zx - 0.62, (zy + xy) / 2, "$q_\\phi(z\\mid x)$", ha="right")
    parameter(ax, 0.55, zy, "$\\phi$", ha="right")
    arrow(ax, (0.61, zy), (zx - 0.36, zy), dashed=True)
    parameter(ax, 5.1, xy, "$\\theta$", ha="left")
    arrow(ax, (5.04, xy), (zx + 0.36, xy))
    _graphical_legend(ax, 5.75)
    return fig


def _graphical_legend(ax, x0):
    for y, dashed, name, term in [
        (3.2, False, "generative model", "$p(z)\\,p_\\theta(x\\mid z)$"),
        (2.3, True, "inference network", "$q_\\phi(z\\mid x)$"),
    ]:
        arrow(ax, (x0, y), (x0 + 0.6, y), dashed=dashed)
        label(ax, x0 + 0.75, y + 0.14, name, ha="left")
        label(ax, x0 + 0.75, y - 0.2, term, ha="left")
    label(ax, x0 + 0.75, 1.5, "shaded: observed", ha="left")
    label(ax, x0 + 0.75, 1.18, "white: latent", ha="left")


# --- 3. the convolutional VAE with tensor shapes --------------------------------------------

# ConvVAE() in vae_lib/models.py: widths (32, 64, 128, 256, 512), z_dim 128, head "tanh".
# Each shape is (channels, height, width) of one image, after the layer on the arrow into it.
ENCODER_ROWS = [
    ("$x$:  (1, 28, 28)", "pad 2 pixels per side"),
    ("(1, 32, 32)", "Conv2d 3×3, stride 2"),
    ("(32, 16, 16)", "Conv2d 3×3, stride 2"),
    ("(64, 8, 8)", "Conv2d 3×3, stride 2"),
    ("(128, 4, 4)", "Conv2d 3×3, stride 2"),
    ("(256, 2, 2)", "Conv2d 3×3, stride 2"),
    ("(512, 1, 1)", "flatten"),
    ("(512,)", "Linear 512 → 256, split"),
]
DECODER_ROWS = [  # from the output (top) down to the first decoder layer's output
    ("$\\hat{x}$:  (1, 32, 32)", None),
    ("(32, 32, 32)", "Conv2d 3×3, then Tanh"),
    ("(32, 16, 16)", "ConvTranspose2d, stride 2"),
    ("(64, 8, 8)", "ConvTranspose2d, stride 2"),
    ("(128, 4, 4)", "ConvTranspose2d, stride 2"),
    ("(256, 2, 2)", "ConvTranspose2d, stride 2"),
    ("(512, 1, 1)", "ConvTranspose2d, stride 2"),
    ("(512,)", "reshape"),
]
ROW_GAP = 0.62
ROW_H = 0.4


def _shape_column(ax, cx, rows, top, fill, label_x, ha, upward):
    """Boxes of rows from top down at cx; arrows between them, labelled at label_x."""
    boxes = []
    for i, (text, _) in enumerate(rows):
        y = top - i * ROW_GAP
        first = fill if i else "data"
        boxes.append(box(ax, cx, y, 1.55, ROW_H, text, first if not upward or i else "decoder"))
    for i in range(1, len(rows)):
        above, below = boxes[i - 1], boxes[i]
        start, end = (below.top(), above.bottom()) if upward else (above.bottom(), below.top())
        arrow(ax, start, end)
        note = rows[i][1] if upward else rows[i - 1][1]
        label(ax, label_x, (above.y + below.y) / 2, note, ha=ha, size=11)
    return boxes


def conv_vae_shapes():
    fig, ax = new_figure(9.2, 9.0)
    top, left_x, right_x = 7.75, 2.85, 6.1
    label(ax, 4.6, 8.7, "ConvVAE(widths=(32, 64, 128, 256, 512), z_dim=128)", size=13)
    label(ax, left_x, 8.25, "encoder $q_\\phi(z\\mid x)$")
    label(ax, right_x, 8.25, "decoder $p_\\theta(x\\mid z)$")
    enc = _shape_column(ax, left_x, ENCODER_ROWS, top, "encoder", 1.95, "right", upward=False)
    dec = _shape_column(ax, right_x, DECODER_ROWS, top, "decoder", 7.0, "left", upward=True)
    _conv_latent(ax, enc[-1], dec[-1])
    notes(
        ax,
        [
            "Every Conv2d and ConvTranspose2d is 3×3 with padding 1; all but the last are",
            'followed by BatchNorm2d and LeakyReLU. With head="logits" the Tanh is left out.',
            "Shapes are (channels, height, width) of one image; a batch adds a leading B.",
        ],
    )
    return fig


def _conv_latent(ax, flat, dec_flat):
    """mu and log sigma^2 under the encoder, z between the columns, into the decoder."""
    y8, y9 = flat.y - 0.8, flat.y - 1.7
    mu = box(ax, 2.35, y8, 1.1, ROW_H, "$\\mu$:  (128,)", "encoder")
    logvar = box(ax, 3.75, y8, 1.45, ROW_H, "$\\log\\sigma^2$:  (128,)", "encoder")
    arrow(ax, flat.bottom(-0.3), mu.top())
    arrow(ax, flat.bottom(0.3), logvar.top(-0.3))
    label(ax, 1.95, (flat.y + y8) / 2, "Linear 512 → 256, split", ha="right", size=11)
    z = box(ax, 3.45, y9, 2.3, 0.5, "$z = \\mu + \\sigma \\odot \\varepsilon$:  (128,)", "latent")
    eps = box(ax, 1.1, y9, 1.6, 0.5, "$\\varepsilon \\sim \\mathcal{N}(0, I)$")
    arrow(ax, mu.bottom(), (mu.x, z.top()[1]))
    arrow(ax, logvar.bottom(0.3), (logvar.x + 0.3, z.top()[1]))
    arrow(ax, eps.right(), z.left())
    arrow(ax, z.right(), (dec_flat.x, z.y), dec_flat.bottom())
    label(ax, dec_flat.x + 0.15, y8, "Linear 128 → 512", ha="left", size=11)


# --- 4. the CVAE's three networks -----------------------------------------------------------

THICK = 2.8
"""Outline of the boxes that generating a digit uses."""


def cvae_networks():
    fig, ax = new_figure(9.2, 6.1)
    b = _cvae_boxes(ax, top=5.3, mid=3.85, low=2.4)
    _cvae_arrows(ax, b, bottom_line=1.4)
    notes(
        ax,
        [
            "Training: $z = \\mu_\\phi + \\sigma_\\phi \\odot \\varepsilon$.   Generation: "
            "$z = \\mu_\\psi + \\sigma_\\psi \\odot \\varepsilon$.   Both: "
            "$\\varepsilon \\sim \\mathcal{N}(0, I)$.",
            "Thick outline: what generating a digit of label $y$ uses (not the encoder).",
            "Dashed arrows: the two Gaussians that the KL term compares.",
        ],
    )
    return fig


def _cvae_boxes(ax, top, mid, low):
    """The boxes of the CVAE diagram, by name."""
    encoder_text = "encoder\n$q_\\phi(z\\mid x, y)$\n794 → 256 → 20"
    prior_text = "prior network\n$p_\\psi(z\\mid y)$\n10 → 256 → 20"
    decoder_text = "decoder\n$p_\\theta(x\\mid z, y)$\n20 → 256 → 784"
    kl_text = "KL term\n$\\mathrm{KL}(q_\\phi(z\\mid x, y)\\,\\|\\,p_\\psi(z\\mid y))$"
    return {
        "x": box(ax, 0.75, top, 1.25, 0.85, "image $x$\n(1, 28, 28)", "data"),
        "y": box(ax, 0.75, mid, 1.25, 0.85, "label $y$\none-hot, 10", "data", lw=THICK),
        "enc": box(ax, 2.65, top, 1.9, 1.05, encoder_text, "encoder"),
        "prior": box(ax, 2.65, low, 1.9, 1.05, prior_text, "prior", lw=THICK),
        "q": box(ax, 4.6, top, 1.2, 0.85, "$\\mu_\\phi, \\sigma_\\phi$\n(10,) each", "encoder"),
        "p": box(
            ax, 4.6, low, 1.2, 0.85, "$\\mu_\\psi, \\sigma_\\psi$\n(10,) each", "prior", lw=THICK
        ),
        "kl": box(ax, 4.6, mid, 2.75, 0.8, kl_text, "loss"),
        "z": box(ax, 6.6, mid, 0.8, 0.85, "$z$\n(10,)", "latent", lw=THICK),
        "dec": box(ax, 8.2, mid, 1.75, 1.05, decoder_text, "decoder", lw=THICK),
        "out": box(ax, 8.2, top, 1.75, 0.85, "Bernoulli logits\n(1, 28, 28)", "decoder", lw=THICK),
    }


def _cvae_arrows(ax, b, bottom_line):
    """The arrows between the boxes b of the CVAE diagram."""
    x, y, enc, prior, q, p, kl, z, dec, out = (
        b[k] for k in ("x", "y", "enc", "prior", "q", "p", "kl", "z", "dec", "out")
    )
    arrow(ax, x.right(), enc.left())
    arrow(ax, y.right(), (enc.x, y.y), enc.bottom())
    arrow(ax, y.right(), (prior.x, y.y), prior.top())
    arrow(ax, y.bottom(), (y.x, bottom_line), (dec.x, bottom_line), dec.bottom())
    label(ax, 4.6, bottom_line, "the same label $y$", on_white=True)
    arrow(ax, enc.right(), q.left())
    arrow(ax, prior.right(), p.left())
    arrow(ax, q.bottom(), kl.top(), dashed=True)
    arrow(ax, p.top(), kl.bottom(), dashed=True)
    arrow(ax, q.right(), (z.x, q.y), z.top())
    arrow(ax, p.right(), (z.x, p.y), z.bottom())
    label(ax, z.x + 0.15, (q.y + z.y) / 2 + 0.1, "training", ha="left", size=11)
    label(ax, z.x + 0.15, (p.y + z.y) / 2 - 0.1, "generation", ha="left", size=11)
    arrow(ax, z.right(), dec.left())
    arrow(ax, dec.top(), out.bottom())


# --- 5. one VAE, four uses -------------------------------------------------------------------

USES = [
    # (use, input, model path, output, scored by / against)
    (
        "removing noise",
        "corrupted $\\tilde x$",
        "encoder → $\\mu_\\phi(\\tilde x)$ → decoder",
        "restored image",
        "PSNR, classifier\nvs. a denoising AE",
    ),
    (
        "anomaly detection",
        "image $x$",
        "IW bound on $-\\log p_\\theta(x)$",
        "anomaly score",
        "AUROC\nvs. an AE's error",
    ),
    (
        "semi-supervised",
        "image $x$",
        "encoder → $\\mu_\\phi(x)$ → classifier",
        "digit label",
        "test accuracy\nvs. pixels",
    ),
    (
        "generation",
        "$z \\sim \\mathcal{N}(0, I)$",
        "decoder $p_\\theta(x\\mid z)$",
        "new image",
        "classifier's confidence\nvs. real digits",
    ),
]


def vae_uses():
    fig, ax = new_figure(10.4, 5.0)
    label(ax, 0.95, 4.65, "use", size=11)
    label(ax, 4.25, 4.65, "the trained VAE", size=11)
    label(ax, 9.05, 4.65, "scored by / against", size=11)
    for i, (use, given, path, result, score) in enumerate(USES):
        y = 3.9 - 1.05 * i
        label(ax, 0.95, y, use, size=11)
        inp = box(ax, 2.65, y, 1.45, 0.7, given, "data")
        mid = box(ax, 4.95, y, 2.75, 0.7, path, "latent")
        out = box(ax, 7.35, y, 1.45, 0.7, result, "decoder")
        arrow(ax, inp.right(), mid.left())
        arrow(ax, mid.right(), out.left())
        label(ax, 9.1, y, score, size=10)
    return fig


# --- writing and checking -------------------------------------------------------------------

DIAGRAMS = {
    "vae_computation.svg": (vae_computation, "The VAE as a computation"),
    "graphical_model.svg": (graphical_model, "The VAE's graphical model"),
    "conv_vae_shapes.svg": (conv_vae_shapes, "Chapter 3's ConvVAE with its tensor shapes"),
    "cvae_networks.svg": (cvae_networks, "Chapter 5's CVAE: its three networks"),
    "vae_uses.svg": (vae_uses, "Chapter 6: one VAE, four uses"),
}


def layout_problems(fig) -> list[str]:
    """Texts that reach beyond the figure's edges or overlap another text."""
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    extents = [t.get_window_extent(renderer) for t in texts]
    problems = [
        f"clipped: {t.get_text()!r}"
        for t, e in zip(texts, extents)
        if e.x0 < frame.x0 or e.y0 < frame.y0 or e.x1 > frame.x1 or e.y1 > frame.y1
    ]
    for i, j in itertools.combinations(range(len(texts)), 2):
        if extents[i].overlaps(extents[j]):
            problems.append(f"overlap: {texts[i].get_text()!r} and {texts[j].get_text()!r}")
    return problems


def draw_all(folder: Path, png_folder: Path | None = None) -> list[Path]:
    """Write every diagram into folder (and a PNG copy into png_folder); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(STYLE):
        for name, (draw, title) in DIAGRAMS.items():
            fig = draw()
            problems = layout_problems(fig)
            if problems:
                raise ValueError(f"{name}: " + "; ".join(problems))
            metadata = {"Date": None, "Creator": "scripts/draw_diagrams.py", "Title": title}
            fig.savefig(folder / name, format="svg", facecolor="white", metadata=metadata)
            if png_folder is not None:
                png_folder.mkdir(parents=True, exist_ok=True)
                fig.savefig(png_folder / name.replace(".svg", ".png"), dpi=100, facecolor="white")
            written.append(folder / name)
    return written


def stale(folder: Path = OUT) -> list[str]:
    """Names of the diagrams whose file in folder differs from what this script draws."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = draw_all(Path(tmp))
        return [
            path.name
            for path in fresh
            if not (folder / path.name).is_file()
            or (folder / path.name).read_bytes() != path.read_bytes()
        ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--png", type=Path, help="also write PNG copies into this folder")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        for name in names:
            print(f"{OUT / name} differs from what {Path(__file__).name} draws", file=sys.stderr)
        if names:
            print("Run `python scripts/draw_diagrams.py` and commit the result.", file=sys.stderr)
        return 1 if names else 0
    for path in draw_all(OUT, args.png):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
