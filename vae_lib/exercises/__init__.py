"""Checkers for the book's code exercises: your function against cases that catch slips.

In a chapter, an exercise's attempt cell defines your function and calls

    vl.exercises.check("mlp-ex-gaussian", gaussian_decoder_nll)

which runs it on a few cases, each built so that a usual mistake (a sign
slip, a mean instead of a sum, a missing constant, log sigma for
log sigma^2) gives a wrong value there. It prints one line per outcome: that
every case passes, or which case failed, with its inputs, the value
expected and the value your function gave. While the attempt cell still
raises NotImplementedError it prints "not attempted yet" and raises nothing,
so the book runs from top to bottom before you have written anything.

Each chapter's checkers live in a module of this package (``ch1``, ``ch2``,
...), registered under the exercise's label with ``@checker(label)``;
importing them below registers them.
"""

from . import ch1, ch2, ch3, ch4, ch5, ch6, ch7  # noqa: F401
from ._core import Case, CheckResult, check, checker, checkers

__all__ = ["Case", "CheckResult", "check", "checker", "checkers"]
