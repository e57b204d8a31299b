"""The machinery behind ``vl.exercises.check``: cases, comparison and the report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

_CHECKERS: dict[str, Callable[[], list]] = {}


@dataclass
class Case:
    """One input to the learner's function and the value a right answer gives.

    name: what the case is built to catch, e.g. "sign of the KL".
    args, kwargs: what the learner's function is called with.
    expected: the reference value (a number, a tensor, or a tuple of them).
    rtol, atol: the tolerance of the comparison (torch.allclose's meaning).
    """

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    rtol: float = 1e-4
    atol: float = 1e-6


@dataclass
class CheckResult:
    """What ``check`` found: passed (bool), attempted (bool), the failed case's name, a message."""

    label: str
    passed: bool
    attempted: bool
    case: str | None
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Show nothing when a cell ends with ``check(...)``: it has printed its message."""


def checker(label: str):
    """Register ``make_cases() -> list[Case]`` as the checker of exercise ``label``."""

    def register(make_cases: Callable[[], list]) -> Callable[[], list]:
        if label in _CHECKERS:
            raise ValueError(f"two checkers for the exercise {label!r}.")
        _CHECKERS[label] = make_cases
        return make_cases

    return register


def checkers() -> list[str]:
    """The labels of every exercise that has a checker."""
    return sorted(_CHECKERS)


def check(label: str, fn, *, quiet: bool = False) -> CheckResult:
    """Run ``fn`` on the cases of exercise ``label``; print and return what it found.

    fn: your function, or for an exercise whose answer is a value, the value
    (``...`` while not attempted).

    A wrong value, a wrong shape or an exception in ``fn`` fails the case and
    stops the check there; ``NotImplementedError`` (the untouched attempt cell)
    means "not attempted yet". Nothing is raised either way.
    """
    if label not in _CHECKERS:
        known = ", ".join(checkers())
        raise KeyError(f"no checker for the exercise {label!r}; the checkers are: {known}.")
    if fn is Ellipsis:  # an answer cell still holding `answer = ...`
        fn = _not_attempted
    elif not callable(fn):  # an answer that is a value, not a function
        fn = _constant(fn)
    cases = _CHECKERS[label]()
    result = _run(label, fn, cases)
    if not quiet:
        print(result.message)
    return result


def _not_attempted(*args, **kwargs):
    raise NotImplementedError


def _constant(value):
    def answer(*args, **kwargs):
        return value

    return answer


def _run(label: str, fn: Callable, cases: list) -> CheckResult:
    for case in cases:
        try:
            got = fn(*case.args, **case.kwargs)
        except NotImplementedError:
            return CheckResult(
                label,
                False,
                False,
                None,
                f"{label}: not attempted yet. Write your code in place of "
                "`raise NotImplementedError` (or `...`), then run the cell again.",
            )
        except Exception as error:  # the learner's code failed: report, do not raise
            return _failed(label, case, f"it raised {type(error).__name__}: {error}")
        problem = _compare(got, case.expected, case.rtol, case.atol)
        if problem:
            return _failed(label, case, problem)
    passed = "its one case passes" if len(cases) == 1 else f"all {len(cases)} cases pass"
    return CheckResult(label, True, True, None, f"{label}: {passed}.")


def _failed(label: str, case: Case, problem: str) -> CheckResult:
    inputs = ", ".join(
        [_show(a) for a in case.args] + [f"{k}={_show(v)}" for k, v in case.kwargs.items()]
    )
    message = f"{label}: the case '{case.name}' fails.\n"
    if inputs:  # an answer that is a value has none
        message += f"  inputs:   {inputs}\n"
    message += f"  expected: {_show(case.expected)}\n  {problem}"
    return CheckResult(label, False, True, case.name, message)


def _compare(got, expected, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``expected``; otherwise what differs, in words."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"got {_show(got)}, but a tuple of {len(expected)} values was expected"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _compare(g, e, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"got {_show(got)}, but a tensor was expected"
        if got.shape != expected.shape:
            return f"got shape {tuple(got.shape)}, expected shape {tuple(expected.shape)}"
        if not torch.allclose(got.double(), expected.double(), rtol=rtol, atol=atol):
            return f"got      {_show(got)}"
        return None
    if isinstance(expected, (bool, str)) or expected is None:
        return None if got == expected else f"got      {_show(got)}"
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"got {_show(got)}, but a number was expected"
    if not math.isclose(value, float(expected), rel_tol=rtol, abs_tol=atol):
        return f"got      {_show(got)}"
    return None


def _show(value, digits: int = 4) -> str:
    """A short text form of a value: tensors show shape and up to 6 numbers."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().flatten().double()
        numbers = ", ".join(f"{v:.{digits}g}" for v in flat[:6].tolist())
        more = ", ..." if flat.numel() > 6 else ""
        return f"tensor of shape {tuple(value.shape)} [{numbers}{more}]"
    if isinstance(value, float):
        return f"{value:.{digits + 2}g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v, digits) for v in value) + ")"
    return repr(value)
