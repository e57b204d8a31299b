"""What the per-chapter checker tests share: the untouched stub and the "fails on" assert."""

from vae_lib.exercises import check


def stub(*args, **kwargs):
    """An attempt cell nobody has filled in yet."""
    raise NotImplementedError("write your code here")


def assert_fails_on(label, fn, case):
    """The checker of ``label`` rejects ``fn``, and on the case named ``case``."""
    result = check(label, fn, quiet=True)
    assert result.attempted and not result.passed, result.message
    assert result.case == case, result.message
