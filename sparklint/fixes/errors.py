"""Why a fix could not be made: one line, shown as a warning."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

T = TypeVar("T")


class FixError(Exception):
    """A fix that cannot be applied to the file as it is now; the message says why."""


def as_fix_error(method: Callable[..., T]) -> Callable[..., T]:
    """Code nested deeper than even a deep stack allows is a fix that cannot be made, not a crash."""

    @functools.wraps(method)
    def guarded(*args, **kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except RecursionError:
            raise FixError("the code is nested too deeply to fix") from None

    return guarded
