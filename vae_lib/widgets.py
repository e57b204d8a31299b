"""Interactive widgets (need ipywidgets; HTML readers see the static figure beside them)."""

from __future__ import annotations

import torch


def latent_explorer(decode, z_range: float = 3.0, step: float = 0.05, device=None, scale: int = 6):
    """Two sliders over a 2-D latent code and the decoded image, updated live.

    decode: maps z (1, 2) to pixel means (1, 1, H, W) in [0, 1].
    Returns the ipywidgets box; display it as the last line of a cell.
    """
    try:
        import ipywidgets as widgets
    except ImportError as error:  # pragma: no cover - depends on the reader's setup
        raise ImportError(
            "The latent explorer needs ipywidgets: pip install ipywidgets (Colab already has it)."
        ) from error
    import io

    import matplotlib.pyplot as plt

    sliders = [
        widgets.FloatSlider(
            value=0.0,
            min=-z_range,
            max=z_range,
            step=step,
            description=f"z{i + 1}",
            continuous_update=True,
        )
        for i in range(2)
    ]
    image = widgets.Image(format="png", width=28 * scale, height=28 * scale)

    @torch.no_grad()
    def redraw(_=None):
        z = torch.tensor([[s.value for s in sliders]], device=device or "cpu")
        pixels = decode(z)[0, 0].float().cpu().numpy()
        buffer = io.BytesIO()
        plt.imsave(buffer, pixels, cmap="gray", vmin=0, vmax=1, format="png")
        image.value = buffer.getvalue()

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    return widgets.HBox([widgets.VBox(sliders), image])
