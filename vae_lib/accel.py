"""Faster training steps: a fused optimiser, torch.compile and bfloat16.

``fit`` uses these; each one falls back to the plain path, with a warning
where the reader asked for it, when the installed torch or the device does
not support it (an old torch, Apple MPS, Windows without a C++ compiler).

* ``adam(params, lr)``: Adam with ``fused=True`` where torch supports it (one
  kernel for the whole update instead of a dozen per parameter); the
  arithmetic is Adam's, so results agree with the plain Adam to float32
  rounding.
* ``bf16_supported(device)``: whether bfloat16 autocast pays off there (CUDA
  with bf16, or a CPU with AVX-512 BF16 or AMX).
* ``CompiledLoss``: ``torch.compile`` of a loss function that reverts to the
  eager function, with a warning, if compiling fails on its first call.
"""

from __future__ import annotations

import logging
import warnings
from typing import Callable

import torch


def adam(params, lr: float = 1e-3) -> torch.optim.Optimizer:
    """torch.optim.Adam(params, lr), fused where this torch and device allow it."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        # torch < 2.4 on the CPU, or a device without a fused kernel.
        return torch.optim.Adam(params, lr=lr)


def is_fused(optimizer: torch.optim.Optimizer) -> bool:
    """True when every parameter group of ``optimizer`` uses the fused kernel."""
    return all(bool(group.get("fused")) for group in optimizer.param_groups)


def bf16_supported(device: torch.device | str) -> bool:
    """True where bfloat16 autocast runs on native bf16 units of ``device``.

    CUDA: ``torch.cuda.is_bf16_supported()``. CPU: AVX-512 BF16 or AMX, as
    torch's oneDNN reports it. Anything else (MPS, an unknown CPU): False.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        try:
            return bool(probe()) if probe is not None else False
        except RuntimeError:
            return False
    return False


def autocast(device: torch.device, enabled: bool):
    """A bfloat16 autocast context for ``device`` (a no-op when not enabled)."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


class _NoCudaNotice(logging.Filter):
    """Drops torch's "No CUDA runtime is found, using CUDA_HOME=..." notice.

    torch.compile logs it once on machines without a GPU when its C++
    toolchain loads; it is true and irrelevant to a CPU run, and it would
    otherwise show in every notebook that compiles.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No CUDA runtime is found")


_cpp_extension_log = logging.getLogger("torch.utils.cpp_extension")
if not any(isinstance(f, _NoCudaNotice) for f in _cpp_extension_log.filters):
    _cpp_extension_log.addFilter(_NoCudaNotice())


class CompiledLoss:
    """``torch.compile(loss_fn)``, with the eager ``loss_fn`` as its fallback.

    Compiling happens on the first call. If it fails there (no C++ compiler,
    an unsupported device or torch), the failure is reported once as a
    warning naming its cause and every call, that one included, runs eagerly.
    """

    def __init__(self, loss_fn: Callable[..., dict]):
        self.loss_fn = loss_fn
        self.compiled = None
        self.failed: str | None = None
        compile_fn = getattr(torch, "compile", None)
        if compile_fn is None:
            self.failed = f"torch {torch.__version__} has no torch.compile"
        else:
            self.compiled = compile_fn(loss_fn)

    def __call__(self, model, x, y):
        if self.compiled is not None:
            try:
                return self.compiled(model, x, y)
            except Exception as error:  # any compiler failure: fall back to eager
                self.compiled = None
                self.failed = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
                warnings.warn(
                    f"torch.compile failed ({self.failed}); training continues without it.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self.loss_fn(model, x, y)
