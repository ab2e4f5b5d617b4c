"""The call that once destroyed a file: mypy --strict must reject it (tests/test_typing.py)."""

import zcopy


def wrong(a: int, b: int) -> int:
    return zcopy.copy(a, b)
