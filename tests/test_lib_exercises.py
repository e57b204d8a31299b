"""The checker framework (vae_lib/exercises/_core.py), on throwaway checkers.

The checkers registered here live only for one test: the fixture ``registry``
gives ``_core._CHECKERS`` a copy of the book's registry for the test and puts
the original back afterwards, so no test label leaks into ``checkers()``.
"""

import pytest
import torch

from vae_lib.exercises import Case, CheckResult, _core, check, checker, checkers

SUM = "test-ex-scaled-sum"
PAIR = "test-ex-mean-std"
VALUE = "test-ex-value"

ROW = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
ONES = torch.ones(2, 4, dtype=torch.float64)


def scaled_sum(x, scale):
    """The right answer: scale * x summed over the last dimension, (B, D) -> (B,)."""
    return (scale * x).sum(dim=-1)


def mean_std(x):
    """The right answer to the pair exercise: the mean and the (biased) standard deviation."""
    return x.mean(), x.std(correction=0)


def _sum_cases():
    return [
        Case("a plain row", (ROW, 2.0), expected=torch.tensor([12.0], dtype=torch.float64)),
        Case("a negative scale", (ROW, -0.5), expected=torch.tensor([-3.0], dtype=torch.float64)),
        Case("sum, not mean", (ONES, 1.0), expected=torch.full((2,), 4.0, dtype=torch.float64)),
    ]


def _pair_cases():
    x = torch.tensor([1.0, 3.0], dtype=torch.float64)
    return [Case("two numbers", (x,), expected=(torch.tensor(2.0), torch.tensor(1.0)))]


def _value_cases():
    return [Case("the output width", expected=28)]


@pytest.fixture
def registry(monkeypatch):
    """Three throwaway checkers, registered through ``@checker`` on a copy of the registry."""
    monkeypatch.setattr(_core, "_CHECKERS", dict(_core._CHECKERS))
    checker(SUM)(_sum_cases)
    checker(PAIR)(_pair_cases)
    checker(VALUE)(_value_cases)
    return _core._CHECKERS


def _stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


def test_a_right_function_passes_and_says_so(registry, capsys):
    result = check(SUM, scaled_sum)
    assert isinstance(result, CheckResult)
    assert result.passed and result.attempted and result.case is None and bool(result)
    assert capsys.readouterr().out == f"{SUM}: all 3 cases pass.\n"


def test_quiet_prints_nothing(registry, capsys):
    assert check(SUM, scaled_sum, quiet=True).passed
    assert capsys.readouterr().out == ""


def test_a_float32_answer_to_float64_cases_passes(registry):
    assert check(SUM, lambda x, scale: scaled_sum(x.float(), scale), quiet=True).passed


@pytest.mark.parametrize("stub", [_stub, ...], ids=["raises-NotImplementedError", "ellipsis"])
def test_the_untouched_stub_is_not_attempted_and_raises_nothing(registry, capsys, stub):
    result = check(SUM, stub)
    assert not result.passed and not result.attempted and result.case is None
    assert not result
    assert "not attempted yet" in capsys.readouterr().out


def test_a_value_answer_still_holding_ellipsis_is_not_attempted(registry, capsys):
    result = check(VALUE, ...)
    assert (result.passed, result.attempted) == (False, False)
    assert capsys.readouterr().out.startswith(f"{VALUE}: not attempted yet")


def test_a_wrong_value_fails_on_the_first_case_that_differs(registry, capsys):
    # abs(scale): right on "a plain row", wrong on "a negative scale" and after.
    result = check(SUM, lambda x, scale: scaled_sum(x, abs(scale)))
    assert (result.passed, result.attempted, result.case) == (False, True, "a negative scale")
    out = capsys.readouterr().out
    assert out == result.message + "\n"
    lines = out.splitlines()
    assert lines[0] == f"{SUM}: the case 'a negative scale' fails."
    assert lines[1] == "  inputs:   tensor of shape (1, 3) [1, 2, 3], -0.5"
    assert lines[2] == "  expected: tensor of shape (1,) [-3]"
    assert lines[3] == "  got      tensor of shape (1,) [3]"
    assert "sum, not mean" not in out, "the check must stop at the first failed case"


