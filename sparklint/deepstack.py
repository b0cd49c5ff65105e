"""Running recursive work (libcst's code generation, the interpreter) on a thread with a large
stack, so that method chains thousands of calls long are analysed instead of crashing."""

from __future__ import annotations

import sys
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION_LIMIT = 60_000


def run_deep(work: Callable[[], T]) -> T:
    limit = sys.getrecursionlimit()
    previous_size = threading.stack_size()
    outcome: list = []
    failure: list[BaseException] = []

    def guarded() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # re-raised on the calling thread
            failure.append(error)

    try:
        threading.stack_size(DEEP_STACK_BYTES)
        sys.setrecursionlimit(max(limit, DEEP_RECURSION_LIMIT))
        worker = threading.Thread(target=guarded, name="sparklint-deep")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_size)
        sys.setrecursionlimit(limit)
    if failure:
        raise failure[0]
    return outcome[0]