def test_a_later_mistake_is_reported_on_its_own_case(registry):
    result = check(SUM, lambda x, scale: (scale * x).mean(dim=-1) * 3, quiet=True)
    assert result.case == "sum, not mean"
    assert "tensor of shape (2,) [3, 3]" in result.message


def test_the_tolerance_is_the_cases(registry):
    close = check(SUM, lambda x, scale: scaled_sum(x, scale) * (1 + 1e-6), quiet=True)
    assert close.passed
    far = check(SUM, lambda x, scale: scaled_sum(x, scale) * (1 + 1e-2), quiet=True)
    assert far.case == "a plain row"


def test_a_wrong_shape_is_reported(registry):
    result = check(SUM, lambda x, scale: (scale * x).sum(dim=-1, keepdim=True), quiet=True)
    assert (result.passed, result.attempted, result.case) == (False, True, "a plain row")
    assert "got shape (1, 1), expected shape (1,)" in result.message


def test_a_non_tensor_where_a_tensor_is_expected_is_reported(registry):
    result = check(SUM, lambda x, scale: scaled_sum(x, scale).tolist(), quiet=True)
    assert (result.passed, result.case) == (False, "a plain row")
    assert "got (12), but a tensor was expected" in result.message


@pytest.mark.parametrize(
    "answer",
    [lambda x: x.mean(), lambda x: (x.mean(), x.std(), x.var())],
    ids=["one-value", "three-values"],
)
def test_a_tuple_of_the_wrong_length_is_reported(registry, answer):
    result = check(PAIR, answer, quiet=True)
    assert (result.passed, result.attempted, result.case) == (False, True, "two numbers")
    assert "but a tuple of 2 values was expected" in result.message


def test_a_wrong_item_of_a_tuple_is_named(registry):
    right = check(PAIR, mean_std, quiet=True)
    assert right.passed, right.message
    result = check(PAIR, lambda x: (x.mean(), x.std()), quiet=True)  # unbiased: sqrt(2)
    assert result.case == "two numbers"
    assert "item 1: got      tensor of shape () [1.414]" in result.message


def test_an_exception_in_the_learners_function_is_reported_not_raised(registry, capsys):
    result = check(SUM, lambda x, scale: x.sum(dim=3) * scale)
    assert (result.passed, result.attempted, result.case) == (False, True, "a plain row")
    assert "it raised IndexError: " in result.message
    assert "the case 'a plain row' fails" in capsys.readouterr().out


def test_an_unknown_label_raises_key_error_naming_the_known_ones(registry):
    with pytest.raises(KeyError) as error:
        check("test-ex-no-such-exercise", scaled_sum)
    message = error.value.args[0]
    assert "test-ex-no-such-exercise" in message
    assert all(label in message for label in (SUM, PAIR, VALUE))
    assert all(label in message for label in checkers())


def test_a_value_answer_is_compared(registry, capsys):
    assert check(VALUE, 28).passed
    assert capsys.readouterr().out.startswith(f"{VALUE}: its one case passes")
    wrong = check(VALUE, 27, quiet=True)
    assert (wrong.passed, wrong.attempted, wrong.case) == (False, True, "the output width")
    assert "expected: 28" in wrong.message and "got      27" in wrong.message
    words = check(VALUE, "twenty-eight", quiet=True)
    assert "but a number was expected" in words.message


def test_registering_a_label_twice_raises(registry):
    with pytest.raises(ValueError, match=SUM):
        checker(SUM)(_sum_cases)
    assert registry[SUM] is _sum_cases


def test_the_registry_lists_the_test_labels_only_inside_the_test(registry):
    assert {SUM, PAIR, VALUE} <= set(checkers())
    assert checkers() == sorted(checkers())


def test_no_test_label_leaks_into_the_books_registry():
    """Runs without the fixture: the labels registered above are gone again."""
    assert not [label for label in checkers() if label.startswith("test-ex-")]
